# SPDX-License-Identifier: Apache-2.0
"""Seeded live markets: an oracle random walk, liquidity agents quoting a deep book, and takers."""

from __future__ import annotations

import asyncio
import hashlib
import random
from dataclasses import dataclass
from decimal import Decimal

import coincurve

from nautilus_dydx._proto.cosmos.crypto.secp256k1 import keys_pb2
from nautilus_dydx._proto.cosmos.tx.v1beta1 import tx_pb2
from nautilus_dydx._proto.dydxprotocol.clob import order_pb2
from nautilus_dydx._proto.dydxprotocol.clob import tx_pb2 as clob_tx_pb2
from nautilus_dydx._proto.dydxprotocol.subaccounts import subaccount_pb2
from nautilus_dydx._proto.google.protobuf import any_pb2
from nautilus_dydx.sandbox.events import BlockEvent
from nautilus_dydx.sandbox.keys import SandboxKey
from nautilus_dydx.sandbox.keys import key_from_seed
from nautilus_dydx.sandbox.node import SandboxNode


# Agent keys are derived from the node seed at indices far above the funded test accounts
AGENT_KEY_OFFSET = 10_000
SIDE_BUY = 1
SIDE_SELL = 2
TIF_IOC = 1


@dataclass(frozen=True)
class AgentConfig:
    """
    Live market settings.

    Parameters
    ----------
    levels : int, default 120
        Price levels quoted per side (the snapshot shows 100).
    tick_levels : int, default 1
        Ticks between adjacent quoted levels.
    volatility_bps : float, default 2.0
        The oracle random walk standard deviation per block, in basis points.
    taker_probability : float, default 0.5
        The chance per block and market that a taker crosses the spread.
    order_steps : int, default 5
        The maximum order size in size steps.
    requote_every : int, default 5
        Blocks between full re-quotes (orders live twice as long).

    """

    levels: int = 120
    tick_levels: int = 1
    volatility_bps: float = 2.0
    taker_probability: float = 0.5
    order_steps: int = 5
    requote_every: int = 5


def _sign(key: SandboxKey, chain_id: str, account_number: int, messages: list) -> bytes:
    body = tx_pb2.TxBody(
        messages=[any_pb2.Any(type_url=url, value=m.SerializeToString()) for url, m in messages],
    )
    signer = tx_pb2.SignerInfo(
        mode_info=tx_pb2.ModeInfo(single=tx_pb2.ModeInfo.Single(mode=1)), sequence=0,
    )
    signer.public_key.CopyFrom(
        any_pb2.Any(
            type_url="/cosmos.crypto.secp256k1.PubKey",
            value=keys_pb2.PubKey(key=key.public_key).SerializeToString(),
        ),
    )
    auth = tx_pb2.AuthInfo(signer_infos=[signer], fee=tx_pb2.Fee(gas_limit=1_000_000))
    body_bytes = body.SerializeToString()
    auth_bytes = auth.SerializeToString()
    doc = tx_pb2.SignDoc(
        body_bytes=body_bytes, auth_info_bytes=auth_bytes, chain_id=chain_id,
        account_number=account_number,
    )
    digest = hashlib.sha256(doc.SerializeToString()).digest()
    signature = coincurve.PrivateKey(key.private_key).sign_recoverable(digest, hasher=None)[:64]
    return tx_pb2.TxRaw(
        body_bytes=body_bytes, auth_info_bytes=auth_bytes, signatures=[signature],
    ).SerializeToString()


class MarketAgents:
    """
    Liquidity agents for every market of a node: two market makers and one taker, all seeded.

    Orders go through `ChainState.check_tx` (the same CheckTx path as gRPC) as short-term orders
    signed by agent accounts funded at start; the oracle follows a seeded random walk.

    Parameters
    ----------
    node : SandboxNode
        The node.
    config : AgentConfig | None, default None
        The settings.
    seed : int | None, default None
        The random seed (the node seed when None).

    """

    def __init__(
        self, node: SandboxNode, config: AgentConfig | None = None, seed: int | None = None,
    ) -> None:
        self.node = node
        self.config = config if config is not None else AgentConfig()
        self.random = random.Random(node.config.seed if seed is None else seed)
        self.makers: list[SandboxKey] = []
        self.taker: SandboxKey | None = None
        self._account_numbers: dict[str, int] = {}
        self._client_id = 0
        self._unsubscribe = None
        self.blocks = 0
        self.rejected = 0
        self._task: asyncio.Task | None = None

    def setup(self) -> None:
        """Create and fund the agent accounts and quote the initial book."""
        chain = self.node.chain
        for index in range(3):
            key = key_from_seed(self.node.config.seed, AGENT_KEY_OFFSET + index)
            if key.address not in chain.accounts:
                number = 1_000_000 + index
                chain.add_account(key, number)
                chain.fund(key.address, 0, 10**15)
            self._account_numbers[key.address] = chain.accounts[key.address].account_number
            if index < 2:
                self.makers.append(key)
            else:
                self.taker = key
        self.requote()

    def _next_client_id(self) -> int:
        self._client_id = (self._client_id + 1) % (2**32)
        return self._client_id

    def _send(self, key: SandboxKey, messages: list) -> None:
        tx = _sign(key, self.node.chain.chain_id, self._account_numbers[key.address], messages)
        result = self.node.chain.check_tx(tx)
        if result.code != 0:
            self.rejected += 1

    def _order(self, key: SandboxKey, clob_pair_id: int, side: int, quantums: int, subticks: int,
               good_til_block: int, tif: int = 0) -> tuple[str, object]:
        order = order_pb2.Order(
            order_id=order_pb2.OrderId(
                subaccount_id=subaccount_pb2.SubaccountId(owner=key.address, number=0),
                client_id=self._next_client_id(),
                order_flags=0,
                clob_pair_id=clob_pair_id,
            ),
            side=side,
            quantums=quantums,
            subticks=subticks,
            good_til_block=good_til_block,
            time_in_force=tif,
        )
        return "/dydxprotocol.clob.MsgPlaceOrder", clob_tx_pb2.MsgPlaceOrder(order=order)

    def requote(self) -> None:
        """Quote `levels` price levels per side around the oracle for every market."""
        cfg = self.config
        chain = self.node.chain
        good_til = chain.height + min(2 * cfg.requote_every, chain.config.short_block_window - 1)
        for market in chain.markets.values():
            params = market.config
            tick = params.subticks_per_tick
            oracle = market.oracle_subticks - market.oracle_subticks % tick
            for side in (SIDE_BUY, SIDE_SELL):
                for level in range(1, cfg.levels + 1):
                    maker = self.makers[level % 2]
                    offset = level * cfg.tick_levels * tick
                    subticks = oracle - offset if side == SIDE_BUY else oracle + offset
                    if subticks <= 0:
                        continue
                    steps = self.random.randint(1, cfg.order_steps)
                    quantums = steps * params.step_base_quantums
                    self._send(maker, [self._order(maker, params.clob_pair_id, side, quantums,
                                                   subticks, good_til)])

    def on_block(self) -> None:
        """Move the oracle, send takers and re-quote on schedule (call once per block)."""
        cfg = self.config
        chain = self.node.chain
        self.blocks += 1
        for market in list(chain.markets.values()):
            params = market.config
            price = Decimal(market.oracle_price)
            shock = Decimal(str(self.random.gauss(0.0, cfg.volatility_bps / 10_000)))
            new_price = price * (1 + shock)
            tick_price = Decimal(params.subticks_per_tick).scaleb(
                params.quantum_conversion_exponent - params.atomic_resolution - 6,
            )
            new_price = (new_price / tick_price).to_integral_value() * tick_price
            if new_price > 0 and new_price != price:
                self.node.set_oracle_price(params.ticker, format(new_price.normalize(), "f"))
            if self.taker is not None and self.random.random() < cfg.taker_probability:
                side = self.random.choice((SIDE_BUY, SIDE_SELL))
                steps = self.random.randint(1, cfg.order_steps)
                limit = market.oracle_subticks * (2 if side == SIDE_BUY else 1) // (
                    1 if side == SIDE_BUY else 2
                )
                limit -= limit % params.subticks_per_tick
                self._send(self.taker, [self._order(
                    self.taker, params.clob_pair_id, side, steps * params.step_base_quantums,
                    max(limit, params.subticks_per_tick), chain.height + 5, TIF_IOC,
                )])
        if self.blocks % cfg.requote_every == 0:
            self.requote()

    def start(self) -> None:
        """Set up and follow the node's blocks."""
        self.setup()

        def on_event(event) -> None:
            if isinstance(event, BlockEvent):
                try:
                    asyncio.get_running_loop().call_soon(self.on_block)
                except RuntimeError:
                    self.on_block()

        self._unsubscribe = self.node.subscribe(on_event)

    async def stop(self) -> None:
        """Stop following blocks."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
