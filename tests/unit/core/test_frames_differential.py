# SPDX-License-Identifier: Apache-2.0
"""Differential fuzzing: compiled parser (scanner and walk) and its twin agree on every input."""

from __future__ import annotations

import json
import subprocess
import sys

import orjson
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_dydx._core import frames as compiled
from tests.conftest import REPO_ROOT
from tests.fuzz.corpus import Mutator
from tests.fuzz.corpus import load_corpus
from tests.fuzz.differential import Stats
from tests.fuzz.differential import new_parsers
from tests.fuzz.differential import normalize
from tests.fuzz.differential import run_session
from tests.reference import frames as reference


CORPUS = load_corpus()
SHORT = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcomes(data: bytes | str) -> dict:
    results = {}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))  # normalize() walks outputs nested 1000 deep
    try:
        for name, parser in new_parsers().items():
            error = reference.FrameError if name == "reference" else compiled.FrameError
            try:
                results[name] = ("ok", normalize(parser.parse(data, 1)), dict(parser.skipped))
            except error as e:
                results[name] = ("FrameError", e.channel, parser.frames, parser.errors)
    finally:
        sys.setrecursionlimit(limit)
    return results


def assert_agree(data: bytes | str) -> dict:
    results = outcomes(data)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))  # Comparing 1000-deep outputs recurses
    try:
        agree = (results["walk"] == results["scanner"], results["reference"] == results["scanner"])
    finally:
        sys.setrecursionlimit(limit)
    assert agree == (True, True), {name: repr(r)[:300] for name, r in results.items()}
    return results


@SHORT
@given(st.integers(0, 2**32))
def test_mutated_sessions_agree_and_never_crash(seed) -> None:
    stats = Stats()
    mutator = Mutator(CORPUS, seed)
    run_session([mutator.next() for _ in range(16)], stats)
    assert stats.crashes == 0, stats.findings
    assert stats.mismatches == 0, stats.findings


@SHORT
@given(st.binary(max_size=200))
def test_random_bytes_agree(data) -> None:
    assert_agree(data)


@pytest.mark.parametrize(
    "data",
    [
        # Numbers a double cannot hold, non-JSON literals, integers beyond 64 bits
        b'{"type":"connected","message_id":0,"x":1e400}',
        b'{"type":"connected","message_id":0,"x":NaN}',
        b'{"type":"connected","message_id":0,"x":-Infinity}',
        b'{"type":"connected","message_id":18446744073709551616}',
        b'{"type":"connected","message_id":18446744073709551615}',
        b'{"type":"connected","message_id":0,"x":' + b"9" * 5000 + b"}",
        # Encodings: BOM, UTF-16, invalid UTF-8, raw and escaped surrogates
        b'\xef\xbb\xbf{"type":"connected","message_id":0}',
        '{"type":"connected","message_id":0}'.encode("utf-16"),
        b'{"type":"connected","connection_id":"\xff","message_id":0}',
        b'{"type":"connected","connection_id":"\xed\xa0\x80","message_id":0}',
        b'{"type":"connected","connection_id":"\\ud800","message_id":0}',
        b'{"type":"connected","connection_id":"\\udc00\\ud800","message_id":0}',
        b'{"type":"connected","connection_id":"\\ud83d\\ude00","message_id":0}',
        # An unpaired escape in a duplicate key's losing value still makes the frame invalid
        b'{"type":"connected","connection_id":"\\udc00","connection_id":"c","message_id":0}',
        # Two faults in one item: both report the first one read (the twin used to differ)
        b'{"type":"channel_data","channel":"v4_subaccounts","id":"a/0","message_id":1,'
        b'"contents":{"fills":[{"id":"f","side":"BUY","liquidity":"TAKER","size":"1",'
        b'"price":"1","createdAt":"yesterday","fee":[1]}]}}',
        b'{"type":"channel_data","channel":"v4_block_height","message_id":1,'
        b'"contents":{"blockHeight":"7DAYS","time":["x"]}}',
        # Nesting at and beyond the decoder's 1024 levels
        b"[" * 1024 + b"]" * 1024,
        b"[" * 1025 + b"]" * 1025,
        b'{"type":"connected","message_id":0,"x":' + b"[" * 1000 + b"]" * 1000 + b"}",
        b'{"type":"subscribed","channel":"v4_markets","message_id":1,"contents":{"markets":'
        b'{"BTC-USD":{"oraclePrice":"1","deep":' + b"[" * 1010 + b"]" * 1010 + b"}}}}",
    ],
)
def test_json_edge_cases_agree(data) -> None:
    assert_agree(data)


def test_deeply_nested_market_field_is_kept() -> None:
    # An unknown market field nested 1000 deep (the decoder allows 1024) is carried on
    data = (b'{"type":"subscribed","channel":"v4_markets","message_id":1,"contents":{"markets":'
            b'{"BTC-USD":{"oraclePrice":"1","deep":' + b"[" * 1000 + b"]" * 1000 + b"}}}}")
    results = assert_agree(data)
    assert results["scanner"][0] == "ok"


@pytest.mark.parametrize("corpus_index", range(len(CORPUS)))
def test_every_corpus_frame_agrees_in_every_serialization(corpus_index) -> None:
    msg = orjson.loads(CORPUS[corpus_index])
    for data in (
        CORPUS[corpus_index],
        json.dumps(msg, separators=(", ", ": ")).encode(),
        json.dumps(msg, indent="\t").encode(),
        json.dumps(msg, ensure_ascii=True).encode(),
    ):
        assert_agree(data)


# -- Regressions found by the fuzzer ----------------------------------------------------------


def test_scanner_refuses_unpaired_surrogate_escape_like_orjson() -> None:
    data = (b'{"type":"channel_data","message_id":7,"id":"BTC-USD","channel":"v4_trades",'
            b'"contents":{"trades":[{"id":"t1","side":"SELL","size":"0.0021","price":"90110",'
            b'"type":"LIMIT","createdAt":"2025-12-08T16:11:59.450Z",'
            b'"createdAtHeight":"666\\ud80024133"}]}}')
    results = outcomes(data)
    assert results["walk"][0] == "FrameError"
    assert results["scanner"] == results["walk"]


SPECIALS = {
    "escaped quote": b'\\"',
    "escaped backslash": b"\\\\",
    "unicode escape": b"\\u0041",
    "bad escape": b"\\x",
    "control byte": b"\x01",
    "non-ascii": "\u00e9".encode(),
    "closing quote only": b"",
}


@pytest.mark.parametrize("special", SPECIALS)
def test_scanner_strings_with_a_special_byte_at_every_offset(special) -> None:
    # The scanner skips plain string bytes eight at a time: put the byte that stops it at every
    # offset of an 8-byte word, with short tails, in a field it reads (the trade id) and in one
    # it only validates and skips (an unknown field), and check all parsers still agree
    for offset in range(0, 20):
        for tail in (0, 1, 7, 8, 9):
            text = b"a" * offset + SPECIALS[special] + b"b" * tail
            for trade_id, extra in ((text, b"x"), (b"t1", text)):
                data = (b'{"type":"channel_data","message_id":7,"id":"BTC-USD",'
                        b'"channel":"v4_trades","contents":{"trades":[{"id":"' + trade_id +
                        b'","note":"' + extra + b'","side":"SELL","size":"1","price":"90110",'
                        b'"type":"LIMIT","createdAt":"2025-12-08T16:11:59.450Z",'
                        b'"createdAtHeight":"66624133"}]}}')
                assert_agree(data)


@pytest.mark.parametrize(
    ("market", "expected_precision"),
    [({"tickSize": 1, "stepSize": "0.001"}, (0, 3)), ({"tickSize": "1", "stepSize": 5}, (0, 0))],
)
def test_market_increments_sent_as_json_numbers_count_as_their_text(market, expected_precision):
    data = orjson.dumps({"type": "subscribed", "channel": "v4_markets", "message_id": 1,
                         "contents": {"markets": {"BTC-USD": market}}})
    results = outcomes(data)
    update = results["reference"][1][1]
    assert (update[1]["price_precision"], update[1]["size_precision"]) == expected_precision
    assert results["scanner"] == results["reference"]


def test_funding_rate_sent_as_json_number_is_published() -> None:
    data = orjson.dumps({"type": "channel_data", "channel": "v4_markets", "message_id": 1,
                         "contents": {"trading": {"BTC-USD": {"nextFundingRate": 1}}}})
    results = outcomes(data)
    assert [kind for kind, _ in results["reference"][1]] == ["MarketUpdate",
                                                             "FundingRateUpdate"]
    assert results["scanner"] == results["reference"]


def test_str_frame_with_lone_surrogate_is_a_frame_error() -> None:
    parser = compiled.FrameParser()
    with pytest.raises(compiled.FrameError):
        parser.parse('{"type":"connected","message_id":0,"connection_id":"\ud800"}', 1)


def test_twin_refuses_str_frame_with_lone_surrogate() -> None:
    parser = reference.FrameParser()
    with pytest.raises(reference.FrameError):
        parser.parse('{"type":"connected","message_id":0,"connection_id":"\ud800"}', 1)
    assert (parser.frames, parser.errors) == (1, 1)


# Found by the long fuzz run: an oracle price keeps up to 16 decimals, so a large one makes a
# Price whose decimal mantissa exceeds rust_decimal's 96 bits. Formatting it (repr, str, a log
# line) panics in Rust and aborts the process. Run in a child process to report, not die.
ORACLE_ABORT = (
    b'{"type":"channel_data","channel":"v4_markets","message_id":10,"contents":{"oraclePrices":'
    b'{"BTC-USD":{"oraclePrice":"8779053813321.9839587886082695451004",'
    b'"effectiveAt":"2025-12-08T16:12:01.000Z","effectiveAtHeight":"66624134","marketId":0}}}}'
)


def test_huge_oracle_price_with_many_decimals_does_not_abort_when_formatted() -> None:
    script = (
        f"DATA = {ORACLE_ABORT!r}\n"
        "from tests.fuzz.differential import new_parsers\n"
        "for parser in new_parsers().values():\n"
        "    for obj in parser.parse(DATA, 1):\n"
        "        repr(obj)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, timeout=120,
    )
    assert result.returncode == 0, (result.returncode, result.stderr[-300:])


# Precision 16 (the finest): 2**96 - 1 raw, the most Nautilus can format, is about 7.9e12
FINE_SCRIPT = """
import json
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_dydx._core import frames as compiled
from tests.reference import frames as reference
parsers = {"scanner": compiled.FrameParser(), "walk": compiled.FrameParser(scanner=False),
           "reference": reference.FrameParser()}
results = {}
for name, parser in parsers.items():
    parser.register("FINE-USD", InstrumentId.from_str("FINE-USD-PERP.DYDX"), 16, 16)
    kinds = []
    for frame in FRAMES:
        for obj in parser.parse(frame, 1):
            repr(obj)
            kinds.append(type(obj).__name__)
    results[name] = [kinds, parser.skipped, parser.adapted]
print(json.dumps(results))
"""
IN_RANGE = "7000000000000"
TOO_MANY_DIGITS = "8000000000000"  # 8e28 raw at precision 16
FINE_FRAMES = [
    orjson.dumps({"type": "subscribed", "channel": "v4_orderbook", "id": "FINE-USD",
                  "message_id": 1, "contents": {
                      "bids": [{"price": IN_RANGE, "size": "1"},
                               {"price": TOO_MANY_DIGITS, "size": "1"}],
                      "asks": [{"price": "7100000000000", "size": TOO_MANY_DIGITS},
                               {"price": "7200000000000", "size": "1"}]}}),
    orjson.dumps({"type": "channel_data", "channel": "v4_trades", "id": "FINE-USD",
                  "message_id": 2, "contents": {"trades": [
                      {"id": f"t{i}", "side": "BUY", "size": "1", "price": price, "type": kind,
                       "createdAt": "2025-12-08T16:11:59.450Z"}
                      for i, (price, kind) in enumerate([
                          (IN_RANGE, "LIMIT"), (TOO_MANY_DIGITS, "LIMIT"),
                          # Off grid at 16 places, rounded half-even to 8e12: too many digits
                          (TOO_MANY_DIGITS + ".00000000000000005", "DELEVERAGED"),
                      ])]}}),
    orjson.dumps({"type": "channel_data", "channel": "v4_markets", "message_id": 3,
                  "contents": {"oraclePrices": {"FINE-USD": {
                      "oraclePrice": TOO_MANY_DIGITS + ".0000000000000001"}}}}),
    orjson.dumps({"type": "channel_data", "channel": "v4_markets", "message_id": 4,
                  "contents": {"oraclePrices": {"FINE-USD": {
                      "oraclePrice": IN_RANGE + ".0000000000000001"}}}}),
    orjson.dumps({"type": "channel_data", "channel": "v4_candles", "id": "FINE-USD/1MIN",
                  "message_id": 5, "contents": {
                      "startedAt": "2025-12-08T16:12:00.000Z", "ticker": "FINE-USD",
                      "resolution": "1MIN", "low": IN_RANGE, "high": TOO_MANY_DIGITS,
                      "open": IN_RANGE, "close": IN_RANGE, "baseTokenVolume": "1"}}),
]


def test_values_nautilus_cannot_format_are_skipped_in_every_path() -> None:
    # Book levels, trades, oracle prices and candles at precision 16: a value beyond the 96-bit
    # mantissa is skipped as out of range (formatting it would abort the process)
    script = f"FRAMES = {FINE_FRAMES!r}\n" + FINE_SCRIPT
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, timeout=120,
    )
    assert result.returncode == 0, (result.returncode, result.stderr[-300:])
    results = json.loads(result.stdout)
    kinds, skipped, adapted = results["scanner"]
    assert kinds == ["Subscribed", "OrderBookDeltas", "QuoteTick", "ResyncNeeded", "TradeTick",
                     "MarkPriceUpdate", "IndexPriceUpdate"]
    assert skipped == {
        "book level: price out of range": 1, "book level: size out of range": 1,
        "trade: price out of range": 2, "oracle price: oraclePrice out of range": 1,
        "candle: high out of range": 1,
    }
    assert adapted == {}
    assert results["walk"] == results["reference"] == results["scanner"]
