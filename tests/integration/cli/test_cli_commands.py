# SPDX-License-Identifier: Apache-2.0
"""Every network subcommand of `nautilus-dydx` against an in-process sandbox (ports 0)."""

from __future__ import annotations

import asyncio
import os
import pty
import signal
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from nautilus_dydx.cli import main
from nautilus_dydx.sandbox.agents import AgentConfig
from nautilus_dydx.tools import live
from tests.integration.cli.support import SandboxThread
from tests.integration.sandbox.helpers import ALICE
from tests.integration.sandbox.helpers import BTC
from tests.integration.sandbox.helpers import BUY
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import LONG_TERM
from tests.integration.sandbox.helpers import Client
from tests.integration.sandbox.helpers import make_config
from tests.integration.sandbox.helpers import place


REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def venue() -> Iterator[SandboxThread]:
    # Blocks on the wall clock (100 ms) so live views see a moving book, trades and oracle
    config = make_config(auto_blocks=True, genesis_time_ns=None)
    with SandboxThread(config, AgentConfig(levels=10, taker_probability=1.0)) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def resting_order(venue: SandboxThread) -> int:
    # One long-term bid far below the market (an open stateful order of K1), then an IOC
    # buy through the agents' asks that opens a long BTC position
    async def broadcast() -> int:
        channel = grpc.aio.insecure_channel(venue.sandbox.grpc_endpoint)
        try:
            client = Client(channel)
            account = await client.account(K1_ADDRESS)
            block_time = venue.sandbox.node.block_time_ns // 1_000_000_000
            tx = ALICE.sign_tx(
                [place(K1_ADDRESS, 4242, BUY, 10_000_000, 1_000_000_000,
                       gtbt=block_time + 3600, flags=LONG_TERM, clob_pair_id=BTC)],
                sequence=account.sequence,
            )
            response = await client.broadcast(tx)
            assert response.code == 0, response.raw_log
            height = venue.sandbox.node.height
            take = ALICE.sign_tx([place(K1_ADDRESS, 777, BUY, 10_000_000, 7_000_000_000,
                                        gtb=height + 5, tif=IOC, clob_pair_id=BTC)])
            response = await client.broadcast(take)
            assert response.code == 0, response.raw_log
            for _ in range(200):
                if venue.sandbox.node.height >= height + 2:
                    break
                await asyncio.sleep(0.05)
            return 4242
        finally:
            await channel.close()

    return venue.call(broadcast)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_markets_lists_every_market_with_its_parameters(
    venue: SandboxThread, capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(["markets", *venue.network_args()], capsys)

    assert code == 0, err
    rows = {line.split()[1]: line for line in out.splitlines() if "-USD " in line}
    assert set(rows) == {"BTC-USD", "ETH-USD", "SOL-USD", "PEPE-USD"}
    btc = venue.sandbox.state.markets["BTC-USD"]
    cells = [c.strip() for c in rows["BTC-USD"].strip("│ ").split("│")]
    assert cells[0] == "BTC-USD"
    assert cells[1] == "ACTIVE"
    # tick, step, atomic resolution and IMF/MMF of the venue's own parameters
    params = venue.sandbox.node.chain.markets[0].config
    assert Decimal(cells[3]) == Decimal(params.subticks_per_tick).scaleb(
        params.quantum_conversion_exponent - params.atomic_resolution - 6,
    )
    assert Decimal(cells[4]) == Decimal(params.step_base_quantums).scaleb(params.atomic_resolution)
    assert int(cells[5]) == params.atomic_resolution
    assert btc.ticker == "BTC-USD"


def test_book_prints_bounded_plain_updates_with_an_uncrossed_spread(
    venue: SandboxThread, capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(
        ["book", "BTC-USD", "--count", "3", "--depth", "5", *venue.network_args()], capsys,
    )

    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 3
    for line in lines:
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        assert Decimal(fields["spread"]) > 0
        assert Decimal(fields["ask"]) - Decimal(fields["bid"]) == Decimal(fields["spread"])
        assert fields["levels"] == "5/5"


def test_price_line_shows_mid_last_and_oracle(
    venue: SandboxThread, capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(["price", "ETH-USD", "--count", "6", *venue.network_args()], capsys)

    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 6
    fields = dict(f.split("=", 1) for f in lines[-1].split() if "=" in f)
    assert (Decimal(fields["bid"]) + Decimal(fields["ask"])) / 2 == Decimal(fields["mid"])
    assert fields["oracle"] != "-"
    assert fields["last"] != "-"


def test_trades_prints_live_trades_until_the_count(
    venue: SandboxThread, capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(
        ["trades", "BTC-USD", "--count", "2", "--duration", "20", *venue.network_args()], capsys,
    )

    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 2
    known = {t["id"] for t in venue.sandbox.state.markets["BTC-USD"].trades}
    for line in lines:
        assert "BTC-USD-PERP" in line
        assert line.split("id=")[1] in known


def test_duration_bounds_a_live_view(
    venue: SandboxThread, capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(
        ["book", "SOL-USD", "--duration", "0.5", *venue.network_args()], capsys,
    )

    assert code == 0, err
    assert all(line.startswith("SOL-USD bid=") for line in out.splitlines())


def test_account_shows_equity_fee_tier_and_equity_tier_usage(
    venue: SandboxThread, resting_order: int, capsys: pytest.CaptureFixture[str],
) -> None:
    # The clock stops so that equity (which follows the oracle) holds still while compared
    venue.call(venue.sandbox.node.pause)
    try:
        code, out, err = run_cli(
            ["account", "--address", K1_ADDRESS, *venue.network_args()], capsys,
        )
        state = venue.sandbox.state
        expected = venue.call(
            lambda: state.subaccount_json(state.subaccounts[(K1_ADDRESS, 0)]),
        )
    finally:
        venue.call(venue.sandbox.node.resume)

    assert code == 0, err
    assert f"account {K1_ADDRESS}/0" in out
    assert (
        f"equity {expected['equity']} USDC, free collateral {expected['freeCollateral']} USDC"
        in out
    )
    assert "fee tier" in out and "maker" in out and "taker" in out
    # 100 000 USDC sits in the governance tier from 50 000 USDC (limit 200)
    assert "stateful orders 1 open of 200 allowed (tier from 50000 USDC)" in out
    assert "1 open orders" in out
    row = next(line for line in out.splitlines() if line.startswith("│ BTC-USD"))
    assert "LONG" in row and "0.001" in row


def test_orders_lists_the_open_long_term_order(
    venue: SandboxThread, resting_order: int, capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(
        ["orders", "--address", K1_ADDRESS, *venue.network_args()], capsys,
    )

    assert code == 0, err
    assert f"1 open orders of {K1_ADDRESS}/0" in out
    row = next(line for line in out.splitlines() if str(resting_order) in line)
    assert "BTC-USD" in row and "BUY" in row and "long-term" in row and "OPEN" in row


def test_orders_reads_the_address_from_the_environment(
    venue: SandboxThread, resting_order: int, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DYDX_WALLET_ADDRESS", K1_ADDRESS)

    code, out, err = run_cli(["orders", "--recent", *venue.network_args()], capsys)

    assert code == 0, err
    assert "most recent orders" in out
    assert str(resting_order) in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["book", "NOPE-USD", "--count", "1"], "unknown market 'NOPE-USD'"),
        (["account", "--address", "dydx1notanaddress"], "invalid `--address`"),
        (["account", "--address", K1_ADDRESS, "--subaccount", "x"], "invalid --subaccount"),
        (["download", "BTC-USD", "--catalog", "unused", "--start", "yesterday-ish"],
         "invalid --start"),
        (["download", "BTC-USD", "--catalog", "unused", "--data", "bars,quotes"],
         "invalid --data"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(
    venue: SandboxThread, argv: list[str], expected: str, capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli([*argv, *venue.network_args()], capsys)

    assert code == 2
    assert err.count("\n") == 1
    assert expected in err
    assert "Traceback" not in err


def test_unreachable_endpoint_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        ["markets", "--network", "sandbox", "--rest-url", "http://127.0.0.1:9/v4"], capsys,
    )

    assert code == 2
    assert err.startswith("nautilus-dydx: error: cannot reach the Indexer")
    assert err.count("\n") == 1


def test_unreachable_grpc_is_one_line_and_exit_2(
    venue: SandboxThread, capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(
        ["account", "--address", K1_ADDRESS, *venue.network_args(), "--grpc", "127.0.0.1:9"],
        capsys,
    )

    assert code == 2
    assert err.startswith("nautilus-dydx: error: validator gRPC:")
    assert err.count("\n") == 1


def test_unreachable_websocket_is_one_line_and_exit_2(
    venue: SandboxThread, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(live, "CONNECT_TIMEOUT_S", 1.0)

    code, out, err = run_cli(
        ["price", "BTC-USD", "--count", "1", *venue.network_args(),
         "--ws-url", "ws://127.0.0.1:9/v4/ws"],
        capsys,
    )

    assert code == 2
    assert err == "nautilus-dydx: error: TimeoutError: no WebSocket connection to " \
        "ws://127.0.0.1:9/v4/ws\n"


def test_unwritable_catalog_is_one_line_and_exit_2(
    venue: SandboxThread, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")

    code, out, err = run_cli(
        ["download", "BTC-USD", "--catalog", str(blocker / "catalog"), *venue.network_args()],
        capsys,
    )

    assert code == 2
    assert err.count("\n") == 1
    assert "Traceback" not in err


def _subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_bad_option_in_a_subprocess_is_one_line_without_usage() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nautilus_dydx.cli", "book", "BTC-USD", "--count", "zero"],
        capture_output=True, text=True, timeout=60, env=_subprocess_env(), cwd=REPO,
    )

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "argument --count" in result.stderr
    assert "Traceback" not in result.stderr


def test_book_in_a_terminal_repaints_a_table_and_exits_after_the_count(
    venue: SandboxThread,
) -> None:
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "nautilus_dydx.cli", "book", "BTC-USD", "--count", "5",
             "--depth", "4", *venue.network_args()],
            stdout=follower, stderr=subprocess.PIPE, env={**_subprocess_env(), "TERM": "xterm"},
            cwd=REPO,
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # The terminal closes when the process exits
                break
            if not chunk:
                break
            chunks.append(chunk)
        _, err = process.communicate(timeout=30)
    finally:
        os.close(leader)
    screen = b"".join(chunks).decode("utf-8", "replace")

    assert process.returncode == 0, err
    assert "BTC-USD order book (top 4)" in screen
    assert "spread" in screen and "updates 5" in screen
    assert "bid=" not in screen  # Not the plain-line mode


# SIGINT as in a terminal. A test run started in the background by a shell without job control
# (`cmd &` in a script) has SIGINT ignored, the child inherits that, and Python then leaves it
# ignored: the view would rightly not stop. Restored in the child's Python, not by a `preexec_fn`:
# that makes subprocess fork rather than spawn, and gRPC's fork handlers (the sandbox's server
# runs in this process) then restart a poller in the child that logs an error when its fds close
_CLI_WITH_SIGINT = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'nautilus_dydx.cli'; runpy.run_module('nautilus_dydx.cli', run_name='__main__')"
)


def test_ctrl_c_stops_a_live_view_cleanly(venue: SandboxThread) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", _CLI_WITH_SIGINT, "trades", "BTC-USD", "--duration", "60",
         *venue.network_args()],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_subprocess_env(),
        cwd=REPO,
    )
    try:
        # The first trade line proves the view is running before the interrupt
        first = process.stdout.readline()
        assert "BTC-USD-PERP" in first
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)

    assert process.returncode == 130
    assert "Traceback" not in err
    assert err.strip() == "interrupted"
