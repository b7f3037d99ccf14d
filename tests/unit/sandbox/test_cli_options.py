# SPDX-License-Identifier: Apache-2.0
"""Sandbox command-line options: --fund entries, --genesis, seeded mnemonics, REST budgets."""

from __future__ import annotations

import argparse

import pytest
from mnemonic import Mnemonic

from nautilus_dydx.sandbox import cli
from nautilus_dydx.sandbox.indexer_rest import RateLimiter
from nautilus_dydx.sandbox.keys import key_from_mnemonic
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K1_MNEMONIC
from tests.integration.sandbox.helpers import K2_ADDRESS


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_fund_entries_take_an_address_or_a_mnemonic_with_an_optional_amount() -> None:
    assert cli.parse_fund(K2_ADDRESS, 100, 1) == (K2_ADDRESS, 100_000_000)
    assert cli.parse_fund(f"{K2_ADDRESS}=12.5", 100, 1) == (K2_ADDRESS, 12_500_000)
    # Extra spaces and line breaks inside a pasted mnemonic do not matter
    spaced = "  " + K1_MNEMONIC.replace(" ", "\n ", 3) + " =7"
    assert cli.parse_fund(spaced, 100, 1) == (K1_ADDRESS, 7_000_000)


@pytest.mark.parametrize("entry", ["dydx1nope=5", "word " * 11 + "zoo", f"{K2_ADDRESS}=-1",
                                   f"{K2_ADDRESS}=lots", f"{K2_ADDRESS}=0"])
def test_bad_fund_entries_name_the_position_never_the_text(entry: str) -> None:
    with pytest.raises(ValueError, match="invalid --fund entry 3") as info:
        cli.parse_fund(entry, 100, 3)
    assert "word" not in str(info.value) and "nope" not in str(info.value)


def test_fund_from_the_environment_and_the_flag_in_one_config(monkeypatch) -> None:
    monkeypatch.setenv(cli.FUND_ENV, f"{K1_MNEMONIC}=1000; {K2_ADDRESS}=1")
    config = cli.build_config(_args("--accounts", "1", "--fund", f"{K2_ADDRESS}=2"))
    funded = {a.address: a.subaccounts[0] for a in config.accounts if a.address is not None}
    assert funded == {K1_ADDRESS: 1_000_000_000, K2_ADDRESS: 3_000_000}
    assert all(a.mnemonic is None for a in config.accounts if a.address is not None)


def test_seeded_accounts_have_valid_distinct_mnemonics() -> None:
    words = [cli.seeded_mnemonic(0, i) for i in range(3)]
    assert all(Mnemonic("english").check(w) for w in words)
    assert len({key_from_mnemonic(w).address for w in words}) == 3
    assert cli.seeded_mnemonic(0, 0) == cli.seeded_mnemonic(0, 0) != cli.seeded_mnemonic(1, 0)


def test_genesis_accepts_iso_or_unix_seconds_and_defaults_to_the_wall_clock() -> None:
    expected = 1_767_225_600_000_000_000
    assert cli.parse_genesis("2026-01-01T00:00:00Z") == expected
    assert cli.parse_genesis("2026-01-01T01:00:00+01:00") == expected
    assert cli.parse_genesis("1767225600.25") == expected + 250_000_000
    with pytest.raises(ValueError, match="invalid --genesis"):
        cli.parse_genesis("soon")
    assert cli.build_config(_args()).genesis_time_ns is None
    assert cli.build_config(_args("--genesis", "1767225600")).genesis_time_ns == expected


def test_candles_have_their_own_budget_and_the_window_slides() -> None:
    now = [0.0]
    limiter = RateLimiter(limit=2, window_s=10, clock=lambda: now[0], candles_limit=3)
    assert [limiter.check("h", "/v4/height")[0] for _ in range(3)] == [True, True, False]
    candles = "/v4/candles/perpetualMarkets/BTC-USD"
    assert [limiter.check("h", candles)[0] for _ in range(4)] == [True, True, True, False]
    assert limiter.check("other", "/v4/height")[0]
    now[0] = 10.5
    allowed, headers = limiter.check("h", "/v4/height")
    assert allowed and headers["RateLimit-Remaining"] == "1"


@pytest.mark.parametrize("bad", [
    ["--grpc-port", "70000"], ["--ws-port", "-5"], ["--usdc", "-3"], ["--host", "0.0.0.0"],
    ["--host", "nothost"], ["--block-time-ms", "0"], ["--markets", "DOGE-USD"],
    ["--fund", "dydx1abc"], ["--genesis", "soon"], ["--replay", "/nonexistent.ndjson"],
])
def test_user_errors_are_one_line_and_exit_2(bad: list[str], capsys) -> None:
    argv = ["--no-agents", "--duration", "0.1", "--grpc-port", "0", "--http-port", "0",
            "--ws-port", "0", *bad]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "sandbox running" not in captured.out
