# SPDX-License-Identifier: Apache-2.0
"""`DYDXTransactionSender`: sign and broadcast order txs with sequence or nonce management."""

from __future__ import annotations

import asyncio
from enum import Enum
from enum import unique

import msgspec

from nautilus_dydx._core.orders import TxSigner
from nautilus_dydx._core.orders import tx_hash
from nautilus_dydx.common.blocks import BlockTracker
from nautilus_dydx.grpc.client import DYDXNodeClient
from nautilus_dydx.grpc.errors import DYDXBroadcastUnknownError
from nautilus_dydx.grpc.errors import DYDXNodeError
from nautilus_dydx.grpc.sequence import MAX_TIMESTAMP_NONCES
from nautilus_dydx.grpc.sequence import TimestampNonces
from nautilus_dydx.grpc.sequence import expected_sequence
from nautilus_dydx.grpc.sequence import is_sequence_error
from nautilus_dydx.grpc.types import AccountInfo
from nautilus_dydx.grpc.types import TxResult
from nautilus_dydx.wallet import Wallet


@unique
class TxStatus(Enum):
    """The outcome of one submission."""

    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


@unique
class SequenceMode(Enum):
    """How stateful transactions get their `SignerInfo.sequence`."""

    SEQUENTIAL = "sequential"
    TIMESTAMP = "timestamp"


# Codespace of an outcome where the tx was definitely not executed because it never got an
# answer from any node (code is the gRPC status value)
CODESPACE_TRANSPORT = "grpc"


class TxOutcome(msgspec.Struct, frozen=True):
    """
    The outcome of one submission.

    ACCEPTED: CheckTx code 0. REJECTED: a definitive rejection (nothing executed); `code`,
    `codespace` and `raw_log` say why (codespace ``grpc`` and code -1 when no node could be
    reached, so nothing was sent). UNKNOWN: the bytes may have reached a node but no
    answer came back; confirm with `confirm(txhash)` (stateful) or the Indexer (short-term)
    and never re-sign.
    """

    status: TxStatus
    txhash: str
    code: int = 0
    codespace: str = ""
    raw_log: str = ""
    sequence: int = 0
    attempts: int = 1


class DYDXTransactionSender:
    """
    Sign and broadcast transactions of one account.

    Short-term transactions (one short-term place/cancel or batch cancel) never consume or
    wait for the sequence: they carry the cached value and go out concurrently. Stateful
    transactions either go one at a time with a local sequence (incremented only after
    CheckTx success or an unknown outcome; resynced and re-signed, bounded, on a sequence
    mismatch) or, in `SequenceMode.TIMESTAMP`, carry unique increasing millisecond nonces
    on the chain's clock and need no serialization. A definitive rejection is final and an
    ambiguous outcome is reported UNKNOWN with the tx hash: nothing is ever sent twice.

    Parameters
    ----------
    node : DYDXNodeClient
        The node client.
    wallet : Wallet
        The account key.
    chain_id : str
        The chain id signatures commit to.
    mode : SequenceMode, default SequenceMode.SEQUENTIAL
        The stateful sequence policy.
    tracker : BlockTracker, optional
        The block tracker giving the chain clock (timestamp mode); one is made if None.
    max_resyncs : int, default 3
        Re-signs after sequence/nonce rejections, per transaction.
    memo : str, default ""
        The memo of every transaction.

    """

    def __init__(
        self,
        node: DYDXNodeClient,
        wallet: Wallet,
        chain_id: str,
        mode: SequenceMode = SequenceMode.SEQUENTIAL,
        tracker: BlockTracker | None = None,
        max_resyncs: int = 3,
        memo: str = "",
    ) -> None:
        self.node = node
        self.wallet = wallet
        self.chain_id = chain_id
        self.mode = SequenceMode(mode)
        self.tracker = tracker if tracker is not None else BlockTracker()
        self.max_resyncs = max_resyncs
        self.memo = memo
        self._signer: TxSigner | None = None
        self._next_sequence = 0
        self._lock = asyncio.Lock()
        self._nonce_slots = asyncio.Semaphore(MAX_TIMESTAMP_NONCES)
        self._nonces = TimestampNonces(lambda: self.tracker.chain_time_ns() // 1_000_000)
        self.resyncs = 0

    @property
    def next_sequence(self) -> int:
        """The sequence the next sequential stateful transaction will carry."""
        return self._next_sequence

    @property
    def account_number(self) -> int:
        """The cached account number."""
        if self._signer is None:
            raise RuntimeError("the sender is not started")
        return self._signer.account_number

    async def start(self, account: AccountInfo | None = None) -> None:
        """
        Load the account number and sequence (and the chain clock in timestamp mode).

        Parameters
        ----------
        account : AccountInfo, optional
            The account if already known; queried from the node if None.

        Raises
        ------
        DYDXNodeError
            If the account does not exist or the node cannot be reached.

        """
        if account is None:
            account = await self.node.get_account(self.wallet.address)
        elif account.address != self.wallet.address:
            raise ValueError(
                f"account {account.address!r} is not the wallet's ({self.wallet.address!r})",
            )
        self._signer = self.wallet.signer(self.chain_id, account.account_number)
        self._next_sequence = account.sequence
        if self.mode == SequenceMode.TIMESTAMP and not self.tracker.has_block:
            await self.tracker.refresh(self.node)

    async def send_short_term(self, message: bytes) -> TxOutcome:
        """
        Sign and broadcast one short-term place, cancel or batch cancel (`Any` bytes).

        Parameters
        ----------
        message : bytes
            The encoded `Any` (e.g. `MarketEncoder.place_order_any(...)`).

        Returns
        -------
        TxOutcome

        """
        signer = self._started()
        sequence = self._next_sequence
        return await self._broadcast(signer.sign_tx(message, sequence, self.memo), sequence, 1)

    def sign_short_term(self, message: bytes) -> tuple[bytes, int]:
        """
        Sign one short-term message now and return (tx bytes, sequence) for `broadcast_signed`.

        Parameters
        ----------
        message : bytes
            The encoded `Any`.

        Returns
        -------
        tuple[bytes, int]

        """
        sequence = self._next_sequence
        return self._started().sign_tx(message, sequence, self.memo), sequence

    async def broadcast_signed(self, tx: bytes, sequence: int) -> TxOutcome:
        """
        Broadcast a transaction from `sign_short_term` once (never re-signed or re-sent).

        Parameters
        ----------
        tx : bytes
            The signed `TxRaw`.
        sequence : int
            The sequence it carries.

        Returns
        -------
        TxOutcome

        """
        return await self._broadcast(tx, sequence, 1)

    async def send_stateful(self, messages: bytes | list[bytes]) -> TxOutcome:
        """
        Sign and broadcast stateful messages (`Any` bytes) under the configured sequence mode.

        Parameters
        ----------
        messages : bytes | list[bytes]
            One or more encoded `Any` messages.

        Returns
        -------
        TxOutcome

        """
        self._started()
        if self.mode == SequenceMode.TIMESTAMP:
            async with self._nonce_slots:
                return await self._send_with_nonce(messages)
        async with self._lock:
            return await self._send_sequential(messages)

    async def confirm(self, txhash: str) -> TxResult | None:
        """
        Return the included transaction's result, or None if it is not in a block (yet).

        Parameters
        ----------
        txhash : str
            The hash from an UNKNOWN outcome.

        Returns
        -------
        TxResult | None

        """
        return await self.node.get_tx(txhash)

    async def resync(self, raw_log: str = "") -> int:
        """
        Set the local sequence from a mismatch log, else from the chain; return it.

        Parameters
        ----------
        raw_log : str, default ""
            The rejection log (``... expected N, got M ...``).

        Returns
        -------
        int

        """
        expected = expected_sequence(raw_log)
        if expected is None:
            expected = (await self.node.get_account(self.wallet.address)).sequence
        self._next_sequence = expected
        self.resyncs += 1
        return expected

    def _started(self) -> TxSigner:
        if self._signer is None:
            raise RuntimeError("the sender is not started: call `start()` first")
        return self._signer

    async def _send_sequential(self, messages: bytes | list[bytes]) -> TxOutcome:
        signer = self._started()
        attempt = 0
        while True:
            attempt += 1
            sequence = self._next_sequence
            tx = signer.sign_tx(messages, sequence, self.memo)
            outcome = await self._broadcast(tx, sequence, attempt)
            if outcome.status != TxStatus.REJECTED:
                # Accepted, or maybe accepted: a wrong guess is corrected by the next mismatch
                self._next_sequence = sequence + 1
                return outcome
            if attempt > self.max_resyncs or not is_sequence_error(
                outcome.code, outcome.codespace, outcome.raw_log,
            ):
                return outcome
            await self.resync(outcome.raw_log)

    async def _send_with_nonce(self, messages: bytes | list[bytes]) -> TxOutcome:
        signer = self._started()
        attempt = 0
        while True:
            attempt += 1
            nonce = self._nonces.next()
            tx = signer.sign_tx(messages, nonce, self.memo)
            outcome = await self._broadcast(tx, nonce, attempt)
            if outcome.status != TxStatus.REJECTED or attempt > self.max_resyncs:
                return outcome
            if not is_sequence_error(outcome.code, outcome.codespace, outcome.raw_log):
                return outcome
            self.resyncs += 1
            if "time window" in outcome.raw_log:
                await self.tracker.refresh(self.node)
                self._nonces.rebase()

    async def _broadcast(self, tx: bytes, sequence: int, attempts: int) -> TxOutcome:
        txhash = tx_hash(tx)
        try:
            result = await self.node.broadcast_tx(tx, txhash)
        except DYDXBroadcastUnknownError as e:
            return TxOutcome(
                TxStatus.UNKNOWN, txhash, raw_log=f"{e.code}: {e.details}",
                sequence=sequence, attempts=attempts,
            )
        except DYDXNodeError as e:
            return TxOutcome(
                TxStatus.REJECTED, txhash, code=-1, codespace=CODESPACE_TRANSPORT,
                raw_log=f"{e.code}: {e.details}", sequence=sequence, attempts=attempts,
            )
        status = TxStatus.ACCEPTED if result.code == 0 else TxStatus.REJECTED
        return TxOutcome(
            status, result.txhash, result.code, result.codespace, result.raw_log,
            sequence, attempts,
        )
