# SPDX-License-Identifier: Apache-2.0
"""Determinism: the same seed and scenario produce byte-identical event logs."""

from __future__ import annotations

import asyncio
import json
import random

from nautilus_dydx.sandbox import AccountConfig
from nautilus_dydx.sandbox import SandboxConfig
from nautilus_dydx.sandbox import SandboxNode
from tests.integration.sandbox.helpers import BUY
from tests.integration.sandbox.helpers import CONDITIONAL
from tests.integration.sandbox.helpers import GENESIS_NS
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import LONG_TERM
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import Client
from tests.integration.sandbox.helpers import Signer
from tests.integration.sandbox.helpers import cancel
from tests.integration.sandbox.helpers import place
from tests.integration.sandbox.helpers import running_node


def _config(seed: int) -> SandboxConfig:
    return SandboxConfig(
        chain_id="dydx-determinism-1",
        seed=seed,
        auto_blocks=False,
        block_time_ms=50,
        genesis_time_ns=GENESIS_NS,
        accounts=(AccountConfig(), AccountConfig(), AccountConfig()),
        stateful_rate_limits=((1, 1000),),
    )


async def _scenario(seed: int) -> str:
    async with running_node(_config(seed)) as (node, client):
        signers = [
            Signer(a.key.private_key.hex(), a.address, a.account_number, node.config.chain_id)
            for a in node.accounts
        ]
        sequences = [0, 0, 0]
        rng = random.Random(seed)
        for step in range(12):
            for _ in range(6):
                index = rng.randrange(3)
                signer = signers[index]
                side = rng.choice((BUY, SELL))
                quantums = rng.randint(1, 5) * 1_000_000
                subticks = 6_500_000_000 + rng.randint(-5, 5) * 100_000
                kind = rng.randrange(5)
                client_id = rng.randrange(2**32)
                if kind == 0:
                    tx = signer.sign_tx([place(signer.address, client_id, side, quantums, subticks,
                                               gtb=node.height + rng.randint(1, 5))])
                elif kind == 1:
                    tx = signer.sign_tx([place(signer.address, client_id, side, quantums, subticks,
                                               gtb=node.height + 3, tif=IOC)])
                elif kind == 2:
                    tx = signer.sign_tx(
                        [place(signer.address, client_id, side, quantums, subticks,
                               gtbt=node.block_time_ns // 10**9 + 2, flags=LONG_TERM)],
                        sequence=sequences[index],
                    )
                elif kind == 3:
                    tx = signer.sign_tx(
                        [place(signer.address, client_id, side, quantums, subticks,
                               gtbt=node.block_time_ns // 10**9 + 60, flags=CONDITIONAL,
                               condition_type=1, trigger=subticks)],
                        sequence=sequences[index],
                    )
                else:
                    tx = signer.sign_tx([cancel(signer.address, client_id, gtb=node.height + 2)])
                response = await client.broadcast(tx)
                if response.code == 0 and kind in (2, 3):
                    sequences[index] += 1
            if step % 3 == 0:
                node.set_oracle_price("BTC-USD", str(65_000 + rng.randint(-10, 10)))
            node.step_blocks(1)
        node.step_blocks(45)
        return node.events_json_lines()


def test_same_seed_same_event_log_byte_for_byte() -> None:
    first = asyncio.run(_scenario(7))
    second = asyncio.run(_scenario(7))
    assert first == second
    lines = first.splitlines()
    kinds = {json.loads(line)["type"] for line in lines}
    assert {"block", "order_placed", "order_removed", "fill", "position", "balance"} <= kinds
    other = asyncio.run(_scenario(8))
    assert other != first
