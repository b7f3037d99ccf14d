# SPDX-License-Identifier: Apache-2.0
"""`SandboxNode`: the offline dYdX chain node behind a loopback grpc.aio server."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import socket
from collections.abc import Callable
from collections.abc import Sequence
from datetime import datetime
from datetime import timezone
from decimal import Decimal

import grpc

from nautilus_dydx._proto.cosmos.auth.v1beta1 import auth_pb2
from nautilus_dydx._proto.cosmos.auth.v1beta1 import query_pb2 as auth_query_pb2
from nautilus_dydx._proto.cosmos.auth.v1beta1 import query_pb2_grpc as auth_query_grpc
from nautilus_dydx._proto.cosmos.base.abci.v1beta1 import abci_pb2
from nautilus_dydx._proto.cosmos.base.tendermint.v1beta1 import query_pb2 as tm_query_pb2
from nautilus_dydx._proto.cosmos.base.tendermint.v1beta1 import query_pb2_grpc as tm_query_grpc
from nautilus_dydx._proto.cosmos.crypto.secp256k1 import keys_pb2
from nautilus_dydx._proto.cosmos.tx.v1beta1 import service_pb2
from nautilus_dydx._proto.cosmos.tx.v1beta1 import service_pb2_grpc
from nautilus_dydx._proto.cosmos.tx.v1beta1 import tx_pb2
from nautilus_dydx._proto.dydxprotocol.feetiers import params_pb2 as fee_params_pb2
from nautilus_dydx._proto.dydxprotocol.feetiers import query_pb2 as fee_query_pb2
from nautilus_dydx._proto.dydxprotocol.feetiers import query_pb2_grpc as fee_query_grpc
from nautilus_dydx._proto.google.protobuf import any_pb2
from nautilus_dydx._proto.google.protobuf import timestamp_pb2
from nautilus_dydx._proto.tendermint.types import types_pb2
from nautilus_dydx.sandbox.chain import Account
from nautilus_dydx.sandbox.chain import ChainState
from nautilus_dydx.sandbox.config import SandboxConfig
from nautilus_dydx.sandbox.events import EventBus
from nautilus_dydx.sandbox.events import SandboxEvent
from nautilus_dydx.sandbox.http_server import PortInUseError
from nautilus_dydx.sandbox.queries import add_query_services
from nautilus_dydx.sandbox.queries import node_info_response


BROADCAST_MODE_BLOCK = 1
BROADCAST_MODE_SYNC = 2
BROADCAST_MODE_ASYNC = 3


def _timestamp(time_ns: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=time_ns // 1_000_000_000, nanos=time_ns % 1_000_000_000)


def _rfc3339(time_ns: int) -> str:
    moment = datetime.fromtimestamp(time_ns // 1_000_000_000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _port_free(host: str, port: int) -> bool:
    # Probe first so a busy port gives our one-line error rather than gRPC core's log line
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


class _TxService(service_pb2_grpc.ServiceServicer):
    def __init__(self, node: SandboxNode) -> None:
        self._node = node

    async def BroadcastTx(self, request, context):  # noqa: N802
        if request.mode not in (BROADCAST_MODE_SYNC, BROADCAST_MODE_ASYNC):
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"unsupported broadcast mode {request.mode}; use BROADCAST_MODE_SYNC",
            )
        result = self._node.chain.check_tx(request.tx_bytes)
        if request.mode == BROADCAST_MODE_ASYNC:
            response = abci_pb2.TxResponse(txhash=result.txhash)
        else:
            response = abci_pb2.TxResponse(
                txhash=result.txhash,
                codespace=result.codespace,
                code=result.code,
                raw_log=result.raw_log,
                gas_wanted=0,
                gas_used=result.gas_used if result.code == 0 else 0,
            )
        return service_pb2.BroadcastTxResponse(tx_response=response)

    async def Simulate(self, request, context):  # noqa: N802
        tx_bytes = request.tx_bytes
        if not tx_bytes and request.HasField("tx"):
            tx = request.tx
            tx_bytes = tx_pb2.TxRaw(
                body_bytes=tx.body.SerializeToString(),
                auth_info_bytes=tx.auth_info.SerializeToString(),
                signatures=list(tx.signatures),
            ).SerializeToString()
        result = self._node.chain.check_tx(tx_bytes, simulate=True)
        if result.code != 0:
            await context.abort(
                grpc.StatusCode.UNKNOWN,
                f"codespace {result.codespace} code {result.code}: {result.raw_log}",
            )
        return service_pb2.SimulateResponse(
            gas_info=abci_pb2.GasInfo(gas_wanted=0, gas_used=result.gas_used),
            result=abci_pb2.Result(log=""),
        )

    async def GetTx(self, request, context):  # noqa: N802
        included = self._node.chain.included.get(request.hash.upper())
        if included is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"tx not found: {request.hash}")
        raw = tx_pb2.TxRaw.FromString(included.tx_bytes)
        tx = tx_pb2.Tx(
            body=tx_pb2.TxBody.FromString(raw.body_bytes),
            auth_info=tx_pb2.AuthInfo.FromString(raw.auth_info_bytes),
            signatures=list(raw.signatures),
        )
        tx_any = any_pb2.Any(type_url="/cosmos.tx.v1beta1.Tx", value=tx.SerializeToString())
        response = abci_pb2.TxResponse(
            height=included.height,
            txhash=included.txhash,
            code=0,
            tx=tx_any,
            timestamp=_rfc3339(included.time_ns),
        )
        return service_pb2.GetTxResponse(tx=tx, tx_response=response)


class _AuthService(auth_query_grpc.QueryServicer):
    def __init__(self, node: SandboxNode) -> None:
        self._node = node

    async def Account(self, request, context):  # noqa: N802
        account = self._node.chain.accounts.get(request.address)
        if account is None:
            await context.abort(
                grpc.StatusCode.NOT_FOUND, f"account {request.address} not found",
            )
        base = auth_pb2.BaseAccount(
            address=account.address,
            account_number=account.account_number,
            sequence=account.sequence,
        )
        if account.pub_key is not None:
            base.pub_key.CopyFrom(
                any_pb2.Any(
                    type_url="/cosmos.crypto.secp256k1.PubKey",
                    value=keys_pb2.PubKey(key=account.pub_key).SerializeToString(),
                ),
            )
        packed = any_pb2.Any(
            type_url="/cosmos.auth.v1beta1.BaseAccount", value=base.SerializeToString(),
        )
        return auth_query_pb2.QueryAccountResponse(account=packed)


class _TendermintService(tm_query_grpc.ServiceServicer):
    def __init__(self, node: SandboxNode) -> None:
        self._node = node

    async def GetNodeInfo(self, request, context):  # noqa: N802
        return node_info_response(self._node)

    async def GetLatestBlock(self, request, context):  # noqa: N802
        chain = self._node.chain
        time = _timestamp(chain.time_ns)
        block_hash = hashlib.sha256(
            f"{chain.config.seed}:{chain.chain_id}:{chain.height}".encode(),
        ).digest()
        return tm_query_pb2.GetLatestBlockResponse(
            block_id=types_pb2.BlockID(hash=block_hash),
            block=types_pb2.Block(
                header=types_pb2.Header(chain_id=chain.chain_id, height=chain.height, time=time),
                data=types_pb2.Data(txs=list(chain.last_block_txs)),
            ),
            sdk_block=tm_query_pb2.Block(
                header=tm_query_pb2.Header(
                    chain_id=chain.chain_id, height=chain.height, time=time,
                ),
                data=types_pb2.Data(txs=list(chain.last_block_txs)),
            ),
        )


class _FeeTierService(fee_query_grpc.QueryServicer):
    def __init__(self, node: SandboxNode) -> None:
        self._node = node

    def _tier(self, index: int) -> fee_params_pb2.PerpetualFeeTier:
        tier = self._node.config.fee_tiers[index]
        return fee_params_pb2.PerpetualFeeTier(
            name=tier.name,
            absolute_volume_requirement=tier.absolute_volume_requirement,
            maker_fee_ppm=tier.maker_fee_ppm,
            taker_fee_ppm=tier.taker_fee_ppm,
        )

    async def PerpetualFeeParams(self, request, context):  # noqa: N802
        tiers = [self._tier(i) for i in range(len(self._node.config.fee_tiers))]
        return fee_query_pb2.QueryPerpetualFeeParamsResponse(
            params=fee_params_pb2.PerpetualFeeParams(tiers=tiers),
        )

    async def UserFeeTier(self, request, context):  # noqa: N802
        account = self._node.chain.accounts.get(request.user)
        if account is None and request.user == "":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid request: empty user")
        index = 0 if account is None else min(
            account.fee_tier, len(self._node.config.fee_tiers) - 1,
        )
        return fee_query_pb2.QueryUserFeeTierResponse(index=index, tier=self._tier(index))


class SandboxNode:
    """
    An offline dYdX v4 chain node for tests: gRPC on loopback, matching, blocks and events.

    Services: `cosmos.tx.v1beta1.Service` (BroadcastTx, Simulate, GetTx),
    `cosmos.auth.v1beta1.Query/Account`, `cosmos.base.tendermint.v1beta1.Service`
    (GetLatestBlock, GetNodeInfo), `cosmos.bank.v1beta1.Query` (Balance, AllBalances),
    `dydxprotocol.blocktime.Query/PreviousBlockInfo`, `dydxprotocol.clob.Query` (ClobPair,
    ClobPairAll, EquityTierLimitConfiguration, BlockRateLimitConfiguration, StatefulOrder,
    Leverage), `dydxprotocol.subaccounts.Query` (Subaccount, SubaccountAll) and
    `dydxprotocol.feetiers.Query`. Transactions may carry orders, cancels, `MsgUpdateLeverage`
    and `MsgCreateTransfer`; TWAP orders (flags 128) and isolated markets are modelled.

    Parameters
    ----------
    config : SandboxConfig
        The node configuration.
    record_events : bool, default True
        Whether the event bus keeps a history (see `events_json_lines`).
    interceptors : Sequence[grpc.aio.ServerInterceptor], default ()
        Server interceptors of the gRPC server (the sandbox's fault injection uses one).

    Examples
    --------
    >>> node = SandboxNode(SandboxConfig(accounts=(AccountConfig(),)))  # doctest: +SKIP
    >>> await node.start()  # doctest: +SKIP
    >>> node.grpc_endpoint  # doctest: +SKIP
    '127.0.0.1:50123'

    """

    def __init__(
        self,
        config: SandboxConfig | None = None,
        record_events: bool = True,
        interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    ) -> None:
        self.config = config if config is not None else SandboxConfig()
        self._interceptors = tuple(interceptors)
        if not ipaddress.ip_address(self.config.host).is_loopback:
            raise ValueError(f"the sandbox binds loopback only, host was {self.config.host!r}")
        self.bus = EventBus(record=record_events)
        self.chain = ChainState(self.config, self.bus)
        self._server: grpc.aio.Server | None = None
        self._port = 0
        self._clock: asyncio.Task | None = None
        self._paused = not self.config.auto_blocks
        self._stopping = False

    @property
    def grpc_endpoint(self) -> str:
        """The `host:port` of the running gRPC server."""
        if self._server is None:
            raise RuntimeError("the node is not started")
        return f"{self.config.host}:{self._port}"

    @property
    def height(self) -> int:
        """The latest committed block height."""
        return self.chain.height

    @property
    def paused(self) -> bool:
        """Whether the timer produces no blocks (`auto_blocks` off, or `pause` called)."""
        return self._paused

    @property
    def block_time_ns(self) -> int:
        """The latest committed block time in unix nanoseconds."""
        return self.chain.time_ns

    @property
    def accounts(self) -> list[Account]:
        """The auth accounts in creation order."""
        return list(self.chain.accounts.values())

    async def start(self) -> None:
        """
        Bind the gRPC server on the configured loopback port and start the block clock.

        Raises
        ------
        PortInUseError
            If the port could not be bound.

        """
        if self._server is not None:
            return
        if self.config.port and not _port_free(self.config.host, self.config.port):
            raise PortInUseError("gRPC", self.config.host, self.config.port, "--grpc-port")
        # No SO_REUSEPORT: a second node on the same port must fail, not share it silently
        server = grpc.aio.server(
            interceptors=self._interceptors, options=[("grpc.so_reuseport", 0)],
        )
        service_pb2_grpc.add_ServiceServicer_to_server(_TxService(self), server)
        auth_query_grpc.add_QueryServicer_to_server(_AuthService(self), server)
        tm_query_grpc.add_ServiceServicer_to_server(_TendermintService(self), server)
        fee_query_grpc.add_QueryServicer_to_server(_FeeTierService(self), server)
        add_query_services(self, server)
        try:
            port = server.add_insecure_port(f"{self.config.host}:{self.config.port}")
        except RuntimeError:
            port = 0
        if port == 0:
            raise PortInUseError("gRPC", self.config.host, self.config.port, "--grpc-port")
        await server.start()
        self._server = server
        self._port = port
        self._stopping = False
        self._clock = asyncio.get_running_loop().create_task(self._run_clock())

    async def stop(self) -> None:
        """Stop the block clock and the gRPC server (idempotent)."""
        self._stopping = True
        if self._clock is not None:
            self._clock.cancel()
            try:
                await self._clock
            except asyncio.CancelledError:
                pass
            self._clock = None
        if self._server is not None:
            await self._server.stop(grace=None)
            self._server = None

    async def _run_clock(self) -> None:
        interval = self.config.block_time_ms / 1000
        while not self._stopping:
            await asyncio.sleep(interval)
            if not self._paused and not self._stopping:
                self.chain.advance_block()

    def pause(self) -> None:
        """Stop producing blocks on the timer (use `step_blocks`)."""
        self._paused = True

    def resume(self) -> None:
        """Resume producing blocks on the timer."""
        self._paused = False

    def step_blocks(self, count: int = 1) -> int:
        """
        Commit `count` blocks immediately and return the new height.

        Parameters
        ----------
        count : int, default 1
            The number of blocks.

        Returns
        -------
        int

        """
        if count < 0:
            raise ValueError(f"invalid block count, was {count}")
        for _ in range(count):
            self.chain.advance_block()
        return self.chain.height

    def subscribe(
        self,
        callback: Callable[[SandboxEvent], None],
        replay: bool = False,
    ) -> Callable[[], None]:
        """
        Subscribe to every later event; return the unsubscribe function.

        Parameters
        ----------
        callback : Callable[[SandboxEvent], None]
            Called synchronously on the node's loop.
        replay : bool, default False
            Deliver the recorded history first (requires `record_events=True`), so a late
            subscriber such as the Indexer also sees the genesis deposits.

        Returns
        -------
        Callable[[], None]

        """
        return self.bus.subscribe(callback, replay)

    def orderbook(self, ticker: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """
        Return the (bids, asks) levels of `ticker` as (subticks, quantums), best first.

        Parameters
        ----------
        ticker : str
            The market ticker.

        Returns
        -------
        tuple[list[tuple[int, int]], list[tuple[int, int]]]

        """
        book = self.chain.markets[self.market_id(ticker)].book
        return book.levels(1), book.levels(2)

    def subaccount(self, address: str, number: int = 0) -> dict | None:
        """
        Return a subaccount's USDC balance and positions as integers, or None if unknown.

        Parameters
        ----------
        address : str
            The owner address.
        number : int, default 0
            The subaccount number.

        Returns
        -------
        dict | None
            `{"usdc": int, "positions": {perpetual_id: {"size", "entry_quote_quantums",
            "realized_pnl"}}}`.

        """
        sub = self.chain.subaccounts.get((address, number))
        if sub is None:
            return None
        return {
            "usdc": sub.usdc,
            "positions": {
                pid: {
                    "size": p.size,
                    "entry_quote_quantums": p.entry_quote,
                    "realized_pnl": p.realized_pnl,
                }
                for pid, p in sorted(sub.positions.items())
            },
        }

    def set_oracle_price(self, ticker: str, price: str | Decimal) -> int:
        """
        Set the oracle price of `ticker` in USD and return it in subticks.

        Parameters
        ----------
        ticker : str
            The market ticker, e.g. "BTC-USD".
        price : str | Decimal
            The exact decimal price.

        Returns
        -------
        int

        """
        return self.chain.set_oracle_price(self.market_id(ticker), price)

    def set_market_status(self, ticker: str, status: str) -> None:
        """
        Set the CLOB pair status of `ticker`.

        Parameters
        ----------
        ticker : str
            The market ticker.
        status : str
            ACTIVE, PAUSED, CANCEL_ONLY, POST_ONLY, INITIALIZING or FINAL_SETTLEMENT.

        """
        self.chain.set_market_status(self.market_id(ticker), status)

    def market_id(self, ticker: str) -> int:
        """
        Return the CLOB pair id of `ticker`.

        Parameters
        ----------
        ticker : str
            The market ticker.

        Returns
        -------
        int

        Raises
        ------
        KeyError
            If the market does not exist.

        """
        for clob_pair_id, market in self.chain.markets.items():
            if market.config.ticker == ticker:
                return clob_pair_id
        raise KeyError(ticker)

    def fund(self, address: str, subaccount_number: int, usdc_quantums: int) -> None:
        """
        Deposit USDC into a subaccount (quote quantums, 1e-6 USDC).

        Parameters
        ----------
        address : str
            The owner address (must be an account).
        subaccount_number : int
            The subaccount number.
        usdc_quantums : int
            The amount.

        """
        if address not in self.chain.accounts:
            raise KeyError(address)
        self.chain.fund(address, subaccount_number, usdc_quantums)

    def events_json_lines(self) -> str:
        """
        Return every recorded event as JSON lines (byte-for-byte comparable between runs).

        Returns
        -------
        str

        """
        return self.bus.to_json_lines()
