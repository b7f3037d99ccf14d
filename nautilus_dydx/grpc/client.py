# SPDX-License-Identifier: Apache-2.0
"""`DYDXNodeClient`: typed validator gRPC calls over grpc.aio with endpoint failover."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import random
import time
from collections.abc import Sequence
from typing import Any

import grpc

from nautilus_dydx._proto.cosmos.auth.v1beta1 import auth_pb2
from nautilus_dydx._proto.cosmos.auth.v1beta1 import query_pb2 as auth_query_pb2
from nautilus_dydx._proto.cosmos.base.tendermint.v1beta1 import query_pb2 as tm_query_pb2
from nautilus_dydx._proto.cosmos.tx.v1beta1 import service_pb2
from nautilus_dydx._proto.dydxprotocol.accountplus import query_pb2 as accountplus_query_pb2
from nautilus_dydx._proto.dydxprotocol.blocktime import query_pb2 as blocktime_query_pb2
from nautilus_dydx._proto.dydxprotocol.clob import clob_pair_pb2
from nautilus_dydx._proto.dydxprotocol.clob import order_pb2
from nautilus_dydx._proto.dydxprotocol.clob import query_pb2 as clob_query_pb2
from nautilus_dydx._proto.dydxprotocol.feetiers import query_pb2 as fee_query_pb2
from nautilus_dydx.grpc.errors import DYDXBroadcastUnknownError
from nautilus_dydx.grpc.errors import DYDXNodeError
from nautilus_dydx.grpc.errors import DYDXNoEndpointError
from nautilus_dydx.grpc.types import AccountInfo
from nautilus_dydx.grpc.types import AuthenticatorInfo
from nautilus_dydx.grpc.types import BlockInfo
from nautilus_dydx.grpc.types import BlockRateLimits
from nautilus_dydx.grpc.types import ClobPairInfo
from nautilus_dydx.grpc.types import EquityTier
from nautilus_dydx.grpc.types import FeeTier
from nautilus_dydx.grpc.types import NodeInfo
from nautilus_dydx.grpc.types import RateLimit
from nautilus_dydx.grpc.types import SimulateResult
from nautilus_dydx.grpc.types import StatefulOrderInfo
from nautilus_dydx.grpc.types import TxResult
from nautilus_dydx.grpc.types import serializable_int
from nautilus_dydx.http.ratelimit import TokenBucket


BROADCAST_MODE_SYNC = 2
_FAILOVER_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)

# (full method path, response type) by short method name
_METHODS: dict[str, tuple[str, Any]] = {
    "Account": ("/cosmos.auth.v1beta1.Query/Account", auth_query_pb2.QueryAccountResponse),
    "GetLatestBlock": (
        "/cosmos.base.tendermint.v1beta1.Service/GetLatestBlock",
        tm_query_pb2.GetLatestBlockResponse,
    ),
    "GetNodeInfo": (
        "/cosmos.base.tendermint.v1beta1.Service/GetNodeInfo",
        tm_query_pb2.GetNodeInfoResponse,
    ),
    "BroadcastTx": ("/cosmos.tx.v1beta1.Service/BroadcastTx", service_pb2.BroadcastTxResponse),
    "GetTx": ("/cosmos.tx.v1beta1.Service/GetTx", service_pb2.GetTxResponse),
    "Simulate": ("/cosmos.tx.v1beta1.Service/Simulate", service_pb2.SimulateResponse),
    "UserFeeTier": (
        "/dydxprotocol.feetiers.Query/UserFeeTier",
        fee_query_pb2.QueryUserFeeTierResponse,
    ),
    "ClobPair": ("/dydxprotocol.clob.Query/ClobPair", clob_query_pb2.QueryClobPairResponse),
    "GetAuthenticators": (
        "/dydxprotocol.accountplus.Query/GetAuthenticators",
        accountplus_query_pb2.GetAuthenticatorsResponse,
    ),
    "EquityTierLimitConfiguration": (
        "/dydxprotocol.clob.Query/EquityTierLimitConfiguration",
        clob_query_pb2.QueryEquityTierLimitConfigurationResponse,
    ),
    "BlockRateLimitConfiguration": (
        "/dydxprotocol.clob.Query/BlockRateLimitConfiguration",
        clob_query_pb2.QueryBlockRateLimitConfigurationResponse,
    ),
    "StatefulOrder": (
        "/dydxprotocol.clob.Query/StatefulOrder",
        clob_query_pb2.QueryStatefulOrderResponse,
    ),
    "PreviousBlockInfo": (
        "/dydxprotocol.blocktime.Query/PreviousBlockInfo",
        blocktime_query_pb2.QueryPreviousBlockInfoResponse,
    ),
}


def is_loopback(endpoint: str) -> bool:
    """
    Return whether the host of a ``host:port`` endpoint is a loopback address.

    Parameters
    ----------
    endpoint : str
        E.g. ``127.0.0.1:9090``, ``[::1]:9090``, ``localhost:9090``.

    Returns
    -------
    bool

    """
    host = endpoint.rpartition(":")[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def encode_broadcast_request(tx_bytes: bytes) -> bytes:
    """
    Return `BroadcastTxRequest{tx_bytes, mode=SYNC}` encoded by hand (no message object).

    Parameters
    ----------
    tx_bytes : bytes
        The encoded TxRaw.

    Returns
    -------
    bytes

    """
    size = len(tx_bytes)
    if size == 0:
        return b"\x10\x02"
    prefix = bytearray(b"\x0a")
    while size >= 0x80:
        prefix.append((size & 0x7F) | 0x80)
        size >>= 7
    prefix.append(size)
    return bytes(prefix) + tx_bytes + b"\x10\x02"


def _identity(data: bytes) -> bytes:
    return data


def _serialize(message: Any) -> bytes:
    return message.SerializeToString()


class _Endpoint:
    __slots__ = ("address", "tls", "channel", "calls", "dead_until", "failures")

    def __init__(self, address: str, tls: bool) -> None:
        self.address = address
        self.tls = tls
        self.channel: grpc.aio.Channel | None = None
        self.calls: dict[str, Any] = {}
        self.dead_until = 0.0
        self.failures = 0


class DYDXNodeClient:
    """
    A validator full-node client: typed queries and SYNC broadcasts over grpc.aio.

    Endpoints are tried in order. A call failing with UNAVAILABLE or DEADLINE_EXCEEDED marks
    its endpoint dead for `dead_cooldown_secs` and moves on to the next live one; a dead
    endpoint is tried again after its cooldown. RESOURCE_EXHAUSTED backs off and retries.
    A broadcast fails over only while nothing was sent (the channel never became ready);
    once the bytes may have left, an error is reported as `DYDXBroadcastUnknownError`.

    Parameters
    ----------
    endpoints : Sequence[str]
        ``host:port`` endpoints in order of preference.
    tls : bool, optional
        Use TLS; if None, plaintext for loopback endpoints and TLS for all others.
    timeout_secs : float, default 5.0
        The deadline of one call.
    connect_timeout_secs : float, default 2.0
        How long a broadcast waits for a channel to become ready before failing over.
    dead_cooldown_secs : float, default 5.0
        How long a failed endpoint is skipped.
    max_retries : int, default 3
        Retries of a query after RESOURCE_EXHAUSTED (failover is in addition).
    retry_delay_initial_ms : int, default 500
        First backoff after RESOURCE_EXHAUSTED; doubles per attempt.
    retry_delay_max_ms : int, default 10_000
        Cap of one backoff.
    broadcast_rate_per_min : int, optional
        Client-side broadcast budget (token bucket); unlimited if None.
    keepalive_secs : float, default 60.0
        HTTP/2 keepalive ping interval while calls are active.

    """

    def __init__(
        self,
        endpoints: Sequence[str],
        tls: bool | None = None,
        timeout_secs: float = 5.0,
        connect_timeout_secs: float = 2.0,
        dead_cooldown_secs: float = 5.0,
        max_retries: int = 3,
        retry_delay_initial_ms: int = 500,
        retry_delay_max_ms: int = 10_000,
        broadcast_rate_per_min: int | None = None,
        keepalive_secs: float = 60.0,
    ) -> None:
        if isinstance(endpoints, str) or not endpoints:
            raise ValueError(f"invalid endpoints: expected a non-empty list, was {endpoints!r}")
        self._endpoints = [
            _Endpoint(e, (not is_loopback(e)) if tls is None else tls) for e in endpoints
        ]
        self.timeout_secs = timeout_secs
        self.connect_timeout_secs = connect_timeout_secs
        self.dead_cooldown_secs = dead_cooldown_secs
        self.max_retries = max_retries
        self._delay_initial = retry_delay_initial_ms / 1000.0
        self._delay_max = retry_delay_max_ms / 1000.0
        self._bucket = (
            None if broadcast_rate_per_min is None
            else TokenBucket(broadcast_rate_per_min, 60.0)
        )
        # gRPC dials an endpoint that keeps failing after an exponential backoff (up to
        # 120 s by default): one probed while dead would stay unreachable long after it came
        # back, so failing over to it would find "no endpoint ready". Capped below the
        # connect timeout, a revived endpoint is dialled within one broadcast's wait.
        backoff_ms = max(100, int(connect_timeout_secs * 500))
        self._options = [
            ("grpc.initial_reconnect_backoff_ms", min(1_000, backoff_ms)),
            ("grpc.max_reconnect_backoff_ms", backoff_ms),
            ("grpc.keepalive_time_ms", int(keepalive_secs * 1000)),
            ("grpc.keepalive_timeout_ms", 20_000),
            ("grpc.keepalive_permit_without_calls", 0),
            ("grpc.max_receive_message_length", 64 * 1024 * 1024),
        ]

    @classmethod
    def from_config(cls, config: Any) -> DYDXNodeClient:
        """
        Return a client for a `DYDXExecClientConfig` (endpoints, TLS, deadline, retries).

        Parameters
        ----------
        config : DYDXExecClientConfig
            The configuration.

        Returns
        -------
        DYDXNodeClient

        """
        endpoints = config.endpoints
        max_retries, delay_initial_ms, delay_max_ms = config.retry_policy
        return cls(
            endpoints.grpc,
            tls=config.grpc_tls,
            timeout_secs=config.grpc_timeout_secs,
            max_retries=max_retries,
            retry_delay_initial_ms=delay_initial_ms,
            retry_delay_max_ms=delay_max_ms,
            broadcast_rate_per_min=config.grpc_rate_limit_per_min,
        )

    @property
    def endpoints(self) -> list[str]:
        """The endpoints in order of preference."""
        return [e.address for e in self._endpoints]

    @property
    def tls(self) -> list[bool]:
        """Whether each endpoint uses TLS, in order."""
        return [e.tls for e in self._endpoints]

    @property
    def broadcast_bucket(self) -> TokenBucket | None:
        """The client-side broadcast budget, or None when unlimited."""
        return self._bucket

    @property
    def current_endpoint(self) -> str:
        """The endpoint the next call goes to first."""
        return self._pick(time.monotonic()).address

    async def close(self) -> None:
        """Close every channel."""
        for endpoint in self._endpoints:
            if endpoint.channel is not None:
                await endpoint.channel.close()
                endpoint.channel = None
                endpoint.calls.clear()

    async def __aenter__(self) -> DYDXNodeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- Endpoints -----------------------------------------------------------------------------

    def _channel(self, endpoint: _Endpoint) -> grpc.aio.Channel:
        if endpoint.channel is None:
            if endpoint.tls:
                endpoint.channel = grpc.aio.secure_channel(
                    endpoint.address, grpc.ssl_channel_credentials(), options=self._options,
                )
            else:
                endpoint.channel = grpc.aio.insecure_channel(
                    endpoint.address, options=self._options,
                )
        return endpoint.channel

    def _callable(self, endpoint: _Endpoint, method: str) -> Any:
        call = endpoint.calls.get(method)
        if call is None:
            path, response_type = _METHODS[method]
            serializer = _identity if method == "BroadcastTx" else _serialize
            call = self._channel(endpoint).unary_unary(
                path,
                request_serializer=serializer,
                response_deserializer=response_type.FromString,
            )
            endpoint.calls[method] = call
        return call

    def _pick(self, now: float, exclude: set[int] | None = None) -> _Endpoint:
        # The first endpoint in preference order whose cooldown has passed; if all are
        # cooling down, the one that recovers first
        candidates = [
            e for i, e in enumerate(self._endpoints) if exclude is None or i not in exclude
        ]
        if not candidates:
            raise DYDXNoEndpointError("", None, "UNAVAILABLE", "every endpoint failed")
        for endpoint in candidates:
            if endpoint.dead_until <= now:
                return endpoint
        return min(candidates, key=lambda e: e.dead_until)

    def _mark_dead(self, endpoint: _Endpoint) -> None:
        endpoint.failures += 1
        endpoint.dead_until = time.monotonic() + self.dead_cooldown_secs

    def _mark_alive(self, endpoint: _Endpoint) -> None:
        endpoint.failures = 0
        endpoint.dead_until = 0.0

    def _backoff(self, attempt: int) -> float:
        delay = min(self._delay_max, self._delay_initial * (2**attempt))
        return delay * random.uniform(0.5, 1.0)

    async def _call(self, method: str, request: Any, timeout_secs: float | None = None) -> Any:
        timeout = self.timeout_secs if timeout_secs is None else timeout_secs
        tried: set[int] = set()
        exhausted = 0
        last: DYDXNodeError | None = None
        while True:
            try:
                endpoint = self._pick(time.monotonic(), tried)
            except DYDXNoEndpointError:
                raise DYDXNoEndpointError(
                    method, None, last.code if last else "UNAVAILABLE",
                    f"every endpoint failed; last: {last}",
                ) from None
            try:
                response = await self._callable(endpoint, method)(request, timeout=timeout)
            except grpc.aio.AioRpcError as e:
                code = e.code()
                last = DYDXNodeError(method, endpoint.address, code.name, e.details() or "")
                if code in _FAILOVER_CODES:
                    self._mark_dead(endpoint)
                    tried.add(self._endpoints.index(endpoint))
                    continue
                if code == grpc.StatusCode.RESOURCE_EXHAUSTED and exhausted < self.max_retries:
                    await asyncio.sleep(self._backoff(exhausted))
                    exhausted += 1
                    continue
                raise last from None
            self._mark_alive(endpoint)
            return response

    # -- Queries -------------------------------------------------------------------------------

    async def get_account(self, address: str) -> AccountInfo:
        """
        Return the account number and sequence of `address`.

        Parameters
        ----------
        address : str
            The ``dydx1...`` address.

        Returns
        -------
        AccountInfo

        Raises
        ------
        DYDXNodeError
            With code ``NOT_FOUND`` if the account does not exist.

        """
        response = await self._call("Account", auth_query_pb2.QueryAccountRequest(address=address))
        if response.account.type_url != "/cosmos.auth.v1beta1.BaseAccount":
            raise DYDXNodeError(
                "Account", None, "UNIMPLEMENTED",
                f"unsupported account type, was {response.account.type_url!r}",
            )
        base = auth_pb2.BaseAccount.FromString(response.account.value)
        return AccountInfo(
            address=base.address,
            account_number=base.account_number,
            sequence=base.sequence,
            has_public_key=base.HasField("pub_key"),
        )

    async def get_authenticators(self, address: str) -> list[AuthenticatorInfo]:
        """
        Return the authenticators (permissioned keys) registered on `address`.

        Parameters
        ----------
        address : str
            The ``dydx1...`` owner address.

        Returns
        -------
        list[AuthenticatorInfo]

        """
        response = await self._call(
            "GetAuthenticators", accountplus_query_pb2.GetAuthenticatorsRequest(account=address),
        )
        return [
            AuthenticatorInfo(id=a.id, type=a.type, config=a.config)
            for a in response.account_authenticators
        ]

    async def get_latest_block(self) -> BlockInfo:
        """
        Return the latest committed block's height, time and chain id.

        Returns
        -------
        BlockInfo

        """
        response = await self._call("GetLatestBlock", tm_query_pb2.GetLatestBlockRequest())
        header = response.sdk_block.header if response.HasField("sdk_block") else (
            response.block.header
        )
        return BlockInfo(
            height=header.height,
            time_ns=header.time.seconds * 1_000_000_000 + header.time.nanos,
            chain_id=header.chain_id,
        )

    async def get_node_info(self) -> NodeInfo:
        """
        Return the node's chain id and application version.

        Returns
        -------
        NodeInfo

        """
        response = await self._call("GetNodeInfo", tm_query_pb2.GetNodeInfoRequest())
        return NodeInfo(
            chain_id=response.default_node_info.network,
            app_version=response.application_version.version,
            app_name=response.application_version.app_name,
        )

    async def get_user_fee_tier(self, address: str) -> FeeTier:
        """
        Return the perpetual fee tier of `address`.

        Parameters
        ----------
        address : str
            The ``dydx1...`` address.

        Returns
        -------
        FeeTier

        """
        response = await self._call(
            "UserFeeTier", fee_query_pb2.QueryUserFeeTierRequest(user=address),
        )
        tier = response.tier
        return FeeTier(
            index=response.index,
            name=tier.name,
            maker_fee_ppm=tier.maker_fee_ppm,
            taker_fee_ppm=tier.taker_fee_ppm,
            absolute_volume_requirement=tier.absolute_volume_requirement,
        )

    async def get_clob_pair(self, clob_pair_id: int) -> ClobPairInfo:
        """
        Return the chain's parameters of one CLOB pair.

        Parameters
        ----------
        clob_pair_id : int
            The CLOB pair id.

        Returns
        -------
        ClobPairInfo

        """
        response = await self._call(
            "ClobPair", clob_query_pb2.QueryGetClobPairRequest(id=clob_pair_id),
        )
        pair = response.clob_pair
        return ClobPairInfo(
            id=pair.id,
            perpetual_id=pair.perpetual_clob_metadata.perpetual_id,
            step_base_quantums=pair.step_base_quantums,
            subticks_per_tick=pair.subticks_per_tick,
            quantum_conversion_exponent=pair.quantum_conversion_exponent,
            status=clob_pair_pb2.ClobPair.Status.Name(pair.status).removeprefix("STATUS_"),
        )

    async def get_equity_tier_limits(self) -> tuple[EquityTier, ...]:
        """
        Return the stateful-order equity tiers, ascending (§4.8).

        Returns
        -------
        tuple[EquityTier, ...]

        """
        response = await self._call(
            "EquityTierLimitConfiguration",
            clob_query_pb2.QueryEquityTierLimitConfigurationRequest(),
        )
        tiers = response.equity_tier_limit_config.stateful_order_equity_tiers
        return tuple(
            EquityTier(usd_tnc_required=serializable_int(t.usd_tnc_required), limit=t.limit)
            for t in tiers
        )

    async def get_block_rate_limits(self) -> BlockRateLimits:
        """
        Return the per-account block rate limits (§4.8).

        Returns
        -------
        BlockRateLimits

        """
        response = await self._call(
            "BlockRateLimitConfiguration",
            clob_query_pb2.QueryBlockRateLimitConfigurationRequest(),
        )
        config = response.block_rate_limit_config
        return BlockRateLimits(
            stateful_orders=tuple(
                RateLimit(r.num_blocks, r.limit) for r in config.max_stateful_orders_per_n_blocks
            ),
            short_term_orders_and_cancels=tuple(
                RateLimit(r.num_blocks, r.limit)
                for r in config.max_short_term_orders_and_cancels_per_n_blocks
            ),
        )

    async def get_stateful_order(self, order_id: bytes) -> StatefulOrderInfo | None:
        """
        Return a stateful order as stored on chain, or None if the chain does not hold it.

        Parameters
        ----------
        order_id : bytes
            The encoded `OrderId` (`MarketEncoder.encode_order_id`).

        Returns
        -------
        StatefulOrderInfo | None

        """
        request = clob_query_pb2.QueryStatefulOrderRequest(
            order_id=order_pb2.OrderId.FromString(order_id),
        )
        try:
            response = await self._call("StatefulOrder", request)
        except DYDXNodeError as e:
            if e.code == "NOT_FOUND":
                return None
            raise
        placement = response.order_placement
        return StatefulOrderInfo(
            order=placement.order.SerializeToString(),
            placement_height=placement.placement_index.block_height,
            fill_amount=response.fill_amount,
            triggered=response.triggered,
        )

    async def get_previous_block_time_ns(self) -> int:
        """
        Return the previous block's time (unix ns): the `T` of good-til-block-time checks.

        Returns
        -------
        int

        """
        response = await self._call(
            "PreviousBlockInfo", blocktime_query_pb2.QueryPreviousBlockInfoRequest(),
        )
        stamp = response.info.timestamp
        return stamp.seconds * 1_000_000_000 + stamp.nanos

    async def get_tx(self, txhash: str) -> TxResult | None:
        """
        Return the result of a transaction included in a block, or None if not (yet) found.

        Parameters
        ----------
        txhash : str
            The hex hash.

        Returns
        -------
        TxResult | None

        """
        try:
            response = await self._call("GetTx", service_pb2.GetTxRequest(hash=txhash))
        except DYDXNodeError as e:
            if e.code == "NOT_FOUND":
                return None
            raise
        tx = response.tx_response
        return TxResult(
            txhash=tx.txhash or txhash.upper(),
            code=tx.code,
            codespace=tx.codespace,
            raw_log=tx.raw_log,
            height=tx.height,
            gas_used=tx.gas_used,
        )

    async def simulate(self, tx_bytes: bytes) -> SimulateResult:
        """
        Return the gas estimate of a signed transaction.

        Parameters
        ----------
        tx_bytes : bytes
            The encoded TxRaw.

        Returns
        -------
        SimulateResult

        """
        response = await self._call("Simulate", service_pb2.SimulateRequest(tx_bytes=tx_bytes))
        return SimulateResult(
            gas_wanted=response.gas_info.gas_wanted, gas_used=response.gas_info.gas_used,
        )

    # -- Broadcast -----------------------------------------------------------------------------

    async def broadcast_tx(self, tx_bytes: bytes, txhash: str | None = None) -> TxResult:
        """
        Broadcast a signed transaction (SYNC) and return its CheckTx result.

        It is sent at most once: it fails over to another endpoint only while no channel
        became ready, and RESOURCE_EXHAUSTED (refused before processing) re-sends the same
        bytes, which the chain never executes twice.

        Parameters
        ----------
        tx_bytes : bytes
            The encoded TxRaw.
        txhash : str, optional
            Its hash if already known (upper-case hex SHA-256 of `tx_bytes`).

        Returns
        -------
        TxResult

        Raises
        ------
        DYDXBroadcastUnknownError
            If the bytes may have reached a node but no answer came back.
        DYDXNoEndpointError
            If no endpoint could be reached (nothing was sent).
        DYDXNodeError
            On any other definitive gRPC failure (nothing was executed).

        """
        if txhash is None:
            txhash = hashlib.sha256(tx_bytes).hexdigest().upper()
        if self._bucket is not None:
            await self._bucket.acquire()
        request = encode_broadcast_request(tx_bytes)
        tried: set[int] = set()
        exhausted = 0
        while True:
            try:
                endpoint = self._pick(time.monotonic(), tried)
            except DYDXNoEndpointError:
                raise DYDXNoEndpointError(
                    "BroadcastTx", None, "UNAVAILABLE", "no endpoint became ready; not sent",
                ) from None
            channel = self._channel(endpoint)
            call = self._callable(endpoint, "BroadcastTx")
            if channel.get_state(try_to_connect=True) != grpc.ChannelConnectivity.READY:
                try:
                    await asyncio.wait_for(channel.channel_ready(), self.connect_timeout_secs)
                except (asyncio.TimeoutError, grpc.aio.AioRpcError):
                    self._mark_dead(endpoint)
                    tried.add(self._endpoints.index(endpoint))
                    continue
            try:
                response = await call(request, timeout=self.timeout_secs)
            except grpc.aio.AioRpcError as e:
                code = e.code()
                if code == grpc.StatusCode.RESOURCE_EXHAUSTED and exhausted < self.max_retries:
                    await asyncio.sleep(self._backoff(exhausted))
                    exhausted += 1
                    continue
                if code in _FAILOVER_CODES:
                    self._mark_dead(endpoint)
                if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED):
                    raise DYDXNodeError(
                        "BroadcastTx", endpoint.address, code.name, e.details() or "",
                    ) from None
                raise DYDXBroadcastUnknownError(
                    txhash, endpoint.address, code.name, e.details() or "",
                ) from None
            self._mark_alive(endpoint)
            tx = response.tx_response
            return TxResult(
                txhash=tx.txhash or txhash,
                code=tx.code,
                codespace=tx.codespace,
                raw_log=tx.raw_log,
                height=tx.height,
                gas_used=tx.gas_used,
            )
