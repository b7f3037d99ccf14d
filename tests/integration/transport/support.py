# SPDX-License-Identifier: Apache-2.0
"""Shared helpers of the transport tests: a running sandbox and trades made independently."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator

from nautilus_dydx._core.orders import MarketEncoder
from nautilus_dydx.http import DYDXHttpClient
from nautilus_dydx.sandbox.node import SandboxNode
from nautilus_dydx.wallet import Wallet
from nautilus_dydx.sandbox.indexer import IndexerSandbox
from nautilus_dydx.sandbox.indexer_ws import WsSettings
from tests.integration.sandbox.helpers import ALICE
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import BUY
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K1_PRIVATE_KEY
from tests.integration.sandbox.helpers import LONG_TERM
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import Client
from tests.integration.sandbox.helpers import make_config
from tests.integration.sandbox.helpers import place


STEP = 1_000_000  # BTC-USD step base quantums (0.0001 BTC)
PRICE = 6_500_000_000  # 65 000 USD in subticks
TICK = 100_000


@contextlib.asynccontextmanager
async def running_sandbox(**config_overrides) -> AsyncIterator[IndexerSandbox]:
    rate_limit = config_overrides.pop("rate_limit", None)
    config_overrides.setdefault("short_term_rate_limits", ((1, 1_000_000),))
    sandbox = IndexerSandbox(
        make_config(**config_overrides),
        ws_settings=WsSettings(batch_interval_s=0.05),
        rate_limit=rate_limit,
    )
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


def http_client(sandbox: IndexerSandbox, **kwargs) -> DYDXHttpClient:
    kwargs.setdefault("rate_limit_per_10s", 100_000)
    kwargs.setdefault("timeout_secs", 5.0)
    return DYDXHttpClient(sandbox.http_url, **kwargs)


async def cancelled_reads(http: DYDXHttpClient, rounds: int, rng: random.Random) -> None:
    """
    Start four order book reads at a time and cancel them 0-3 ms in (some are still waiting
    for a connection then), `rounds` times; return once no request is left on the wire.
    """
    for _ in range(rounds):
        calls = [asyncio.ensure_future(http.get_orderbook("BTC-USD")) for _ in range(4)]
        await asyncio.sleep(rng.uniform(0.0, 0.003))
        for call in calls:
            call.cancel()
        await asyncio.gather(*calls, return_exceptions=True)
    while http.in_flight:
        await asyncio.sleep(0.01)


async def make_trades(
    sandbox: IndexerSandbox,
    client: Client,
    batches: list[int],
    first_client_id: int = 1_000,
) -> None:
    # BOB rests one large sell; ALICE takes one step per IOC buy; a block after each batch,
    # each batch with its own good-til-block so order expiries differ between batches
    total = sum(batches)
    gtb = sandbox.node.height + 20
    result = await client.broadcast(
        BOB.sign_tx([place(K2_ADDRESS, 1, SELL, STEP * total, PRICE, gtb=gtb)]),
    )
    assert result.code == 0, result.raw_log
    client_id = first_client_id
    for index, count in enumerate(batches):
        for _ in range(count):
            tx = ALICE.sign_tx(
                [place(K1_ADDRESS, client_id, BUY, STEP, PRICE, gtb=gtb - index, tif=IOC)],
            )
            result = await client.broadcast(tx)
            assert result.code == 0, result.raw_log
            client_id += 1
        sandbox.node.step_blocks(1)


def btc(owner: str = K1_ADDRESS) -> MarketEncoder:
    return MarketEncoder(owner, 0, 0, -10, -9, 1_000_000, 100_000)


def alice() -> Wallet:
    return Wallet.from_private_key(K1_PRIVATE_KEY)


def stateful_order(encoder: MarketEncoder, node: SandboxNode, client_id: int) -> bytes:
    gtbt = node.block_time_ns // 1_000_000_000 + 3_600
    return encoder.place_order_any(
        client_id, LONG_TERM, BUY, STEP, PRICE // 2 - client_id * TICK,
        good_til_block_time=gtbt,
    )


def short_term_order(encoder: MarketEncoder, node: SandboxNode, client_id: int) -> bytes:
    return encoder.place_order_any(
        client_id, 0, BUY, STEP, PRICE // 2 - client_id * TICK, good_til_block=node.height + 10,
    )


def alice_stateful_keys(node: SandboxNode) -> set[int]:
    return {key[2] for key in node.chain.stateful if key[0] == K1_ADDRESS}


def alice_short_term_keys(node: SandboxNode) -> set[int]:
    return {key[2] for key in node.chain.short_orders if key[0] == K1_ADDRESS}
