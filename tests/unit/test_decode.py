# SPDX-License-Identifier: Apache-2.0
"""Tests of the offline decoder `nautilus-dydx decode`."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from nautilus_dydx import cli
from nautilus_dydx._core.frames import FrameParser
from nautilus_dydx.tools import decode


RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "ws"
MARKETS = RESOURCES / "perpetual_markets.json"
SESSION = RESOURCES / "session.ndjson"


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    decode.add_arguments(parser)
    code = decode.run(parser.parse_args(list(argv)))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_session_prints_objects_then_summary(capsys) -> None:
    code, out, _ = _run(capsys, "--markets", str(MARKETS), "--frames", str(SESSION),
                        "--ts-init", "7")
    lines = out.splitlines()
    # One book level is malformed on purpose: skipped (exit status 1), the rest decoded
    assert code == 1
    assert lines[0].startswith("1: Connected(")
    assert any(line.startswith("3: OrderBookDeltas(") for line in lines)
    assert any("TradeTick(BTC-USD-PERP.DYDX,90113,1.2500,BUYER" in line for line in lines)
    assert "19: SKIPPED 1 book level: size not a decimal" in lines
    assert any(line.startswith("19: ResyncNeeded(") for line in lines)
    summary = lines[lines.index(next(x for x in lines if x.startswith("-- "))):]
    assert summary[0] == "-- 19 frames, 3 markets, 53 objects, 0 errors"
    # The trades snapshot is history (one record); the update adds one new live trade
    assert "   TradeHistory: 1" in summary
    assert "   TradeTick: 1" in summary
    assert "   skipped book level: size not a decimal: 1" in summary
    assert "   FillUpdate: 2" in summary
    assert "   OrderBookDeltas: 4" in summary


def test_stdin_and_clean_exit(capsys, monkeypatch) -> None:
    good = "\n".join(SESSION.read_text().splitlines()[:4]) + "\n\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(good))
    code, out, _ = _run(capsys, "--markets", str(MARKETS), "--ts-init", "1")
    assert code == 0
    assert "-- 4 frames, 3 markets" in out
    assert "0 errors" in out


def test_invalid_utf8_frame_is_an_error_not_a_crash(capsys, tmp_path) -> None:
    frames = tmp_path / "frames.ndjson"
    frames.write_bytes(SESSION.read_bytes().splitlines()[0] + b"\n" + b'{"type":"\xff"}\n')
    code, out, _ = _run(capsys, "--markets", str(MARKETS), "--frames", str(frames))
    assert code == 1
    assert "2: ERROR frame: invalid JSON" in out
    assert "-- 2 frames, 3 markets, 1 objects, 1 errors" in out


def test_precisions_come_from_tick_and_step_sizes() -> None:
    parser = FrameParser()
    assert decode.register_markets(parser, json.loads(MARKETS.read_text())) == 3
    eth = parser.context("ETH-USD")
    sol = parser.context("SOL-USD")
    assert (eth.price_precision, eth.size_precision) == (1, 3)
    assert (sol.price_precision, sol.size_precision) == (2, 1)
    assert str(sol.instrument_id) == "SOL-USD-PERP.DYDX"


def test_new_listing_is_registered_from_the_stream() -> None:
    parser = FrameParser()
    decode.register_markets(parser, json.loads(MARKETS.read_text()))
    frames = [line for line in SESSION.read_text().splitlines() if '"v4_markets"' in line]
    frames.append(json.dumps({
        "type": "channel_data", "channel": "v4_trades", "id": "NEW-USD", "message_id": 30,
        "contents": {"trades": [{"id": "t1", "side": "BUY", "size": "3", "price": "0.125",
                                 "createdAt": "2025-12-08T16:12:05.000Z"}]},
    }))
    out = io.StringIO()
    counts, total, errors = decode.decode_stream(parser, io.StringIO("\n".join(frames)), out, 1)
    assert (total, errors) == (3, 0)
    assert parser.context("NEW-USD").price_precision == 3
    assert "TradeTick(NEW-USD-PERP.DYDX,0.125,3,BUYER,t1," in out.getvalue()


def test_bad_markets_file(capsys, tmp_path) -> None:
    bad = tmp_path / "markets.json"
    bad.write_text('{"markets": {"BTC-USD": {"tickSize": "0"}}}')
    code, _, err = _run(capsys, "--markets", str(bad), "--frames", str(SESSION))
    assert code == 2
    assert "cannot load markets" in err
    code, _, err = _run(capsys, "--markets", str(tmp_path / "missing.json"))
    assert code == 2


def test_cli_subcommand(capsys) -> None:
    code = cli.main(["decode", "--markets", str(MARKETS), "--frames", str(SESSION),
                     "--no-scanner", "--ts-init", "1"])
    out = capsys.readouterr().out
    assert code == 1
    assert "-- 19 frames, 3 markets, 53 objects, 0 errors" in out


@pytest.mark.parametrize("flag", [[], ["--no-scanner"]])
def test_scanner_and_walk_print_the_same(capsys, flag) -> None:
    code, out, _ = _run(capsys, "--markets", str(MARKETS), "--frames", str(SESSION),
                        "--ts-init", "5", *flag)
    reference_out = _run(capsys, "--markets", str(MARKETS), "--frames", str(SESSION),
                         "--ts-init", "5")[1]
    assert out == reference_out
