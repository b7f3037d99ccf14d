# SPDX-License-Identifier: Apache-2.0
"""The sandbox as a server a user runs: exclusive ports, own accounts, rate limits, control."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import grpc
import httpx

from nautilus_dydx._core.orders import MarketEncoder
from nautilus_dydx.sandbox.faults import CONTROL_ROUTES
from nautilus_dydx.sandbox.indexer_rest import RateLimiter
from nautilus_dydx.wallet import Wallet
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K1_MNEMONIC
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import Client
from tests.integration.sandbox.helpers import make_config
from tests.integration.sandbox.test_indexer_support import run
from tests.integration.sandbox.test_indexer_support import running_sandbox
from tests.integration.sandbox.test_indexer_support import wait_for


ROOT = Path(__file__).resolve().parents[3]
FREE = ["--grpc-port", "0", "--http-port", "0", "--ws-port", "0"]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DYDX_SANDBOX_FUND", None)
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nautilus_dydx.sandbox", "--no-agents", *args],
        cwd=ROOT, env=_env(**env), capture_output=True, text=True, timeout=120,
    )


def _port(url_or_endpoint: str) -> str:
    return url_or_endpoint.rsplit(":", 1)[1].split("/")[0]


def test_second_sandbox_on_a_busy_port_exits_2_with_one_line() -> None:
    async def scenario() -> list[tuple[str, str]]:
        async with running_sandbox() as (sandbox, _, __):
            ports = {
                "--grpc-port": _port(sandbox.grpc_endpoint),
                "--http-port": _port(sandbox.http_url),
                "--ws-port": _port(sandbox.ws_url),
            }
            results = []
            for option, port in ports.items():
                args = list(FREE)
                args[args.index(option) + 1] = port
                done = await asyncio.to_thread(_cli, *args, "--duration", "5")
                assert done.returncode == 2, done.stderr
                results.append((option, port, done.stderr, done.stdout))
            return results

    for option, port, stderr, stdout in run(scenario(), timeout=400):
        lines = stderr.strip().splitlines()
        assert len(lines) == 1, stderr
        assert f":{port} is already in use" in lines[0] and option in lines[0]
        assert "Traceback" not in stderr and "sandbox running" not in stdout


def test_user_errors_are_one_line_exit_2() -> None:
    missing = _cli("--replay", "/nonexistent/session.ndjson", "--duration", "1")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "error: file not found: /nonexistent/session.ndjson"
    secret_words = "abandon " * 11 + "wrong"
    bad_fund = _cli(*FREE, "--duration", "1", DYDX_SANDBOX_FUND=secret_words)
    assert bad_fund.returncode == 2
    assert bad_fund.stderr.strip().splitlines() == [
        "error: invalid --fund entry 1: neither a dydx1 address nor a valid BIP-39 mnemonic",
    ]
    assert "abandon" not in bad_fund.stderr + bad_fund.stdout
    bad_genesis = _cli(*FREE, "--duration", "1", "--genesis", "yesterday")
    assert (bad_genesis.returncode, len(bad_genesis.stderr.strip().splitlines())) == (2, 1)


async def _read_endpoints(process: asyncio.subprocess.Process) -> tuple[dict, list[str]]:
    lines: list[str] = []
    assert process.stdout is not None
    while len(lines) < 200:
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        assert line, "the sandbox exited: " + "".join(lines)
        lines.append(line)
        if line.startswith("}"):
            break
    text = "".join(lines)
    return json.loads(text[text.index("{"):]), lines


def test_fund_a_mnemonic_lets_an_outside_client_sign_and_place() -> None:
    async def scenario() -> None:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "nautilus_dydx.sandbox", "--no-agents", *FREE,
            "--duration", "60", "--fund", f"{K2_ADDRESS}=2500", cwd=ROOT,
            env=_env(DYDX_SANDBOX_FUND=f"{K1_MNEMONIC}=1000"),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            endpoints, _ = await _read_endpoints(process)
            channel = grpc.aio.insecure_channel(endpoints["grpc"])
            client = Client(channel)
            async with httpx.AsyncClient(base_url=endpoints["http"], timeout=10) as http:
                funded = {}
                for address in (K1_ADDRESS, K2_ADDRESS):
                    body = (await http.get(f"/addresses/{address}/subaccountNumber/0")).json()
                    funded[address] = body["subaccount"]["equity"]
                assert funded == {K1_ADDRESS: "1000", K2_ADDRESS: "2500"}
                height = int((await http.get("/height")).json()["height"])
                account = await client.account(K1_ADDRESS)
                wallet = Wallet.from_mnemonic(K1_MNEMONIC)
                signer = wallet.signer(endpoints["chain_id"], account.account_number)
                encoder = MarketEncoder(wallet.address, 0, 0, -10, -9, 1_000_000, 100_000)
                message = encoder.place_order_any(
                    client_id=42, order_flags=0, side=1, quantums=1_000_000,
                    subticks=6_000_000_000, good_til_block=height + 10,
                )
                response = await client.broadcast(signer.sign_tx(message, sequence=0))
                assert response.code == 0, response.raw_log
                params = {"address": K1_ADDRESS, "subaccountNumber": 0}
                orders = (await http.get("/orders", params=params)).json()
                assert [(o["clientId"], o["status"]) for o in orders] == [
                    ("42", "BEST_EFFORT_OPENED"),
                ]
            await channel.close()
        finally:
            if process.returncode is None:
                process.terminate()
            out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, err.decode()
        output = out.decode() + err.decode()
        assert K1_MNEMONIC.split()[0] + " " + K1_MNEMONIC.split()[1] not in output
        assert f"funded: {K1_ADDRESS} (1000 USDC" in output
        assert "DYDX_SANDBOX_MNEMONIC" in output and "sandbox stopped" in output

    run(scenario(), timeout=200)


def test_rate_limit_headers_and_429_beyond_the_documented_budget() -> None:
    async def scenario() -> None:
        async with running_sandbox(rate_limit=RateLimiter()) as (_, http, __):
            remaining = []
            for _ in range(100):
                response = await http.get("/height")
                assert response.status_code == 200
                assert response.headers["RateLimit-Limit"] == "100"
                remaining.append(int(response.headers["RateLimit-Remaining"]))
            assert remaining == list(range(99, -1, -1))
            refused = await http.get("/perpetualMarkets")
            assert refused.status_code == 429
            assert refused.json() == {"errors": [{"msg": "Too many requests"}]}
            assert refused.headers["RateLimit-Remaining"] == "0"
            assert int(refused.headers["Retry-After"]) > 0
            assert int(refused.headers["RateLimit-Reset"]) > 0
            # Candles have their own, larger budget
            candles = await http.get(
                "/candles/perpetualMarkets/BTC-USD", params={"resolution": "1MIN"},
            )
            assert candles.status_code == 200
            assert candles.headers["RateLimit-Limit"] == "1000"

    run(scenario())


def test_control_root_lists_every_fault_route_and_each_one_answers() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, http, _):
            base = sandbox.http_url.rsplit("/v4", 1)[0]
            listing = (await http.get(f"{base}/control/")).json()["routes"]
            assert set(listing) == {f"/control/{r}" for r in CONTROL_ROUTES}
            params = {
                "ws/pause": {"channel": "v4_trades", "id": "BTC-USD"},
                "ws/resume": {"channel": "v4_trades", "id": "BTC-USD"},
                "rest/error": {"status": "0"},
                "grpc/error": {"code": ""},
                "sequence/skew": {"address": K1_ADDRESS, "delta": "0"},
                "blocks/stall": {"on": "false"},
            }
            for route in listing:
                name = route[len("/control/"):]
                response = await http.post(f"{base}{route}", params=params.get(name, {}))
                assert response.status_code == 200, (route, response.text)
            assert (await http.get(f"{base}/control/nope")).status_code == 404

    run(scenario())


def test_stalled_blocks_stop_height_and_time_together() -> None:
    async def scenario() -> None:
        config = make_config(genesis_time_ns=None, auto_blocks=True, block_time_ms=20)
        async with running_sandbox(config=config) as (sandbox, http, _):
            node = sandbox.node
            base = sandbox.http_url.rsplit("/v4", 1)[0]
            await wait_for(lambda: node.height >= 3)
            await http.post(f"{base}/control/blocks/stall", params={"on": "true"})
            stalled = (await http.get("/height")).json()
            await asyncio.sleep(0.1)
            assert (await http.get("/height")).json() == stalled
            await http.post(f"{base}/control/blocks/stall", params={"on": "false"})
            await wait_for(lambda: node.height > int(stalled["height"]))
            await asyncio.sleep(0)
            resumed = (await http.get("/height")).json()
            assert int(resumed["height"]) > int(stalled["height"])
            assert resumed["time"] > stalled["time"]

    run(scenario())
