# SPDX-License-Identifier: Apache-2.0
"""Compiled session listener: message_id scanning, gap tracking, frame routing (and its twin)."""

from __future__ import annotations

import sys

import orjson
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.identifiers import InstrumentId
from picows import WSMsgType
from picows.picows import _make_test_ws_frame

from nautilus_dydx._core import session as compiled
from nautilus_dydx._core.frames import Connected
from nautilus_dydx._core.frames import FrameError
from nautilus_dydx._core.frames import FrameParser
from nautilus_dydx._core.frames import Subscribed
from nautilus_dydx._core.frames import WsError
from tests.reference import session as reference


MODULES = [compiled, reference]
CID = "8a5b9e2c-3f41-4d7a-9c0e-1b2d3e4f5a6b"


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{"type":"channel_data","message_id":42,"id":"BTC-USD"}', 42),
        (b'{"type":"connected","connection_id":"x","message_id":0}', 0),
        (b'{"type":"subscribed","message_id": \n 7,"contents":{}}', 7),
        (b'{"type":"error","message":"x"}', None),
        (b'{"message_id":"12"}', None),
        (b'{"message_id":18446744073709551615}', None),
        (b'{"message_id":1844674407370955161}', 1844674407370955161),
    ],
)
def test_scan_message_id(module, data: bytes, expected: int | None) -> None:
    # 20-digit ids are out of range for the scanner: reported as absent, never wrapped
    result = module.scan_message_id(data)

    assert result == expected


@given(
    head=st.binary(max_size=40).map(lambda b: b.replace(b"m", b"n")),
    noise=st.lists(st.sampled_from([b"m", b'"m', b'"message_id"', b'"message_id:', b"x"]),
                   max_size=6),
    message_id=st.integers(0, 10**18),
    cut=st.integers(0, 80),
)
@settings(max_examples=300, deadline=None)
def test_scan_message_id_finds_the_first_key_wherever_it_sits(head, noise, message_id, cut):
    # Near-misses before the key, and frames cut anywhere (the key split by the end of the data)
    data = (head + b"".join(noise) + b'"message_id":' + str(message_id).encode() + b",")[:cut]

    assert compiled.scan_message_id(data) == reference.scan_message_id(data)


@pytest.mark.parametrize("module", MODULES)
def test_in_order_ids_never_report(module) -> None:
    tracker = module.MessageIdTracker()

    reports = [tracker.observe(i) for i in range(1, 100)]

    assert reports == [None] * 99
    assert tracker.last_message_id == 99 and tracker.missing == 0


@pytest.mark.parametrize("module", MODULES)
def test_skipped_id_is_missing_without_pending_subscribes(module) -> None:
    tracker = module.MessageIdTracker()
    tracker.observe(1)

    report = tracker.observe(4)

    assert report == [2, 3]
    assert tracker.missing == 2


@pytest.mark.parametrize("module", MODULES)
def test_late_subscribed_fills_the_hole_of_its_own_request(module) -> None:
    # §3.1: the `subscribed` id is allocated at request time, the snapshot comes later
    tracker = module.MessageIdTracker()
    tracker.pending_subscribes = 1
    tracker.observe(1)

    assert tracker.observe(3) is None
    assert tracker.holes == frozenset({2})
    assert tracker.observe(2) is None
    tracker.pending_subscribes = 0
    assert tracker.check() is None
    assert tracker.missing == 0


@pytest.mark.parametrize("module", MODULES)
def test_hole_is_reported_once_the_subscribe_was_answered_otherwise(module) -> None:
    tracker = module.MessageIdTracker()
    tracker.pending_subscribes = 1
    tracker.observe(1)
    tracker.observe(3)

    tracker.pending_subscribes = 0  # Answered by an error instead: id 2 is lost

    assert tracker.check() == [2]


@pytest.mark.parametrize("module", MODULES)
def test_repeated_id_counts_a_duplicate(module) -> None:
    tracker = module.MessageIdTracker()
    tracker.observe(1)
    tracker.observe(2)

    assert tracker.observe(2) is None
    assert tracker.duplicates == 1


@pytest.mark.parametrize("module", MODULES)
def test_huge_jump_is_reported_at_once(module) -> None:
    tracker = module.MessageIdTracker()
    tracker.pending_subscribes = 10_000

    report = tracker.observe(5_000)

    assert list(report) == list(range(1, 5_000))
    assert tracker.missing == 4_999


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("message_id", [2**32, 2**63 - 1, 2**64 - 1])
def test_jump_to_any_id_is_reported_in_bounded_memory(module, message_id) -> None:
    # Found by fuzzing: the jump used to be listed id by id (2**64 ints: the process was killed)
    tracker = module.MessageIdTracker()
    tracker.observe(1)
    tracker.pending_subscribes = 1
    tracker.observe(3)  # One hole (2), kept for a pending subscribe, before the jump

    report = tracker.observe(message_id)

    assert report[0] == 2
    assert len(report) == min(message_id - 2, sys.maxsize)  # len() works on any jump
    assert report[-1] == min(message_id - 1, 1 + sys.maxsize)
    assert tracker.missing == message_id - 3  # The hole plus the jump, each id once
    assert tracker.holes == frozenset()


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(st.integers(min_value=0, max_value=60), max_size=80),
    pending=st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=80),
)
def test_compiled_tracker_matches_reference(ids: list[int], pending: list[int]) -> None:
    ours = compiled.MessageIdTracker()
    twin = reference.MessageIdTracker()
    for step, message_id in enumerate(ids):
        ours.pending_subscribes = twin.pending_subscribes = pending[step % len(pending)]
        assert ours.observe(message_id) == twin.observe(message_id)
        assert ours.holes == twin.holes
    assert (ours.missing, ours.duplicates, ours.last_message_id) == (
        twin.missing, twin.duplicates, twin.last_message_id,
    )


class FakeOwner:
    def __init__(self, forward: bool = True) -> None:
        self.control: list = []
        self.gaps: list = []
        self.resyncs: list = []
        self.handler_errors: list = []
        self.forward = forward

    def on_control(self, record) -> bool:
        self.control.append(record)
        return self.forward

    def on_gap(self, missing) -> None:
        self.gaps.append(missing)

    def on_resync(self, record) -> None:
        self.resyncs.append(record)

    def on_handler_error(self, error, objects) -> None:
        self.handler_errors.append((error, objects))


def _listener(forward: bool = True):
    parser = FrameParser()
    parser.register("BTC-USD", InstrumentId.from_str("BTC-USD-PERP.DYDX"), 0, 4)
    delivered: list[list] = []
    errors: list = []
    owner = FakeOwner(forward)
    listener = compiled.SessionListener(parser, delivered.append, owner, errors.append)
    return listener, owner, delivered, errors


def _text(message: dict, fin: bool = True):
    return _make_test_ws_frame(WSMsgType.TEXT, orjson.dumps(message), fin, False)


def _book(message_id: int, size: str = "1") -> dict:
    return {
        "type": "channel_data", "connection_id": CID, "message_id": message_id,
        "id": "BTC-USD", "channel": "v4_orderbook", "version": "1.0.0",
        "contents": {"bids": [["90000", size]]},
    }


def test_listener_routes_control_records_and_delivers_once_per_frame() -> None:
    listener, owner, delivered, errors = _listener()
    listener.on_ws_frame(None, _text({"type": "connected", "connection_id": CID, "message_id": 0}))
    listener.on_ws_frame(None, _text({
        "type": "subscribed", "connection_id": CID, "message_id": 1, "channel": "v4_orderbook",
        "id": "BTC-USD", "contents": {"bids": [], "asks": []},
    }))
    listener.on_ws_frame(None, _text(_book(2)))

    assert [type(r) for r in owner.control] == [Connected, Subscribed]
    assert len(delivered) == 3
    assert type(delivered[2][0]) is OrderBookDeltas
    assert listener.tracker.last_message_id == 2
    assert owner.gaps == [] and errors == []


def test_listener_reports_a_lost_frame_as_a_gap() -> None:
    listener, owner, delivered, errors = _listener()
    listener.on_ws_frame(None, _text({"type": "connected", "connection_id": CID, "message_id": 0}))
    listener.on_ws_frame(None, _text(_book(1)))
    listener.on_ws_frame(None, _text(_book(3, "2")))

    assert owner.gaps == [[2]]
    assert len(delivered) == 3  # The frame after the gap is still delivered


def test_listener_malformed_frame_goes_to_on_error_and_is_not_counted() -> None:
    listener, owner, delivered, errors = _listener()
    listener.on_ws_frame(None, _make_test_ws_frame(
        WSMsgType.TEXT, orjson.dumps(_book(1))[:60], True, False,
    ))
    listener.on_ws_frame(None, _text(_book(2)))

    assert len(errors) == 1 and isinstance(errors[0], FrameError)
    assert owner.gaps == [[1]]
    assert len(delivered) == 1


def test_listener_error_records_are_not_counted_and_can_be_swallowed() -> None:
    listener, owner, delivered, errors = _listener(forward=False)
    listener.on_ws_frame(None, _text({
        "type": "error", "message": "Internal error, could not fetch data for subscription: "
        "v4_trades.", "connection_id": CID, "message_id": 5, "channel": "v4_trades",
        "id": "BTC-USD",
    }))

    assert [type(r) for r in owner.control] == [WsError]
    assert delivered == []
    assert listener.tracker.last_message_id == 0


def test_listener_joins_fragments_and_tracks_their_id() -> None:
    listener, owner, delivered, errors = _listener()
    payload = orjson.dumps(_book(1))
    listener.on_ws_frame(None, _make_test_ws_frame(WSMsgType.TEXT, payload[:30], False, False))
    listener.on_ws_frame(
        None, _make_test_ws_frame(WSMsgType.CONTINUATION, payload[30:], True, False),
    )

    assert len(delivered) == 1
    assert listener.tracker.last_message_id == 1


def test_listener_survives_a_handler_that_raises() -> None:
    parser = FrameParser()
    parser.register("BTC-USD", InstrumentId.from_str("BTC-USD-PERP.DYDX"), 0, 4)
    calls: list[int] = []

    def handler(objects: list) -> None:
        calls.append(len(objects))
        if len(calls) == 1:
            raise RuntimeError("owner bug")

    owner = FakeOwner()
    listener = compiled.SessionListener(parser, handler, owner)
    listener.on_ws_frame(None, _text(_book(1)))
    listener.on_ws_frame(None, _text(_book(2, "3")))

    assert len(calls) == 2
    assert [type(e) for e, _ in owner.handler_errors] == [RuntimeError]
    assert listener.tracker.last_message_id == 2


def _trades(message_id: int, ids: list[str]) -> dict:
    return {
        "type": "channel_data", "connection_id": CID, "message_id": message_id,
        "id": "BTC-USD", "channel": "v4_trades", "version": "2.1.0",
        "contents": {"trades": [
            {"id": trade_id, "side": "BUY", "size": "0.001", "price": "90000", "type": "LIMIT",
             "createdAt": "2026-01-01T00:00:00.000Z", "createdAtHeight": "10"}
            for trade_id in ids
        ]},
    }


def _session_frames() -> list:
    return [
        _text({"type": "connected", "connection_id": CID, "message_id": 0}),
        _text({
            "type": "subscribed", "connection_id": CID, "message_id": 1,
            "channel": "v4_orderbook", "id": "BTC-USD",
            "contents": {"bids": [["89990", "1"]], "asks": [["90010", "2"]]},
        }),
        _text(_book(2)),  # A new best bid: deltas, then a quote
        _text(_trades(3, ["a1", "a2", "a3"])),
        _text(_book(4, "5")),  # The same best bid, a new size: deltas and a quote
    ]


def _flatten(delivered: list[list]) -> list:
    return [obj for objects in delivered for obj in objects]


def _content(obj) -> object:
    # What an object carries, without its receive timestamps
    if type(obj) is OrderBookDeltas:
        return [(d.action, d.order.side, d.order.price, d.order.size) for d in obj.deltas]
    if type(obj) is TradeTick:
        return obj.trade_id.value
    if type(obj) is QuoteTick:
        return (obj.bid_price, obj.ask_price, obj.bid_size, obj.ask_size)
    return type(obj).__name__


@pytest.mark.parametrize("deltas", [True, False])
def test_direct_sink_takes_leading_trades_and_deltas_in_order(deltas: bool) -> None:
    # Oracle: the same frames through a listener without a sink
    plain, _, expected, _ = _listener()
    for frame in _session_frames():
        plain.on_ws_frame(None, frame)
    listener, owner, delivered, errors = _listener()
    direct: list = []
    stream: list = []  # Everything either side received, as it arrived

    def sink(obj) -> None:
        direct.append(obj)
        stream.append(obj)

    def handler(objects: list) -> None:
        delivered.append(objects)
        stream.extend(objects)

    listener = compiled.SessionListener(listener.parser, handler, owner, errors.append)
    listener.direct = sink
    listener.direct_deltas = deltas
    for frame in _session_frames():
        listener.on_ws_frame(None, frame)

    # The snapshot comes behind its `subscribed` record: the handler's, as every control frame
    assert [type(o) for o in direct if type(o) is OrderBookDeltas] == (
        [OrderBookDeltas] * 2 if deltas else []
    )
    assert [t.trade_id.value for t in direct if type(t) is TradeTick] == ["a1", "a2", "a3"]
    # Nothing lost, nothing doubled, nothing reordered
    assert [_content(o) for o in stream] == [_content(o) for o in _flatten(expected)]
    # The handler gets no frame it has nothing left of, and every quote after its deltas
    assert all(delivered)
    assert all(type(objects[0]) is not TradeTick for objects in delivered)
    if deltas:
        # Control frames whole; of the updates, only their quotes
        assert [type(o).__name__ for o in _flatten(delivered)] == [
            "Connected", "Subscribed", "OrderBookDeltas", "QuoteTick", "QuoteTick", "QuoteTick",
        ]
    assert owner.handler_errors == [] and errors == []


def test_direct_sink_that_raises_is_reported_and_the_connection_goes_on() -> None:
    listener, owner, delivered, errors = _listener()
    taken: list = []

    def sink(obj) -> None:
        taken.append(obj)
        if len(taken) == 2:
            raise RuntimeError("engine bug")

    listener.direct = sink
    listener.direct_deltas = True
    for frame in _session_frames():
        listener.on_ws_frame(None, frame)

    assert [type(e) for e, _ in owner.handler_errors] == [RuntimeError]
    assert [_content(o) for _, objects in owner.handler_errors for o in objects] == ["a1"]
    # The trades after it in the same frame, and later frames, are still delivered
    assert [t.trade_id.value for t in taken if type(t) is TradeTick] == ["a1", "a2", "a3"]
    assert type(delivered[-1][0]) is QuoteTick
