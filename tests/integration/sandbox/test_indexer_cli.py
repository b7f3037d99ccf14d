# SPDX-License-Identifier: Apache-2.0
"""The sandbox command line: start-up, printed endpoints, a usable config snippet, clean stop."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

from nautilus_dydx.cli import build_parser
from nautilus_dydx.config import DYDXDataClientConfig
from nautilus_dydx.config import DYDXExecClientConfig
from nautilus_dydx.sandbox import cli
from nautilus_dydx.sandbox.agents import MarketAgents
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.test_indexer_support import running_sandbox


ARGS = ["--grpc-port", "0", "--http-port", "0", "--ws-port", "0", "--duration", "0.2"]


def test_sandbox_subcommand_runs_prints_endpoints_and_snippet(capsys) -> None:
    parser = build_parser()
    args = parser.parse_args(["sandbox", *ARGS, "--markets", "BTC-USD,ETH-USD", "--seed", "3"])
    assert args._run(args) == 0
    out = capsys.readouterr().out
    endpoints = json.loads(out[out.index("{"): out.index("}") + 1])
    assert endpoints["http"].startswith("http://127.0.0.1:") and endpoints["http"].endswith("/v4")
    assert endpoints["ws"].endswith("/v4/ws")
    assert endpoints["startup_s"] > 0  # Timed in benchmarks/test_perf_sandbox.py
    snippet = out[out.index("# TradingNode config") :].split("sandbox stopped")[0]
    namespace: dict = {}
    exec(snippet, namespace)  # noqa: S102 - the snippet is our own output
    data = namespace["data"]
    execution = namespace["exec"]
    assert isinstance(data, DYDXDataClientConfig) and isinstance(execution, DYDXExecClientConfig)
    assert data.base_url_http == endpoints["http"]
    assert execution.grpc_endpoints == [endpoints["grpc"]]
    assert "sandbox stopped" in out


def test_invalid_markets_is_an_error_exit(capsys) -> None:
    parser = build_parser()
    args = parser.parse_args(["sandbox", *ARGS, "--markets", "DOGE-USD"])
    assert cli.run(args) == 2
    assert "invalid --markets" in capsys.readouterr().err


def test_default_ports_match_the_sandbox_network() -> None:
    from nautilus_dydx.common.urls import NETWORKS

    args = build_parser().parse_args(["sandbox"])
    sandbox = NETWORKS["sandbox"]
    assert f"127.0.0.1:{args.grpc_port}" == sandbox.grpc[0]
    assert sandbox.http == f"http://127.0.0.1:{args.http_port}/v4"
    assert sandbox.ws == f"ws://127.0.0.1:{args.ws_port}/v4/ws"
    config = cli.build_config(args)
    assert [m.ticker for m in config.markets] == ["BTC-USD", "ETH-USD", "SOL-USD", "PEPE-USD"]
    assert len(config.accounts) == 2 and config.block_time_ms == 1000


def test_a_sandbox_without_history_keeps_no_events_yet_its_indexer_saw_genesis() -> None:
    # A long-running sandbox would otherwise keep every event the agents cause (GBs per hour)
    async def scenario():
        async with running_sandbox(keep_history=False) as (sandbox, http, _):
            sandbox.agents = MarketAgents(sandbox.node)
            sandbox.agents.start()
            for _ in range(20):
                sandbox.node.step_blocks(1)
                await asyncio.sleep(0.02)
            book = (await http.get("/orderbooks/perpetualMarket/BTC-USD")).json()
            account = (await http.get(f"/addresses/{K1_ADDRESS}/subaccountNumber/0")).json()
            return len(sandbox.node.bus.history), book, account["subaccount"]

    history, book, subaccount = asyncio.run(scenario())
    assert history == 0
    assert book["bids"] and book["asks"]  # The agents' flow reached the Indexer
    assert Decimal(subaccount["equity"]) > 0  # The genesis deposit, seen before history went


def test_the_command_line_sandbox_keeps_no_history(monkeypatch) -> None:
    made = []

    class Recording(cli.IndexerSandbox):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(cli, "IndexerSandbox", Recording)
    args = build_parser().parse_args(["sandbox", *ARGS])
    assert args._run(args) == 0
    assert len(made) == 1 and made[0].node.bus.record is False
