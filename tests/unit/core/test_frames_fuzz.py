# SPDX-License-Identifier: Apache-2.0
"""Fuzz the public frames/decimal API in-process: a Rust panic or C abort would kill pytest."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dydx._core import decimal as dec
from nautilus_dydx._core import frames


RESOURCES = Path(__file__).resolve().parents[2] / "resources" / "ws"
SAMPLES = {
    **json.loads((RESOURCES / "frames.json").read_text()),
    **json.loads((RESOURCES / "real_shapes.json").read_text()),
}
BTC = InstrumentId.from_str("BTC-USD-PERP.DYDX")
ETH = InstrumentId.from_str("ETH-USD-PERP.DYDX")
TS = 1_765_210_400_000_000_000
FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Decimal texts at and beyond every limit: places, exponents, Nautilus price/quantity maxima
EXTREME_NUMBERS = st.sampled_from([
    "0", "-0", "1", "-1", "0.1", "1e-7", "1.5e-10", "1e16", "1e17", "1e30", "1e-30", "9e999999",
    "1e-999999", "17014118346046", "17014118346046.0000000000000001", "17014118346047",
    "34028236692093", "34028236692094", "-17014118346046", "99999999999999999999999999999",
    "0.0000000000000001", "0.00000000000000005", "0.00000000000000015",
    "2656.54285714285714285714", "2340.7442700369913687", "1" * 400, "0." + "9" * 400,
    "1.", ".5", "+7", "", "-", "e5", "1e", "1e+", "NaN", "inf", "1_0", " 1", "٣",
])
NUMBER_TEXT = EXTREME_NUMBERS | st.from_regex(
    r"[+-]?[0-9]{0,25}(\.[0-9]{0,30})?([eE][+-]?[0-9]{1,4})?", fullmatch=True,
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | NUMBER_TEXT
    | st.text(max_size=12) | st.sampled_from([
        "2025-12-08T16:11:59.450Z", "9999-12-31T23:59:59.999999999Z", "2262-04-12T00:00:00Z",
        "BUY", "SELL", "LIQUIDATED", "DELEVERAGED", "ACTIVE", "é" * 40, "x" * 37,
    ]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)


def new_parser(**kwargs) -> frames.FrameParser:
    parser = frames.FrameParser(**kwargs)
    parser.register("BTC-USD", BTC, 0, 4)
    parser.register("ETH-USD", ETH, 1, 3)
    return parser


def touch(objects: list) -> None:
    # Format every object (and a history's contents): Nautilus formats raws in Rust
    for obj in objects:
        repr(obj)
        for inner in getattr(obj, "trades", None) or getattr(obj, "bars", None) or ():
            repr(inner)
            str(inner)


def parse_all(data: bytes) -> None:
    for parser in (new_parser(), new_parser(scanner=False)):
        try:
            touch(parser.parse(data, TS))
        except frames.FrameError:
            pass
        touch(parser.flush_closed_bars(2**64 - 1))
        parser.take_new_reasons()


@st.composite
def mutated_frames(draw) -> bytes:
    msg = json.loads(json.dumps(SAMPLES[draw(st.sampled_from(sorted(SAMPLES)))]))
    for _ in range(draw(st.integers(1, 4))):
        target = msg
        for step in draw(st.lists(st.integers(0, 20), max_size=5)):
            children = (
                [target[k] for k in sorted(target)] if isinstance(target, dict) else target
            )
            nested = [c for c in children if isinstance(c, (dict, list)) and c]
            if not nested:
                break
            target = nested[step % len(nested)]
        value = draw(JSON_VALUES)
        if isinstance(target, dict) and target:
            key = sorted(target)[draw(st.integers(0, len(target) - 1))]
            if draw(st.booleans()):
                target[key] = value
            else:
                target[draw(st.text(max_size=8))] = value
        elif isinstance(target, list) and target:
            target[draw(st.integers(0, len(target) - 1))] = value
    return json.dumps(msg).encode()


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_never_abort(data) -> None:
    parse_all(data)


@FUZZ
@given(mutated_frames())
def test_mutated_real_frames_never_abort(data) -> None:
    parse_all(data)


@FUZZ
@given(
    st.sampled_from(["price", "size"]),
    NUMBER_TEXT,
    st.sampled_from(["LIMIT", "LIQUIDATED", "DELEVERAGED"]),
)
def test_extreme_trade_numbers_never_abort(field, number, kind) -> None:
    trade = {"id": "t1", "side": "BUY", "size": "0.5", "price": "2340.7", "type": kind,
             "createdAt": "2025-12-08T16:12:00.020Z", field: number}
    data = orjson.dumps({"type": "channel_data", "channel": "v4_trades", "id": "ETH-USD",
                         "message_id": 1, "contents": {"trades": [trade]}})
    parse_all(data)


@FUZZ
@given(st.sampled_from(["open", "high", "low", "close", "baseTokenVolume"]), NUMBER_TEXT)
def test_extreme_candle_and_oracle_numbers_never_abort(field, number) -> None:
    candle = {"startedAt": "2025-12-08T16:11:00.000Z", "resolution": "1MIN", "low": "1",
              "high": "1", "open": "1", "close": "1", "baseTokenVolume": "1", field: number}
    parse_all(json.dumps({"type": "channel_data", "channel": "v4_candles",
                            "id": "BTC-USD/1MIN", "message_id": 1, "contents": candle}))
    market = {"oraclePrice": number, "nextFundingRate": number, "tickSize": "1",
              "stepSize": "0.0001", "status": "ACTIVE"}
    parse_all(orjson.dumps({"type": "subscribed", "channel": "v4_markets", "message_id": 1,
                            "contents": {"markets": {"BTC-USD": market}}}))


@FUZZ
@given(
    st.integers(-(2**70), 2**70), st.integers(-(2**70), 2**70), st.integers(0, 2**64 - 1),
    st.text(max_size=40),
)
def test_register_validates_every_argument(price_precision, size_precision, cross, ticker):
    parser = frames.FrameParser()
    try:
        ctx = parser.register(ticker, BTC, price_precision, size_precision, cross)
    except (ValueError, OverflowError):
        assert not (0 <= price_precision <= 16 and 0 <= size_precision <= 16)
        return
    assert 0 <= ctx.price_precision <= 16
    assert 0 <= ctx.size_precision <= 16
    repr(ctx)


@FUZZ
@given(NUMBER_TEXT | st.text(max_size=30), st.integers(-5, 40))
def test_decimal_functions_only_raise_value_error(text, precision) -> None:
    for call in (
        lambda: dec.parse_decimal(text),
        lambda: dec.price_raw(text),
        lambda: dec.quantity_raw(text),
        lambda: dec.parse_decimal_rounded(text, precision),
        lambda: frames.precision_from_increment(text),
    ):
        try:
            call()
        except ValueError:
            pass


@FUZZ
@given(st.integers(-(2**130), 2**130), st.integers(-5, 40))
def test_format_raw_only_raises_value_error(raw, precision) -> None:
    try:
        text = dec.format_raw(raw, precision)
    except (ValueError, OverflowError):
        return
    assert dec.parse_decimal(text)[0] == raw


@FUZZ
@given(st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,12})?Z",
                     fullmatch=True))
def test_iso_timestamps_fit_nautilus_nanoseconds(text) -> None:
    try:
        ns = frames.iso_to_ns(text)
    except frames.FrameError:
        return
    assert 0 <= ns < 2**63


@pytest.mark.parametrize("text", ["2262-04-12T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_timestamps_beyond_int64_nanoseconds_are_errors(text) -> None:
    # The old parser overflowed int64 silently and returned a wrong time
    with pytest.raises(frames.FrameError):
        frames.iso_to_ns(text)


@pytest.mark.parametrize(("price_precision", "size_precision"), [(17, 0), (0, 17), (-1, 0)])
def test_register_refuses_precisions_beyond_nautilus(price_precision, size_precision) -> None:
    with pytest.raises((ValueError, OverflowError)):
        frames.FrameParser().register("BTC-USD", BTC, price_precision, size_precision)
