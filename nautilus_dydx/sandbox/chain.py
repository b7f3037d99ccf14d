# SPDX-License-Identifier: Apache-2.0
"""The sandbox chain state machine: CheckTx validation, matching, blocks and expiry."""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

from google.protobuf.message import DecodeError

from nautilus_dydx._proto.cosmos.crypto.secp256k1 import keys_pb2
from nautilus_dydx._proto.cosmos.tx.v1beta1 import tx_pb2
from nautilus_dydx._proto.dydxprotocol.clob import order_pb2
from nautilus_dydx._proto.dydxprotocol.clob import tx_pb2 as clob_tx_pb2
from nautilus_dydx.sandbox import accountplus
from nautilus_dydx.sandbox import isolated
from nautilus_dydx.sandbox import leverage
from nautilus_dydx.sandbox import surface
from nautilus_dydx.sandbox import twap
from nautilus_dydx.sandbox.chain_errors import ChainError
from nautilus_dydx.sandbox.chain_errors import validate_subaccount_id
from nautilus_dydx.sandbox.config import MarketConfig
from nautilus_dydx.sandbox.config import SandboxConfig
from nautilus_dydx.sandbox.engine import FLAG_CONDITIONAL
from nautilus_dydx.sandbox.engine import FLAG_LONG_TERM
from nautilus_dydx.sandbox.engine import FLAG_SHORT_TERM
from nautilus_dydx.sandbox.engine import FLAG_TWAP
from nautilus_dydx.sandbox.engine import REMOVAL_REASONS
from nautilus_dydx.sandbox.engine import SIDE_BUY
from nautilus_dydx.sandbox.engine import SIDE_SELL
from nautilus_dydx.sandbox.engine import TIF_FILL_OR_KILL
from nautilus_dydx.sandbox.engine import TIF_IOC
from nautilus_dydx.sandbox.engine import TIF_POST_ONLY
from nautilus_dydx.sandbox.engine import Book
from nautilus_dydx.sandbox.engine import Margin
from nautilus_dydx.sandbox.engine import Order
from nautilus_dydx.sandbox.engine import OrderKey
from nautilus_dydx.sandbox.engine import Position
from nautilus_dydx.sandbox.engine import Subaccount
from nautilus_dydx.sandbox.engine import SubaccountKey
from nautilus_dydx.sandbox.engine import quote_quantums
from nautilus_dydx.sandbox.events import BalanceEvent
from nautilus_dydx.sandbox.events import BlockEvent
from nautilus_dydx.sandbox.events import EventBus
from nautilus_dydx.sandbox.events import FillEvent
from nautilus_dydx.sandbox.events import MemclobEvent
from nautilus_dydx.sandbox.events import OraclePriceEvent
from nautilus_dydx.sandbox.events import OrderPlacedEvent
from nautilus_dydx.sandbox.events import OrderRemovedEvent
from nautilus_dydx.sandbox.events import OrderUpdatedEvent
from nautilus_dydx.sandbox.events import PositionEvent
from nautilus_dydx.sandbox.events import SandboxEvent
from nautilus_dydx.sandbox.funding import FundingModel
from nautilus_dydx.sandbox.keys import address_from_public_key
from nautilus_dydx.sandbox.keys import is_valid_address
from nautilus_dydx.sandbox.keys import key_from_mnemonic
from nautilus_dydx.sandbox.keys import key_from_private_key
from nautilus_dydx.sandbox.keys import key_from_seed
from nautilus_dydx.sandbox.keys import SandboxKey
from nautilus_dydx.sandbox.keys import verify_signature
from nautilus_dydx.sandbox.margin import Liquidator


URL_PLACE = "/dydxprotocol.clob.MsgPlaceOrder"
URL_CANCEL = "/dydxprotocol.clob.MsgCancelOrder"
URL_BATCH = "/dydxprotocol.clob.MsgBatchCancel"
URL_PUBKEY = "/cosmos.crypto.secp256k1.PubKey"
SIGN_MODE_DIRECT = 1
MAX_SUBACCOUNT_NUMBER = 128_000
MAX_BATCH_CANCEL_IDS = 100
MAX_MEMO_CHARS = 256
TIMESTAMP_NONCE_MIN = 1 << 40
TIMESTAMP_NONCE_WINDOW_MS = 30_000
MAX_TIMESTAMP_NONCES = 20
STATUSES = (
    "STATUS_UNSPECIFIED", "ACTIVE", "PAUSED", "CANCEL_ONLY", "POST_ONLY", "INITIALIZING",
    "FINAL_SETTLEMENT",
)
_GAS_PER_BYTE = 10
_BASE_GAS = 50_000
# Trade prices trigger conditional orders within oracle +/- this many min price changes
CONDITIONAL_ORDER_TRIGGER_MULTIPLIER = 5


def _clob(code: int, log: str) -> ChainError:
    return ChainError("clob", code, log)


def _sdk(code: int, log: str) -> ChainError:
    return ChainError("sdk", code, log)


@dataclass(frozen=True)
class TxResult:
    """
    The CheckTx result of a transaction.

    Parameters
    ----------
    txhash : str
        Upper-case hex SHA-256 of the transaction bytes.
    code : int
        0 on success.
    codespace : str
        Empty on success.
    raw_log : str
        The log.
    gas_used : int
        A deterministic gas figure.

    """

    txhash: str
    code: int
    codespace: str
    raw_log: str
    gas_used: int


@dataclass
class Account:
    """
    An auth account.

    Parameters
    ----------
    key : SandboxKey
        The key pair (the sandbox knows it so tests can sign).
    account_number : int
        The account number.
    sequence : int
        The committed sequence.
    check_sequence : int
        The CheckTx-state sequence (committed plus accepted pending txs).
    pub_key : bytes | None
        The public key once a transaction set it.
    fee_tier : int
        The fee tier index.
    nonces : list[int]
        The unexpired timestamp nonces (unix ms) used by this account.
    max_ejected_nonce : int
        The largest timestamp nonce ejected so far.

    """

    key: SandboxKey
    account_number: int
    sequence: int
    check_sequence: int
    pub_key: bytes | None
    fee_tier: int
    nonces: list[int] = field(default_factory=list)
    max_ejected_nonce: int = 0

    @property
    def address(self) -> str:
        """The bech32 address."""
        return self.key.address


@dataclass
class IncludedTx:
    """
    A transaction included in a block (queryable with GetTx).

    Parameters
    ----------
    txhash : str
        The hash.
    tx_bytes : bytes
        The TxRaw bytes.
    height : int
        The inclusion height.
    time_ns : int
        The block time.

    """

    txhash: str
    tx_bytes: bytes
    height: int
    time_ns: int


class Market:
    """
    A market's runtime state.

    Parameters
    ----------
    config : MarketConfig
        The static parameters.

    """

    def __init__(self, config: MarketConfig) -> None:
        self.config = config
        self.status = config.status
        self.oracle_subticks = config.price_to_subticks(config.oracle_price)
        self.oracle_price = str(config.oracle_price)
        self.book = Book()


class _Pending:
    __slots__ = ("txhash", "tx_bytes", "messages", "signer", "uses_sequence")

    def __init__(
        self, txhash: str, tx_bytes: bytes, messages: list, signer: str, uses_sequence: bool,
    ) -> None:
        self.txhash = txhash
        self.tx_bytes = tx_bytes
        self.messages = messages
        self.signer = signer
        self.uses_sequence = uses_sequence


class ChainState:
    """
    The deterministic state machine of the sandbox node (no I/O; the gRPC layer calls into it).

    Parameters
    ----------
    config : SandboxConfig
        The node configuration.
    bus : EventBus
        Where state changes are published.

    Attributes
    ----------
    height, time_ns : int
        The latest committed block's height and time (unix ns); they only move together.
    previous_height, previous_time_ns : int
        The block before it (equal to the latest at genesis).
    wall_clock : bool
        Whether block times follow the wall clock (`config.genesis_time_ns` is None).

    """

    def __init__(self, config: SandboxConfig, bus: EventBus) -> None:
        self.config = config
        self.bus = bus
        self.chain_id = config.chain_id
        self.height = config.genesis_height
        self.wall_clock = config.genesis_time_ns is None
        self.genesis_time_ns = time.time_ns() if self.wall_clock else config.genesis_time_ns
        self.time_ns = self.genesis_time_ns
        self.previous_height = self.height
        self.previous_time_ns = self.time_ns
        self.block_interval_ns = config.block_time_ms * 1_000_000
        self.markets: dict[int, Market] = {}
        for market_config in config.markets:
            if market_config.clob_pair_id in self.markets:
                raise ValueError(f"duplicate clob pair id, was {market_config.clob_pair_id}")
            self.markets[market_config.clob_pair_id] = Market(market_config)
        self.margin = Margin(
            {cid: m.config for cid, m in self.markets.items()},
            lambda cid: self.markets[cid].oracle_subticks,
        )
        self.margin.initial_margin_ppm = lambda sub, cid: leverage.initial_margin_ppm(
            self, sub.owner, sub.number, cid,
        )
        self.accounts: dict[str, Account] = {}
        self.subaccounts: dict[SubaccountKey, Subaccount] = {}
        self.short_orders: dict[OrderKey, Order] = {}
        self.short_fills: dict[OrderKey, tuple[int, int]] = {}
        self.short_cancels: dict[OrderKey, int] = {}
        self.stateful: dict[OrderKey, Order] = {}
        self.pending: list[_Pending] = []
        self.pending_places: dict[OrderKey, int] = {}
        self.pending_cancels: dict[OrderKey, int] = {}
        self.cancelled_last_block: set[OrderKey] = set()
        self.removed_last_block: set[OrderKey] = set()
        self.best_effort_canceled: dict[OrderKey, Order] = {}
        self._to_place: dict[OrderKey, Order] = {}
        self._triggered_placements: dict[OrderKey, tuple[bytes, int, int]] = {}
        self._deferred: list[tuple[SandboxEvent, Order | None, bool]] = []
        self._deferring = False
        self._trade_range: dict[int, tuple[int, int]] = {}
        self.included: dict[str, IncludedTx] = {}
        self.last_block_txs: list[bytes] = []
        self.seen: dict[str, int] = {}
        self.rate: dict[str, dict[int, list[int]]] = {}
        self._stateful_count: dict[SubaccountKey, int] = {}
        # Stateful placements (order bytes, block height, tx index) for the StatefulOrder query
        self.placements: dict[OrderKey, tuple[bytes, int, int]] = {}
        self.leverage: dict[SubaccountKey, dict[int, int]] = {}
        self.twaps: dict[OrderKey, twap.TwapOrder] = {}
        self.accountplus = accountplus.AccountPlusState()
        self.wallets: dict[str, dict[str, int]] = {}
        self._pending_count: dict[SubaccountKey, int] = {}
        self._priority = 0
        self._tx_index = 0
        self._block_tx_index = 0
        self._event_index = 0
        self._fill_height = self.height + 1
        # Values hooks: hourly funding (funding.py), liquidations and deleveraging (margin.py)
        self.funding = FundingModel(self) if config.funding_enabled else None
        self.liquidator = Liquidator(self) if config.liquidations_enabled else None
        next_number = config.first_account_number
        for index, account_config in enumerate(config.accounts):
            given = (account_config.mnemonic, account_config.private_key, account_config.address)
            if sum(value is not None for value in given) > 1:
                raise ValueError("give one of a mnemonic, a private key or an address")
            if account_config.address is not None:
                if not is_valid_address(account_config.address):
                    raise ValueError(f"invalid account address, was {account_config.address!r}")
                # The sandbox never learns this key; the account's holder signs
                key = SandboxKey(b"", b"", account_config.address)
            elif account_config.mnemonic is not None:
                key = key_from_mnemonic(account_config.mnemonic, account_config.mnemonic_index)
            elif account_config.private_key is not None:
                key = key_from_private_key(account_config.private_key)
            else:
                key = key_from_seed(config.seed, index)
            number = account_config.account_number
            if number is None:
                number = next_number
                next_number += 1
            self.add_account(key, number, account_config.sequence, account_config.fee_tier)
            self.wallets[key.address] = dict(account_config.wallet)
            for sub_number, usdc in sorted(account_config.subaccounts.items()):
                self.fund(key.address, sub_number, usdc)

    # -- Accounts ------------------------------------------------------------------------------

    def add_account(
        self,
        key: SandboxKey,
        account_number: int,
        sequence: int = 0,
        fee_tier: int = 0,
    ) -> Account:
        """
        Create an auth account for `key`.

        Parameters
        ----------
        key : SandboxKey
            The key pair.
        account_number : int
            The account number.
        sequence : int, default 0
            The initial sequence.
        fee_tier : int, default 0
            The fee tier index.

        Returns
        -------
        Account

        """
        if key.address in self.accounts:
            raise ValueError(f"duplicate account, was {key.address}")
        account = Account(key, account_number, sequence, sequence, None, fee_tier)
        self.accounts[key.address] = account
        return account

    def fund(self, owner: str, number: int, usdc: int) -> Subaccount:
        """
        Add `usdc` quote quantums to a subaccount, creating it if needed.

        Parameters
        ----------
        owner : str
            The owner address.
        number : int
            The subaccount number.
        usdc : int
            The amount in quote quantums (1e-6 USDC).

        Returns
        -------
        Subaccount

        """
        sub = self.subaccounts.get((owner, number))
        if sub is None:
            sub = Subaccount(owner, number, 0)
            self.subaccounts[(owner, number)] = sub
        sub.usdc += usdc
        self._publish_balance(sub, "DEPOSIT")
        return sub

    def set_oracle_price(self, clob_pair_id: int, price: str | Decimal) -> int:
        """
        Set a market's oracle price (USD) and return it in subticks.

        Parameters
        ----------
        clob_pair_id : int
            The CLOB pair id.
        price : str | Decimal
            The price as an exact decimal.

        Returns
        -------
        int

        """
        market = self.markets[clob_pair_id]
        market.oracle_subticks = market.config.price_to_subticks(price)
        market.oracle_price = str(price)
        self.bus.publish(
            OraclePriceEvent(
                0, self.height, self.time_ns, clob_pair_id, market.config.ticker,
                market.oracle_subticks, market.oracle_price,
            ),
        )
        return market.oracle_subticks

    def set_market_status(self, clob_pair_id: int, status: str) -> None:
        """
        Set a market's CLOB pair status.

        Parameters
        ----------
        clob_pair_id : int
            The CLOB pair id.
        status : str
            One of ACTIVE, PAUSED, CANCEL_ONLY, POST_ONLY, INITIALIZING, FINAL_SETTLEMENT.

        """
        if status not in STATUSES[1:]:
            raise ValueError(f"invalid status, was {status!r}")
        self.markets[clob_pair_id].status = status

    # -- CheckTx -------------------------------------------------------------------------------

    def check_tx(self, tx_bytes: bytes, simulate: bool = False) -> TxResult:
        """
        Run CheckTx on `tx_bytes`: validate, then (unless simulating) apply or queue it.

        Parameters
        ----------
        tx_bytes : bytes
            The encoded TxRaw.
        simulate : bool, default False
            Validate only; nothing is recorded or changed.

        Returns
        -------
        TxResult

        """
        txhash = hashlib.sha256(tx_bytes).hexdigest().upper()
        gas = _BASE_GAS + _GAS_PER_BYTE * len(tx_bytes)
        try:
            if not simulate and txhash in self.seen:
                raise _sdk(19, "tx already in mempool")
            self._check(txhash, tx_bytes, simulate)
        except ChainError as e:
            return TxResult(txhash, e.code, e.codespace, e.log, gas)
        if not simulate:
            self.seen[txhash] = self.height
        return TxResult(txhash, 0, "", "", gas)

    def _check(self, txhash: str, tx_bytes: bytes, simulate: bool) -> None:
        raw = tx_pb2.TxRaw()
        body = tx_pb2.TxBody()
        auth = tx_pb2.AuthInfo()
        try:
            raw.ParseFromString(tx_bytes)
            body.ParseFromString(raw.body_bytes)
            auth.ParseFromString(raw.auth_info_bytes)
        except DecodeError as e:
            raise _sdk(2, f"tx parse error: {e}") from None
        if not body.messages:
            raise _sdk(18, "must contain at least one message: invalid request")
        messages = [_decode_message(any_msg) for any_msg in body.messages]
        for message in messages:
            _validate_basic(message)
        short_term = [_is_short_term(m) for m in messages]
        surface.check_composition(messages)
        if any(short_term) and len(messages) != 1:
            raise _sdk(
                18,
                "a transaction containing a short-term order, cancel or batch cancel may not "
                "contain other messages: invalid request",
            )
        if len(body.memo) > MAX_MEMO_CHARS:
            raise _sdk(12, f"maximum number of characters is {MAX_MEMO_CHARS} but received "
                           f"{len(body.memo)} characters: memo too large")
        signers = {_signer(m) for m in messages}
        if len(signers) != 1:
            raise _sdk(4, f"wrong number of signers; expected 1, got {len(signers)}: unauthorized")
        signer = signers.pop()
        if len(auth.signer_infos) != 1 or len(raw.signatures) != 1:
            raise _sdk(
                4,
                f"wrong number of signers; expected 1, got {len(auth.signer_infos)}: "
                "unauthorized",
            )
        if body.timeout_height != 0 and body.timeout_height <= self.height:
            raise _sdk(
                30,
                f"block height: {self.height}, timeout height: {body.timeout_height}: "
                "tx timeout height",
            )
        account = self.accounts.get(signer)
        if account is None:
            raise _sdk(9, f"account {signer} not found: unknown address")
        info = auth.signer_infos[0]
        public_key = account.pub_key
        # A TxExtension with ids selects the authenticator flow: the owner's account number and
        # sequence, a signature by the selected authenticators' keys (any key in SignerInfo)
        selected = accountplus.selected_authenticators(body)
        if selected is not None:
            public_key = b""
            if info.HasField("public_key") and info.public_key.type_url != URL_PUBKEY:
                raise _sdk(8, f"unsupported public key type {info.public_key.type_url}: "
                              "invalid pubkey")
        elif info.HasField("public_key"):
            if info.public_key.type_url != URL_PUBKEY:
                raise _sdk(8, f"unsupported public key type {info.public_key.type_url}: "
                              "invalid pubkey")
            pk = keys_pb2.PubKey()
            try:
                pk.ParseFromString(info.public_key.value)
            except DecodeError:
                raise _sdk(8, "invalid public key encoding: invalid pubkey") from None
            if len(pk.key) != 33 or address_from_public_key(pk.key) != signer:
                raise _sdk(8, "pubKey does not match signer address "
                              f"{signer} with signer index: 0: invalid pubkey")
            public_key = pk.key
        if public_key is None:
            raise _sdk(8, "pubkey on account is not set: invalid pubkey")
        if not info.mode_info.HasField("single") or info.mode_info.single.mode != SIGN_MODE_DIRECT:
            raise _sdk(4, "signature mode not supported, only SIGN_MODE_DIRECT: unauthorized")
        all_short = all(short_term)
        use_nonce = not all_short and info.sequence >= TIMESTAMP_NONCE_MIN
        if use_nonce:
            self._check_nonce(account, info.sequence)
        elif not all_short and info.sequence != account.check_sequence:
            raise _sdk(
                32,
                f"account sequence mismatch, expected {account.check_sequence}, got "
                f"{info.sequence}: incorrect account sequence",
            )
        sign_doc = tx_pb2.SignDoc(
            body_bytes=raw.body_bytes,
            auth_info_bytes=raw.auth_info_bytes,
            chain_id=self.chain_id,
            account_number=account.account_number,
        )
        digest = hashlib.sha256(sign_doc.SerializeToString()).digest()
        if selected is not None:
            accountplus.authenticate(
                self, signer, selected, [m.type_url for m in body.messages], messages,
                lambda key: verify_signature(key, digest, raw.signatures[0]),
            )
        elif not verify_signature(public_key, digest, raw.signatures[0]):
            raise _sdk(
                4,
                f"signature verification failed; please verify account number "
                f"({account.account_number}) and chain-id ({self.chain_id}): (unable to verify "
                "single signer signature): unauthorized",
            )
        if not simulate:
            self._count_rate(signer, messages)
        if all_short:
            self._check_short_term(messages[0], body.timeout_height, txhash, simulate)
        else:
            self._check_stateful(messages, account, txhash, tx_bytes, simulate, use_nonce)
        if not simulate:
            if selected is None:
                account.pub_key = public_key
            if use_nonce:
                self._record_nonce(account, info.sequence)

    # -- Timestamp nonces ----------------------------------------------------------------------

    def _check_nonce(self, account: Account, nonce: int) -> None:
        now_ms = self.time_ns // 1_000_000
        if abs(nonce - now_ms) > TIMESTAMP_NONCE_WINDOW_MS:
            raise _sdk(32, f"timestamp nonce {nonce} not within valid time window: incorrect "
                           "account sequence")
        live = [n for n in account.nonces if n >= now_ms - TIMESTAMP_NONCE_WINDOW_MS]
        ejected = max([n for n in account.nonces if n not in live], default=0)
        floor = max(account.max_ejected_nonce, ejected)
        if nonce in live or nonce <= floor or (
            len(live) >= MAX_TIMESTAMP_NONCES and nonce <= min(live)
        ):
            raise _sdk(32, f"timestamp nonce {nonce} rejected: incorrect account sequence")

    def _record_nonce(self, account: Account, nonce: int) -> None:
        now_ms = self.time_ns // 1_000_000
        live = sorted(n for n in account.nonces if n >= now_ms - TIMESTAMP_NONCE_WINDOW_MS)
        for old in account.nonces:
            if old not in live:
                account.max_ejected_nonce = max(account.max_ejected_nonce, old)
        if len(live) >= MAX_TIMESTAMP_NONCES:
            account.max_ejected_nonce = max(account.max_ejected_nonce, live.pop(0))
        live.append(nonce)
        account.nonces = sorted(live)

    # -- Rate limits ---------------------------------------------------------------------------

    def _count_rate(self, signer: str, messages: list) -> None:
        stateful = 0
        short = 0
        for message in messages:
            if isinstance(message, clob_tx_pb2.MsgBatchCancel):
                short += 1
            elif _is_short_term(message):
                short += 1
            elif isinstance(message, clob_tx_pb2.MsgPlaceOrder):
                stateful += 1
        next_height = self.height + 1
        per_height = self.rate.setdefault(signer, {})
        counts = per_height.setdefault(next_height, [0, 0])
        counts[0] += stateful
        counts[1] += short
        for limits, index, amount in (
            (self.config.stateful_rate_limits, 0, stateful),
            (self.config.short_term_rate_limits, 1, short),
        ):
            if amount == 0:
                continue
            for blocks, limit in limits:
                total = sum(
                    c[index] for h, c in per_height.items() if next_height - blocks < h
                )
                if total > limit:
                    raise _clob(
                        5001,
                        f"exceeded rate limit of {limit} orders per {blocks} blocks for "
                        f"{signer}: Block rate limit exceeded",
                    )

    # -- Common order checks -------------------------------------------------------------------

    def _market(self, clob_pair_id: int) -> Market:
        market = self.markets.get(clob_pair_id)
        if market is None:
            raise _clob(8, f"ClobPair ID {clob_pair_id} does not reference a valid CLOB")
        return market

    def _check_market_rules(self, market: Market, order: order_pb2.Order) -> None:
        cfg = market.config
        if order.quantums % cfg.step_base_quantums != 0:
            raise _clob(12, f"Order Quantums {order.quantums} must be a multiple of the ClobPair's "
                            f"StepBaseQuantums ({cfg.step_base_quantums}): MsgPlaceOrder is "
                            "invalid")
        if order.subticks % cfg.subticks_per_tick != 0:
            raise _clob(12, f"Order subticks {order.subticks} must be a multiple of the ClobPair's "
                            f"SubticksPerTick ({cfg.subticks_per_tick}): MsgPlaceOrder is invalid")
        trigger = order.conditional_order_trigger_subticks
        if trigger % cfg.subticks_per_tick != 0:
            raise _clob(12, f"Conditional order trigger subticks {trigger} must be a multiple of "
                            f"the ClobPair's SubticksPerTick ({cfg.subticks_per_tick}): "
                            "MsgPlaceOrder is invalid")
        status = market.status
        flags = order.order_id.order_flags
        if status in ("PAUSED", "CANCEL_ONLY", "FINAL_SETTLEMENT"):
            raise _clob(34, f"Order conflicts with ClobPair status {status}")
        if status == "POST_ONLY" and order.time_in_force != TIF_POST_ONLY:
            raise _clob(34, "ClobPair status POST_ONLY accepts only post-only orders: "
                            "Order conflicts with ClobPair status")
        if status == "INITIALIZING":
            oracle = market.oracle_subticks
            crosses_oracle = (order.side == SIDE_BUY and order.subticks > oracle) or (
                order.side == SIDE_SELL and order.subticks < oracle
            )
            if flags != FLAG_SHORT_TERM or order.time_in_force != TIF_POST_ONLY or crosses_oracle:
                raise _clob(34, "ClobPair status INITIALIZING accepts only short-term post-only "
                                "orders that do not cross the oracle price: Order conflicts "
                                "with ClobPair status")

    def _check_gtb(self, good_til_block: int) -> None:
        next_height = self.height + 1
        if good_til_block < next_height:
            raise _clob(10, f"GoodTilBlock {good_til_block} is less than the next block height "
                            f"{next_height}: The next block height is greater than the "
                            "GoodTilBlock of the message")
        if good_til_block > next_height + self.config.short_block_window:
            raise _clob(11, f"GoodTilBlock {good_til_block} is greater than ShortBlockWindow "
                            f"{self.config.short_block_window} blocks past {next_height}: The "
                            "GoodTilBlock of the message is further than ShortBlockWindow "
                            "blocks into the future")

    def _check_gtbt(self, good_til_block_time: int) -> None:
        block_seconds = self.time_ns // 1_000_000_000
        if good_til_block_time <= block_seconds:
            raise _clob(3003, f"GoodTilBlockTime {good_til_block_time} is not after block time "
                              f"{block_seconds}: The block time is greater than the "
                              "GoodTilBlockTime of the message")
        if good_til_block_time > block_seconds + self.config.stateful_order_time_window_s:
            raise _clob(3004, f"GoodTilBlockTime {good_til_block_time} is further than "
                              f"{self.config.stateful_order_time_window_s}s past block time "
                              f"{block_seconds}: The GoodTilBlockTime of the message is further "
                              "than StatefulOrderTimeWindow into the future")

    def _sub(self, key: SubaccountKey) -> Subaccount:
        sub = self.subaccounts.get(key)
        if sub is None:
            sub = Subaccount(key[0], key[1], 0)
            self.subaccounts[key] = sub
        return sub

    # -- Short-term ----------------------------------------------------------------------------

    def _check_short_term(self, message, timeout_height: int, txhash: str, simulate: bool) -> None:
        if isinstance(message, clob_tx_pb2.MsgPlaceOrder):
            order = message.order
            market = self._market(order.order_id.clob_pair_id)
            self._check_market_rules(market, order)
            self._check_gtb(order.good_til_block)
            subaccount_id = order.order_id.subaccount_id
            isolated.check_order(
                self, subaccount_id.owner, subaccount_id.number, order.order_id.clob_pair_id,
            )
            if timeout_height != 0 and timeout_height < order.good_til_block:
                raise _sdk(18, "timeout height (if non-zero) may not be less than "
                               "`goodTilBlock` for a short-term order: invalid request")
            key = _order_key(order.order_id)
            cancel_gtb = self.short_cancels.get(key)
            if cancel_gtb is not None and cancel_gtb >= order.good_til_block:
                raise _clob(7, f"Order {_fmt_key(key)} with GoodTilBlock "
                               f"{order.good_til_block} was canceled with GoodTilBlock "
                               f"{cancel_gtb}: Attempt to place an order that is already canceled")
            order_hash = hashlib.sha256(order.SerializeToString()).digest()
            existing = self.short_orders.get(key)
            filled = self.short_fills.get(key, (0, 0))[0]
            if existing is not None:
                if existing.order_hash == order_hash:
                    raise _clob(30, "An order with the same `OrderId` and `OrderHash` has "
                                    "already been processed for this CLOB")
                if order.good_til_block < existing.good_til_block or (
                    order.good_til_block == existing.good_til_block
                    and order_hash < existing.order_hash
                ):
                    raise _clob(20, "replacement order has lower priority than the existing "
                                    "order: Replacing an existing order failed")
                if (
                    order.side != existing.side
                    or order.time_in_force != existing.time_in_force
                    or order.reduce_only != existing.reduce_only
                ):
                    raise _clob(20, "replacement order changes side, time in force or reduce-"
                                    "only: Replacing an existing order failed")
            if order.time_in_force == TIF_IOC and filled > 0:
                raise _clob(20, "an IOC order may not replace a partially filled order: "
                                "Replacing an existing order failed")
            if order.quantums - filled < market.config.step_base_quantums:
                raise _clob(24, f"Order {_fmt_key(key)} has filled {filled} of "
                                f"{order.quantums} quantums: Order is fully filled")
            sub_key = (key[0], key[1])
            if order.reduce_only:
                self._check_reduce_only(sub_key, order)
            if order.time_in_force == TIF_POST_ONLY and self._would_cross(
                market, order.side, order.subticks, exclude=key,
            ):
                raise _clob(2003, "Post-only order would cross one or more maker orders")
            if simulate:
                return
            self._begin_tx()
            new = self._make_order(order, market, order_hash, txhash)
            new.filled = filled
            new.status = "BEST_EFFORT_OPENED"
            new.created_at_height = self._fill_height
            replaced = False
            self.best_effort_canceled.pop(key, None)
            if existing is not None:
                replaced = True
                market.book.remove(existing)
                del self.short_orders[key]
                existing.status = "CANCELED"
                self._publish_removed(existing, 11, self.height, self.time_ns)
            # Off-chain at once; the matching results wait for the block that commits them
            self.bus.publish(
                OrderPlacedEvent(0, self.height, self.time_ns, new.snapshot(), replaced),
            )
            self._deferring = True
            try:
                self._match_and_rest(new, market, self._fill_height)
            finally:
                self._deferring = False
        elif isinstance(message, clob_tx_pb2.MsgCancelOrder):
            key = _order_key(message.order_id)
            self._market(key[4])
            self._check_gtb(message.good_til_block)
            existing_cancel = self.short_cancels.get(key)
            if existing_cancel is not None and existing_cancel >= message.good_til_block:
                raise _clob(9, f"cancel for {_fmt_key(key)} with GoodTilBlock "
                               f"{existing_cancel} exists: A cancel already exists in the memclob "
                               "for this order with a greater than or equal GoodTilBlock")
            if simulate:
                return
            self._begin_tx()
            self._apply_short_cancel(key, message.good_til_block)
        else:
            self._check_batch(message, simulate)

    def _check_batch(self, message, simulate: bool) -> None:
        for batch in message.short_term_cancels:
            if batch.clob_pair_id not in self.markets:
                raise _clob(27, f"ClobPair ID {batch.clob_pair_id} does not exist: Invalid "
                                "ClobPair parameter")
        self._check_gtb(message.good_til_block)
        owner = message.subaccount_id.owner
        number = message.subaccount_id.number
        succeeded = 0
        for batch in message.short_term_cancels:
            for client_id in batch.client_ids:
                key = (owner, number, client_id, FLAG_SHORT_TERM, batch.clob_pair_id)
                existing_cancel = self.short_cancels.get(key)
                if existing_cancel is not None and existing_cancel >= message.good_til_block:
                    continue
                succeeded += 1
        if succeeded == 0:
            raise _clob(46, "no order in the batch could be cancelled: Batch cancel has failed")
        if simulate:
            return
        self._begin_tx()
        for batch in message.short_term_cancels:
            for client_id in batch.client_ids:
                key = (owner, number, client_id, FLAG_SHORT_TERM, batch.clob_pair_id)
                existing_cancel = self.short_cancels.get(key)
                if existing_cancel is not None and existing_cancel >= message.good_til_block:
                    continue
                self._apply_short_cancel(key, message.good_til_block)

    def _apply_short_cancel(self, key: OrderKey, good_til_block: int) -> None:
        self.short_cancels[key] = good_til_block
        order = self.short_orders.get(key)
        if order is None:
            return
        if good_til_block >= order.good_til_block:
            self.markets[key[4]].book.remove(order)
            del self.short_orders[key]
            order.status = "BEST_EFFORT_CANCELED"
            self.best_effort_canceled[key] = order
            self._publish_removed(order, 2, self.height, self.time_ns)
        else:
            self.bus.publish(
                OrderRemovedEvent(
                    0, self.height, self.time_ns,
                    _snapshot_with_status(order, "BEST_EFFORT_CANCELED"),
                    REMOVAL_REASONS[2], False,
                ),
            )

    def _check_reduce_only(self, sub_key: SubaccountKey, order) -> None:
        sub = self.subaccounts.get(sub_key)
        size = 0 if sub is None else sub.position_size(order.order_id.clob_pair_id)
        if size == 0 or (size > 0) == (order.side == SIDE_BUY):
            raise _clob(2001, "Reduce-only orders cannot increase the position size")

    def _would_cross(self, market: Market, side: int, subticks: int, exclude: OrderKey) -> bool:
        for maker in market.book.crossing(side, subticks):
            if maker.key != exclude:
                return True
        return False

    # -- Stateful ------------------------------------------------------------------------------

    def _check_stateful(
        self,
        messages: list,
        account: Account,
        txhash: str,
        tx_bytes: bytes,
        simulate: bool,
        use_nonce: bool = False,
    ) -> None:
        new_places: dict[OrderKey, int] = {}
        new_cancels: dict[OrderKey, int] = {}
        for message in messages:
            if isinstance(message, clob_tx_pb2.MsgPlaceOrder):
                order = message.order
                key = _order_key(order.order_id)
                market = self._market(key[4])
                self._check_market_rules(market, order)
                self._check_gtbt(order.good_til_block_time)
                isolated.check_order(self, key[0], key[1], key[4])
                if key in self.stateful or key in self.pending_places or key in new_places:
                    raise _clob(3005, f"order {_fmt_key(key)} exists: Existing stateful order "
                                      "has higher-or-equal priority than the new one")
                if key in self.pending_cancels or key in self.cancelled_last_block:
                    raise _clob(3008, "Stateful order was previously cancelled and therefore "
                                      "cannot be placed")
                if key in self.removed_last_block:
                    raise _clob(3009, "Stateful order was previously removed and therefore "
                                      "cannot be placed")
                sub_key = (key[0], key[1])
                sub = self._sub(sub_key) if sub_key in self.subaccounts else Subaccount(
                    key[0], key[1], 0,
                )
                equity, _ = self.margin.equity_and_imr(sub)
                limit = 0
                for required, tier_limit in self.config.equity_tiers:
                    if equity >= required:
                        limit = tier_limit
                open_count = self._stateful_count.get(sub_key, 0)
                open_count += self._pending_count.get(sub_key, 0)
                open_count += sum(1 for k in new_places if (k[0], k[1]) == sub_key)
                if open_count + 1 > limit:
                    raise _clob(10001, f"Opening order would exceed equity tier limit of {limit}. "
                                       f"Order count: {open_count}, total net collateral: "
                                       f"{equity}: Subaccount cannot open more orders due to "
                                       "equity tier limit.")
                delta = order.quantums if order.side == SIDE_BUY else -order.quantums
                # A market TWAP (subticks 0) is checked at the oracle price
                quote = quote_quantums(
                    order.quantums, order.subticks or market.oracle_subticks,
                    market.config.quantum_conversion_exponent,
                )
                usdc_delta = -quote if order.side == SIDE_BUY else quote
                if not self.margin.allows(sub, key[4], delta, usdc_delta):
                    raise _clob(3007, f"order {_fmt_key(key)}: Stateful order collateralization "
                                      "check failed")
                new_places[key] = order.good_til_block_time
            elif surface.is_surface_message(message):
                surface.check(self, message, messages)
            else:
                key = _order_key(message.order_id)
                self._market(key[4])
                self._check_gtbt(message.good_til_block_time)
                order_gtbt = self.pending_places.get(key, new_places.get(key))
                if order_gtbt is None and key in self.stateful:
                    order_gtbt = self.stateful[key].good_til_block_time
                if order_gtbt is None:
                    if key in self.removed_last_block or key in self.cancelled_last_block:
                        raise _clob(3010, "Stateful order cancellation failed because the order "
                                          "was already removed from state")
                    raise _clob(3006, f"order {_fmt_key(key)}: Stateful order does not exist")
                if message.good_til_block_time < order_gtbt:
                    raise _clob(29, f"cancellation GoodTilBlockTime "
                                    f"{message.good_til_block_time} is less than the order's "
                                    f"GoodTilBlockTime {order_gtbt}: Invalid stateful order "
                                    "cancellation")
                if key in self.pending_cancels or key in new_cancels:
                    raise _clob(32, "Existing stateful order cancellation has higher-or-equal "
                                    "priority than the new one")
                new_cancels[key] = message.good_til_block_time
        if simulate:
            return
        if not use_nonce:
            account.check_sequence += 1
        self.pending_places.update(new_places)
        for key in new_places:
            sub_key = (key[0], key[1])
            self._pending_count[sub_key] = self._pending_count.get(sub_key, 0) + 1
        self.pending_cancels.update(new_cancels)
        self.pending.append(_Pending(txhash, tx_bytes, messages, account.address, not use_nonce))

    # -- Matching ------------------------------------------------------------------------------

    def _begin_tx(self) -> None:
        self._tx_index += 1
        self._event_index = 0

    def _emit(
        self, event: SandboxEvent, order: Order | None = None, refresh: bool = False,
    ) -> None:
        # While matching, the book moves at once (MemclobEvent) and the results wait for the
        # block; `order` lets the block deliver the order's state as of its commit (`refresh`)
        if not self._deferring:
            self.bus.publish(event)
            return
        if isinstance(event, (OrderUpdatedEvent, OrderRemovedEvent)):
            self.bus.publish(
                MemclobEvent(
                    0, self.height, self.time_ns, event.order,
                    isinstance(event, OrderRemovedEvent),
                ),
            )
        self._deferred.append((event, order, refresh))

    def _flush_deferred(self, height: int, time_ns: int) -> None:
        deferred, self._deferred = self._deferred, []
        last: dict[int, int] = {}
        for index, (_, order, _) in enumerate(deferred):
            if order is not None:
                last[id(order)] = index
        for index, (event, order, refresh) in enumerate(deferred):
            changes: dict = {"height": height, "time_ns": time_ns}
            if isinstance(event, (FillEvent, OrderUpdatedEvent, OrderRemovedEvent)):
                changes["book"] = False
            if refresh and order is not None:
                live = self.short_orders.get(order.key)
                if last[id(order)] != index or (live is not None and live is not order):
                    continue
                changes["order"] = order.snapshot()
            self.bus.publish(replace(event, **changes))

    def _make_order(self, order, market: Market, order_hash: bytes, txhash: str) -> Order:
        new = Order(
            _order_key(order.order_id),
            order.side,
            order.quantums,
            order.subticks,
            order.good_til_block,
            order.good_til_block_time,
            order.time_in_force,
            order.reduce_only,
            order.client_metadata,
            order.condition_type,
            order.conditional_order_trigger_subticks,
            order_hash,
            txhash,
            market.config.ticker,
        )
        self._priority += 1
        new.priority = self._priority
        return new

    def _match_and_rest(self, taker: Order, market: Market, height: int) -> None:
        time_ns = self.time_ns
        cfg = market.config
        taker_sub = self._sub(taker.subaccount)
        perpetual_id = cfg.clob_pair_id
        removal: int | None = None
        if taker.time_in_force == TIF_POST_ONLY and self._would_cross(
            market, taker.side, taker.subticks, exclude=taker.key,
        ):
            removal = 6
        guard = 0
        iterator = market.book.crossing(taker.side, taker.subticks) if removal is None else ()
        for maker in iterator:
            guard += 1
            if taker.remaining <= 0 or guard > 1_000_000:
                break
            if maker.subaccount == taker.subaccount:
                self._remove_resting(maker, market, 5, height, time_ns)
                continue
            quantums = min(taker.remaining, maker.remaining)
            if taker.reduce_only:
                size = taker_sub.position_size(perpetual_id)
                reducible = abs(size) if size != 0 and (size > 0) != (taker.side == SIDE_BUY) else 0
                if reducible == 0:
                    removal = 9
                    break
                quantums = min(quantums, reducible)
            maker_sub = self._sub(maker.subaccount)
            quote = quote_quantums(quantums, maker.subticks, cfg.quantum_conversion_exponent)
            taker_fee = self._fee(taker.key[0], quote, taker=True)
            maker_fee = self._fee(maker.key[0], quote, taker=False)
            taker_delta = quantums if taker.side == SIDE_BUY else -quantums
            taker_usdc = (-quote if taker.side == SIDE_BUY else quote) - taker_fee
            maker_usdc = (quote if taker.side == SIDE_BUY else -quote) - maker_fee
            if isolated.violation(self, *maker.subaccount, perpetual_id) is not None:
                self._remove_resting(maker, market, 15, height, time_ns)
                continue
            if isolated.violation(self, *taker.subaccount, perpetual_id) is not None:
                removal = 15
                break
            if not self.margin.allows(maker_sub, perpetual_id, -taker_delta, maker_usdc):
                self._remove_resting(maker, market, 3, height, time_ns)
                continue
            if not self.margin.allows(taker_sub, perpetual_id, taker_delta, taker_usdc):
                removal = 3
                break
            taker.filled += quantums
            maker.filled += quantums
            for matched in (taker, maker):
                if matched.status == "BEST_EFFORT_OPENED":
                    matched.status = "OPEN"
            low, high = self._trade_range.get(perpetual_id, (maker.subticks, maker.subticks))
            self._trade_range[perpetual_id] = (min(low, maker.subticks), max(high, maker.subticks))
            twap.on_fill(self, taker, quantums)
            twap.on_fill(self, maker, quantums)
            self._apply_fill(taker_sub, perpetual_id, taker_delta, quote, taker_usdc, height,
                             time_ns, cfg.ticker)
            self._apply_fill(maker_sub, perpetual_id, -taker_delta, quote, maker_usdc, height,
                             time_ns, cfg.ticker)
            if maker.remaining <= 0:
                maker.status = "FILLED"
            if taker.remaining <= 0:
                taker.status = "FILLED"
            self._event_index += 1
            event_id = (
                height.to_bytes(4, "big")
                + self._tx_index.to_bytes(4, "big")
                + self._event_index.to_bytes(4, "big")
            ).hex()
            self._emit(
                FillEvent(
                    0, height, time_ns, event_id, cfg.clob_pair_id, cfg.ticker, quantums,
                    maker.subticks, quote, "BUY" if taker.side == SIDE_BUY else "SELL",
                    taker.snapshot(), maker.snapshot(), taker_fee, maker_fee, taker.tx_hash,
                ),
            )
            self._record_short_fill(maker)
            if maker.remaining <= 0:
                self._remove_resting(maker, market, 12, height, time_ns)
            else:
                self._emit(
                    OrderUpdatedEvent(0, height, time_ns, maker.snapshot(), "FILL"), maker, True,
                )
            if taker.remaining > 0 and taker.reduce_only:
                size = taker_sub.position_size(perpetual_id)
                if size == 0:
                    removal = 9
                    break
        self._record_short_fill(taker)
        if removal is None:
            if taker.remaining <= 0:
                removal = 12
            elif taker.time_in_force == TIF_IOC:
                removal = 7
        if removal is not None:
            taker.status = "FILLED" if removal == 12 else "CANCELED"
            self._publish_removed(taker, removal, height, time_ns)
            if taker.order_flags != FLAG_SHORT_TERM:
                self.removed_last_block.add(taker.key)
            return
        if taker.filled > 0:
            self._emit(
                OrderUpdatedEvent(0, height, time_ns, taker.snapshot(), "FILL"), taker, True,
            )
        market.book.add(taker)
        if taker.order_flags == FLAG_SHORT_TERM:
            self.short_orders[taker.key] = taker
        else:
            self._stateful_add(taker)

    def _stateful_add(self, order: Order) -> None:
        self.stateful[order.key] = order
        sub_key = order.subaccount
        self._stateful_count[sub_key] = self._stateful_count.get(sub_key, 0) + 1

    def _stateful_remove(self, key: OrderKey) -> None:
        if self.stateful.pop(key, None) is not None:
            self.placements.pop(key, None)
            sub_key = (key[0], key[1])
            self._stateful_count[sub_key] -= 1

    def _record_short_fill(self, order: Order) -> None:
        if order.order_flags == FLAG_SHORT_TERM and order.filled > 0:
            prune = order.good_til_block + self.config.short_block_window
            self.short_fills[order.key] = (order.filled, prune)

    def _fee(self, owner: str, quote: int, taker: bool) -> int:
        account = self.accounts.get(owner)
        tiers = self.config.fee_tiers
        index = 0 if account is None else min(account.fee_tier, len(tiers) - 1)
        ppm = tiers[index].taker_fee_ppm if taker else tiers[index].maker_fee_ppm
        magnitude = quote * abs(ppm) // 1_000_000
        return magnitude if ppm >= 0 else -magnitude

    def _apply_fill(
        self,
        sub: Subaccount,
        perpetual_id: int,
        delta: int,
        quote: int,
        usdc_delta: int,
        height: int,
        time_ns: int,
        ticker: str,
    ) -> None:
        position = sub.positions.get(perpetual_id)
        if position is None:
            position = Position()
            sub.positions[perpetual_id] = position
        position.apply(delta, quote)
        sub.usdc += usdc_delta
        side = "" if position.size == 0 else ("LONG" if position.size > 0 else "SHORT")
        self._emit(
            PositionEvent(
                0, height, time_ns, sub.owner, sub.number, perpetual_id, ticker, position.size,
                side, "OPEN" if position.size != 0 else "CLOSED", position.entry_quote,
                position.realized_pnl, position.sum_open, position.sum_close, position.max_size,
            ),
        )
        self._emit(
            BalanceEvent(0, height, time_ns, sub.owner, sub.number, 0, sub.usdc, "FILL"),
        )

    def _remove_resting(
        self, order: Order, market: Market, reason: int, height: int, time_ns: int,
    ) -> None:
        market.book.remove(order)
        if order.order_flags == FLAG_SHORT_TERM:
            self.short_orders.pop(order.key, None)
        else:
            self._stateful_remove(order.key)
            self.removed_last_block.add(order.key)
        order.status = "FILLED" if reason == 12 else "CANCELED"
        self._publish_removed(order, reason, height, time_ns)

    def _publish_removed(
        self, order: Order, reason: int, height: int, time_ns: int | None = None,
    ) -> None:
        if time_ns is None:
            time_ns = self.time_ns
        self._emit(
            OrderRemovedEvent(0, height, time_ns, order.snapshot(), REMOVAL_REASONS[reason]),
            order,
        )

    def _publish_balance(self, sub: Subaccount, reason: str) -> None:
        self.bus.publish(
            BalanceEvent(0, self.height, self.time_ns, sub.owner, sub.number, 0, sub.usdc, reason),
        )

    # -- Blocks --------------------------------------------------------------------------------

    def advance_block(self) -> int:
        """
        Commit the next block and return its height.

        The block delivers the matching results of the orders matched since the last block,
        includes the queued stateful transactions, expires and triggers orders; then, as a
        validator's PrepareCheckState, the orders placed or triggered in it are matched (their
        results belong to the following block).

        Returns
        -------
        int
            The new height.

        """
        self.previous_height = self.height
        self.previous_time_ns = self.time_ns
        self.height += 1
        if self.wall_clock:
            self.time_ns = max(time.time_ns(), self.time_ns + 1_000_000)
        else:
            self.time_ns += self.block_interval_ns
        height = self.height
        time_ns = self.time_ns
        self._fill_height = height
        self.cancelled_last_block = set()
        self.removed_last_block = set()
        self._flush_deferred(height, time_ns)
        pending = self.pending
        self.pending = []
        self.pending_places = {}
        self.pending_cancels = {}
        self._pending_count = {}
        tx_hashes = []
        block_txs = []
        for tx_index, item in enumerate(pending):
            self._begin_tx()
            self._block_tx_index = tx_index
            account = self.accounts[item.signer]
            if item.uses_sequence:
                account.sequence += 1
            self.included[item.txhash] = IncludedTx(item.txhash, item.tx_bytes, height, time_ns)
            tx_hashes.append(item.txhash)
            block_txs.append(item.tx_bytes)
            for message in item.messages:
                if isinstance(message, clob_tx_pb2.MsgPlaceOrder):
                    self._deliver_place(message.order, item.txhash, height, time_ns)
                elif surface.is_surface_message(message):
                    surface.deliver(self, message, item.txhash, height, time_ns)
                else:
                    self._deliver_cancel(_order_key(message.order_id), height, time_ns)
        self.last_block_txs = block_txs
        self._end_block(height, time_ns)
        # Values hooks: funding at minute/hour boundaries, then the maintenance-margin check
        if self.funding is not None:
            self.funding.on_block(height, time_ns)
        if self.liquidator is not None:
            self.liquidator.on_block(height, time_ns)
        self.bus.publish(BlockEvent(0, height, time_ns, tuple(tx_hashes)))
        self._fill_height = height + 1
        self._tx_index = 0
        self._prepare_check_state()
        return height

    def _prepare_check_state(self) -> None:
        to_place, self._to_place = self._to_place, {}
        self._deferring = True
        try:
            for order in to_place.values():
                self._begin_tx()
                self._match_and_rest(order, self.markets[order.clob_pair_id], self._fill_height)
                placement = self._triggered_placements.pop(order.key, None)
                if self.stateful.get(order.key) is not order:
                    # Filled or removed on its first match: not a stateful order any more
                    self.placements.pop(order.key, None)
                elif placement is not None:
                    self.placements[order.key] = placement
        finally:
            self._deferring = False

    def _deliver_place(self, message_order, txhash: str, height: int, time_ns: int) -> None:
        market = self.markets[message_order.order_id.clob_pair_id]
        order_hash = hashlib.sha256(message_order.SerializeToString()).digest()
        order = self._make_order(message_order, market, order_hash, txhash)
        if order.order_flags == FLAG_TWAP:
            parameters = message_order.twap_parameters
            order = twap.TwapOrder(
                order, parameters.duration, parameters.interval, parameters.price_tolerance,
            )
        order.created_at_height = height
        self.placements[order.key] = (
            message_order.SerializeToString(), height, self._block_tx_index,
        )
        if order.order_flags == FLAG_TWAP:
            twap.place(self, order, height, time_ns)
            return
        if order.order_flags == FLAG_CONDITIONAL:
            order.status = "UNTRIGGERED"
            self._stateful_add(order)
            self.bus.publish(OrderPlacedEvent(0, height, time_ns, order.snapshot()))
            return
        order.status = "OPEN"
        self.bus.publish(OrderPlacedEvent(0, height, time_ns, order.snapshot()))
        # In state from this block; on the book (and matched) from the next one
        self._to_place[order.key] = order

    def _deliver_cancel(self, key: OrderKey, height: int, time_ns: int) -> None:
        order = self._to_place.pop(key, None)
        if order is None:
            order = self.stateful.get(key)
        self.cancelled_last_block.add(key)
        if order is None:
            return
        self.markets[key[4]].book.remove(order)
        self._stateful_remove(key)
        order.status = "CANCELED"
        self._publish_removed(order, 2, height, time_ns)

    def _end_block(self, height: int, time_ns: int) -> None:
        for key in [k for k, o in self.short_orders.items() if o.good_til_block <= height]:
            order = self.short_orders[key]
            self._remove_resting(order, self.markets[key[4]], 1, height, time_ns)
        passed = [k for k, o in self.best_effort_canceled.items() if o.good_til_block <= height]
        for key in passed:
            order = self.best_effort_canceled.pop(key)
            if key in self.short_orders:
                continue
            order.status = "CANCELED"
            self._publish_removed(order, 2, height, time_ns)
        block_seconds = time_ns // 1_000_000_000
        expired = [k for k, o in self.stateful.items() if o.good_til_block_time <= block_seconds]
        for key in expired:
            order = self.stateful[key]
            self._remove_resting(order, self.markets[key[4]], 1, height, time_ns)
        # Included this block but already past its expiry (e.g. after stalled blocks)
        late = [k for k, o in self._to_place.items() if o.good_til_block_time <= block_seconds]
        for key in late:
            order = self._to_place.pop(key)
            order.status = "CANCELED"
            self.removed_last_block.add(key)
            self._publish_removed(order, 1, height, time_ns)
        twap.on_block(self, height, time_ns)
        for key, order in list(self.stateful.items()):
            if order.order_flags != FLAG_CONDITIONAL or order.triggered:
                continue
            market = self.markets[key[4]]
            low, high = self._trigger_prices(market)
            if _is_triggered(order, low, high):
                order.triggered = True
                order.status = "OPEN"
                # The StatefulOrder query still answers for a triggered order that rests
                placement = self.placements.get(key)
                if placement is not None:
                    self._triggered_placements[key] = placement
                self._stateful_remove(key)
                self._begin_tx()
                self.bus.publish(
                    OrderUpdatedEvent(0, height, time_ns, order.snapshot(), "TRIGGERED"),
                )
                self._to_place[key] = order
        self._trade_range = {}
        self.short_fills = {k: v for k, v in self.short_fills.items() if v[1] > height}
        self.short_cancels = {k: v for k, v in self.short_cancels.items() if v > height}
        window = max(
            [b for b, _ in self.config.stateful_rate_limits]
            + [b for b, _ in self.config.short_term_rate_limits]
            + [1],
        )
        for per_height in self.rate.values():
            for h in [h for h in per_height if h <= height + 1 - window]:
                del per_height[h]
        self.seen = {
            h: seen_at for h, seen_at in self.seen.items()
            if seen_at > height - 2 * self.config.short_block_window
        }

    def _trigger_prices(self, market: Market) -> tuple[int, int]:
        # (lowest, highest) price of the block for triggering: the oracle price, and the block's
        # trade prices clamped to oracle +/- 5 min price changes, rounded pessimistically
        oracle = market.oracle_subticks
        trades = self._trade_range.get(market.config.clob_pair_id)
        if trades is None:
            return oracle, oracle
        allowed = Fraction(
            oracle * market.config.min_price_change_ppm * CONDITIONAL_ORDER_TRIGGER_MULTIPLIER,
            1_000_000,
        )
        lower = oracle - allowed
        upper = oracle + allowed
        low = math.ceil(min(max(Fraction(trades[0]), lower), upper))
        high = math.floor(min(max(Fraction(trades[1]), lower), upper))
        return min(oracle, low), max(oracle, high)


# -- Message helpers ---------------------------------------------------------------------------


def _decode_message(any_msg):
    classes = {
        URL_PLACE: clob_tx_pb2.MsgPlaceOrder,
        URL_CANCEL: clob_tx_pb2.MsgCancelOrder,
        URL_BATCH: clob_tx_pb2.MsgBatchCancel,
    }
    cls = classes.get(any_msg.type_url) or surface.MESSAGE_CLASSES.get(any_msg.type_url)
    if cls is None:
        raise _sdk(2, f"unable to resolve type URL {any_msg.type_url}: tx parse error")
    message = cls()
    try:
        message.ParseFromString(any_msg.value)
    except DecodeError as e:
        raise _sdk(2, f"tx parse error: {e}") from None
    return message


def _is_short_term(message) -> bool:
    if surface.is_surface_message(message):
        return False
    if isinstance(message, clob_tx_pb2.MsgBatchCancel):
        return True
    if isinstance(message, clob_tx_pb2.MsgPlaceOrder):
        return message.order.order_id.order_flags == FLAG_SHORT_TERM
    return message.order_id.order_flags == FLAG_SHORT_TERM


def _signer(message) -> str:
    if surface.is_surface_message(message):
        return surface.signer(message)
    if isinstance(message, clob_tx_pb2.MsgBatchCancel):
        return message.subaccount_id.owner
    if isinstance(message, clob_tx_pb2.MsgPlaceOrder):
        return message.order.order_id.subaccount_id.owner
    return message.order_id.subaccount_id.owner


def _validate_subaccount(subaccount_id) -> None:
    validate_subaccount_id(subaccount_id)


def _validate_flags(flags: int) -> None:
    if flags not in (FLAG_SHORT_TERM, FLAG_CONDITIONAL, FLAG_LONG_TERM, FLAG_TWAP):
        raise _clob(3000, f"order flags {flags}: Invalid order flags")


def _validate_basic(message) -> None:
    if surface.is_surface_message(message):
        surface.validate_basic(message)
        return
    if isinstance(message, clob_tx_pb2.MsgPlaceOrder):
        order = message.order
        _validate_subaccount(order.order_id.subaccount_id)
        flags = order.order_id.order_flags
        _validate_flags(flags)
        if order.time_in_force == TIF_FILL_OR_KILL:
            raise _clob(48, "Fill-or-kill orders are deprecated: This field has been deprecated")
        if order.time_in_force not in (0, TIF_IOC, TIF_POST_ONLY):
            raise _clob(44, f"time in force {order.time_in_force}: invalid time in force")
        if order.side not in (SIDE_BUY, SIDE_SELL):
            raise _clob(3, f"side {order.side}: Invalid order side")
        if order.quantums == 0:
            raise _clob(4, "order size quantums cannot be 0: Invalid order quantums")
        if flags == FLAG_SHORT_TERM:
            if order.good_til_block == 0:
                raise _clob(5, "short-term order requires a non-zero GoodTilBlock: Invalid order "
                               "goodTilBlock")
        elif order.good_til_block_time == 0:
            raise _clob(3001, "stateful order requires a non-zero GoodTilBlockTime: Invalid "
                              "order goodTilBlockTime")
        if order.subticks == 0 and flags != FLAG_TWAP:
            # A TWAP with subticks 0 is a market TWAP
            raise _clob(6, "order subticks cannot be 0: Invalid order subticks")
        if flags == FLAG_LONG_TERM and order.time_in_force == TIF_IOC:
            raise _clob(3002, "Stateful orders cannot require immediate execution")
        if order.reduce_only and order.time_in_force != TIF_IOC:
            raise _clob(9003, "Reduce-only is currently disabled for non-IOC orders")
        if flags == FLAG_CONDITIONAL:
            if order.condition_type not in (1, 2):
                raise _clob(6000, "Conditional type is invalid")
            if order.conditional_order_trigger_subticks == 0:
                raise _clob(6001, "Conditional order trigger subticks is invalid")
        else:
            if order.condition_type != 0:
                raise _clob(6000, "non-conditional order has a condition type: Conditional type "
                                  "is invalid")
            if order.conditional_order_trigger_subticks != 0:
                raise _clob(6001, "non-conditional order has trigger subticks: Conditional "
                                  "order trigger subticks is invalid")
        if order.HasField("builder_code_parameters"):
            builder = order.builder_code_parameters
            if not is_valid_address(builder.builder_address) or not (
                0 < builder.fee_ppm <= 10_000
            ):
                raise _clob(50, "Invalid builder code")
        if order.order_router_address and (
            flags != FLAG_SHORT_TERM or not is_valid_address(order.order_router_address)
        ):
            raise _clob(11000, "Invalid order router address")
        if flags == FLAG_TWAP:
            twap.validate_basic(order)
    elif isinstance(message, clob_tx_pb2.MsgCancelOrder):
        _validate_subaccount(message.order_id.subaccount_id)
        flags = message.order_id.order_flags
        _validate_flags(flags)
        if flags == FLAG_SHORT_TERM:
            if message.good_til_block == 0:
                raise _clob(5, "cancel requires a non-zero GoodTilBlock: Invalid order "
                               "goodTilBlock")
        elif message.good_til_block_time == 0:
            raise _clob(3001, "stateful cancel requires a non-zero GoodTilBlockTime: Invalid "
                              "order goodTilBlockTime")
    else:
        _validate_subaccount(message.subaccount_id)
        batches = message.short_term_cancels
        if not batches:
            raise _clob(45, "batch cancel has no batches: Invalid batch cancel message")
        total = sum(len(b.client_ids) for b in batches)
        if total > MAX_BATCH_CANCEL_IDS:
            raise _clob(45, f"batch cancel has {total} client ids, more than "
                            f"{MAX_BATCH_CANCEL_IDS}: Invalid batch cancel message")
        clob_ids = [b.clob_pair_id for b in batches]
        if len(set(clob_ids)) != len(clob_ids):
            raise _clob(45, "duplicate clob pair id in batch cancel: Invalid batch cancel "
                            "message")
        for batch in batches:
            ids = list(batch.client_ids)
            if not ids or len(set(ids)) != len(ids):
                raise _clob(45, f"empty or duplicate client ids for clob pair "
                                f"{batch.clob_pair_id}: Invalid batch cancel message")
        if message.good_til_block == 0:
            raise _clob(5, "batch cancel requires a non-zero GoodTilBlock: Invalid order "
                           "goodTilBlock")


def _order_key(order_id) -> OrderKey:
    return (
        order_id.subaccount_id.owner,
        order_id.subaccount_id.number,
        order_id.client_id,
        order_id.order_flags,
        order_id.clob_pair_id,
    )


def _fmt_key(key: OrderKey) -> str:
    return f"{key[0]}/{key[1]} client {key[2]} flags {key[3]} clob {key[4]}"


def _snapshot_with_status(order: Order, status: str):
    previous = order.status
    order.status = status
    snapshot = order.snapshot()
    order.status = previous
    return snapshot


def _is_triggered(order: Order, low: int, high: int) -> bool:
    # Stop-loss buy and take-profit sell trigger on a high price, the others on a low one
    trigger = order.trigger_subticks
    rises = (order.condition_type == 1) == (order.side == SIDE_BUY)
    return high >= trigger if rises else low <= trigger
