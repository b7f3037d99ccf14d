# SPDX-License-Identifier: Apache-2.0
"""Sandbox node start-up time, memory with 4 markets and 10k resting orders, broadcast latency."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import time
import tracemalloc

import coincurve

from nautilus_dydx._proto.cosmos.crypto.secp256k1 import keys_pb2
from nautilus_dydx._proto.cosmos.tx.v1beta1 import tx_pb2
from nautilus_dydx._proto.dydxprotocol.clob import order_pb2
from nautilus_dydx._proto.dydxprotocol.clob import tx_pb2 as clob_tx_pb2
from nautilus_dydx._proto.dydxprotocol.subaccounts import subaccount_pb2
from nautilus_dydx._proto.google.protobuf import any_pb2
from nautilus_dydx.sandbox import AccountConfig
from nautilus_dydx.sandbox import SandboxConfig
from nautilus_dydx.sandbox import SandboxNode


ORDERS = 10_000
ACCOUNTS = 4


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * 4096 / 2**20


def _signed_order(node: SandboxNode, account, client_id: int, clob_pair_id: int, side: int,
                  subticks: int, quantums: int, flags: int) -> bytes:
    order = order_pb2.Order(
        order_id=order_pb2.OrderId(
            subaccount_id=subaccount_pb2.SubaccountId(owner=account.address, number=0),
            client_id=client_id, order_flags=flags, clob_pair_id=clob_pair_id,
        ),
        side=side, quantums=quantums, subticks=subticks,
    )
    if flags:
        order.good_til_block_time = node.block_time_ns // 10**9 + 86_400
    else:
        order.good_til_block = node.height + 20
    body = tx_pb2.TxBody(messages=[any_pb2.Any(
        type_url="/dydxprotocol.clob.MsgPlaceOrder",
        value=clob_tx_pb2.MsgPlaceOrder(order=order).SerializeToString(),
    )]).SerializeToString()
    auth = tx_pb2.AuthInfo(signer_infos=[tx_pb2.SignerInfo(
        public_key=any_pb2.Any(type_url="/cosmos.crypto.secp256k1.PubKey",
                               value=keys_pb2.PubKey(key=account.key.public_key)
                               .SerializeToString()),
        mode_info=tx_pb2.ModeInfo(single=tx_pb2.ModeInfo.Single(mode=1)),
        sequence=account.check_sequence,
    )], fee=tx_pb2.Fee(gas_limit=1_000_000)).SerializeToString()
    doc = tx_pb2.SignDoc(body_bytes=body, auth_info_bytes=auth, chain_id=node.config.chain_id,
                         account_number=account.account_number).SerializeToString()
    signature = coincurve.PrivateKey(account.key.private_key).sign_recoverable(
        hashlib.sha256(doc).digest(), hasher=None,
    )[:64]
    return tx_pb2.TxRaw(body_bytes=body, auth_info_bytes=auth,
                        signatures=[signature]).SerializeToString()


async def _measure() -> dict[str, float]:
    config = SandboxConfig(
        auto_blocks=False,
        accounts=tuple(AccountConfig(subaccounts={0: 10**15}) for _ in range(ACCOUNTS)),
        stateful_rate_limits=((1, 10**9),),
        short_term_rate_limits=((1, 10**9),),
        equity_tiers=((0, 10**9),),
    )
    gc.collect()
    rss_before = _rss_mb()
    tracemalloc.start()
    began = time.perf_counter()
    node = SandboxNode(config, record_events=False)
    await node.start()
    startup = time.perf_counter() - began
    results: dict[str, float] = {"startup_s": startup}
    try:
        markets = list(node.chain.markets.values())
        accounts = node.accounts
        txs = []
        for i in range(ORDERS):
            market = markets[i % len(markets)]
            cfg = market.config
            side = 1 if (i // len(markets)) % 2 == 0 else 2
            ticks = 1 + (i % 200)
            oracle_ticks = market.oracle_subticks // cfg.subticks_per_tick
            price_ticks = oracle_ticks - ticks if side == 1 else oracle_ticks + ticks
            flags = 64 if i % 5 == 0 else 0
            account = accounts[i % ACCOUNTS]
            tx = _signed_order(node, account, i, cfg.clob_pair_id, side,
                               price_ticks * cfg.subticks_per_tick, cfg.step_base_quantums, flags)
            began = time.perf_counter()
            result = node.chain.check_tx(tx)
            assert result.code == 0, result.raw_log
            txs.append(time.perf_counter() - began)
        node.step_blocks(1)
        resting = sum(m.book.count for m in markets)
        assert resting == ORDERS, resting
        current, peak = tracemalloc.get_traced_memory()
        results["resting_orders"] = resting
        results["check_tx_mean_ms"] = 1000 * sum(txs) / len(txs)
        results["tracemalloc_current_mb"] = current / 2**20
        results["tracemalloc_peak_mb"] = peak / 2**20
        tracemalloc.stop()
        results["rss_mb"] = _rss_mb()
        results["rss_delta_mb"] = results["rss_mb"] - rss_before
        from tests.integration.sandbox.helpers import Client  # noqa: PLC0415
        import grpc  # noqa: PLC0415

        channel = grpc.aio.insecure_channel(node.grpc_endpoint)
        try:
            client = Client(channel)
            account = accounts[0]
            market = markets[0]
            latencies = []
            for j in range(300):
                tx = _signed_order(node, account, ORDERS + j, market.config.clob_pair_id, 1,
                                   market.config.subticks_per_tick,
                                   market.config.step_base_quantums, 0)
                began = time.perf_counter()
                response = await client.broadcast(tx)
                latencies.append(time.perf_counter() - began)
                assert response.code == 0, response.raw_log
            latencies.sort()
            results["grpc_broadcast_p50_ms"] = 1000 * latencies[len(latencies) // 2]
            results["grpc_broadcast_p99_ms"] = 1000 * latencies[int(len(latencies) * 0.99)]
        finally:
            await channel.close()
    finally:
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        await node.stop()
    return results


def test_sandbox_startup_and_memory_report() -> None:
    results = asyncio.run(_measure())
    for name, value in results.items():
        print(f"{name}: {value:.3f}")
    assert results["resting_orders"] == ORDERS


if __name__ == "__main__":
    test_sandbox_startup_and_memory_report()


def _start_stop_sandbox(seed: int) -> float:
    from nautilus_dydx.sandbox.indexer import IndexerSandbox

    async def scenario() -> float:
        sandbox = IndexerSandbox(SandboxConfig(seed=seed, port=0), http_port=0, ws_port=0)
        await sandbox.start()
        try:
            return sandbox.startup_s
        finally:
            await sandbox.stop()

    return asyncio.run(scenario())


def test_perf_sandbox_node_and_indexer_start_up(benchmark) -> None:
    # Node + Indexer REST + WebSocket on loopback, started and stopped per round (issue 6: < 3 s)
    startup_s = benchmark.pedantic(_start_stop_sandbox, args=(1,), rounds=5, iterations=1)

    assert startup_s > 0


def test_perf_sandbox_rest_round_trip(benchmark) -> None:
    # One keep-alive GET /v4/height against the aiohttp REST server on loopback
    import threading  # noqa: PLC0415

    import httpx  # noqa: PLC0415

    from nautilus_dydx.sandbox.indexer import IndexerSandbox  # noqa: PLC0415

    loop = asyncio.new_event_loop()
    sandbox = IndexerSandbox(SandboxConfig(port=0, auto_blocks=False), rate_limit=None)
    loop.run_until_complete(sandbox.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=sandbox.http_url) as http:
            response = benchmark(http.get, "/height")
        assert response.status_code == 200 and response.json()["height"] == "1"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.run_until_complete(sandbox.stop())
        loop.close()
