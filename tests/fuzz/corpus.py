# SPDX-License-Identifier: Apache-2.0
"""Real-shaped Indexer frames and a fast seeded mutator (values, structure, bytes, encodings)."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import orjson

from tests.conftest import captures_dir


TESTS_ROOT = Path(__file__).resolve().parents[1]
WS_RESOURCES = TESTS_ROOT / "resources" / "ws"

# Tickers the corpus uses, registered with the precisions of the sandbox/captures
MARKETS = (("BTC-USD", 0, 4), ("ETH-USD", 1, 3), ("SOL-USD", 2, 1))

# Decimal texts at and beyond every limit the parsers know
NUMBER_TEXTS = (
    "0", "-0", "1", "-1", "0.1", "1e-7", "1.5e-10", "1e16", "1e30", "9e999999", "17014118346046",
    "17014118346046.0000000000000001", "17014118346047", "34028236692093", "34028236692094",
    "-17014118346046", "99999999999999999999999999999", "0.0000000000000001",
    "0.00000000000000005", "0.00000000000000015", "2656.54285714285714285714",
    "2340.7442700369913687", "1" * 400, "0." + "9" * 400, "1.", ".5", "+7", "", "-", "e5", "1e",
    "NaN", "inf", "1_0", " 1", "\u0663", "90110.4999999999999999999", "00012", "3.00000",
)
# Values a field may be replaced with: every JSON type, extremes, venue enums, odd strings
VALUES = (
    *NUMBER_TEXTS, None, True, False, 0, -1, 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1,
    -(2**63), 1.5, -0.0, 1e308, 5e-324, [], {}, [[]], [None], {"": None}, "BUY", "SELL",
    "LIMIT", "LIQUIDATED", "DELEVERAGED", "ACTIVE", "FINAL_SETTLEMENT", "TAKER", "MAKER",
    "OPEN", "FILLED", "CANCELED", "BEST_EFFORT_CANCELED", "LONG", "SHORT", "CLOSED",
    "2025-12-08T16:11:59.450Z", "2025-12-08T16:11:59Z", "9999-12-31T23:59:59.999999999Z",
    "2262-04-12T00:00:00Z", "1970-01-01T00:00:00Z", "2025-02-30T00:00:00Z", "yesterday",
    "1MIN", "4HOURS", "1DAY", "7DAYS", "BTC-USD", "ETH-USD", "FOO-USD", "BTC-USD/1MIN",
    "x" * 37, "\u00e9" * 40, "\u0000", "\U0001f600", "a\"b", "\\", "\n",
    "v4_orderbook", "v4_trades", "v4_candles", "v4_markets", "v4_subaccounts",
    "v4_parent_subaccounts", "v4_block_height", "channel_data", "channel_batch_data",
    "subscribed", "unsubscribed", "connected", "error",
)
KEYS = (
    "type", "channel", "id", "message_id", "contents", "bids", "asks", "trades", "price", "size",
    "side", "createdAt", "candles", "markets", "fills", "orders", "positions", "blockHeight",
    "height", "time", "oraclePrice", "tickSize", "stepSize", "status", "subaccountNumber",
    "perpetualPositions", "assetPositions", "transfers", "tradingReward", "resolution",
    "startedAt", "open", "high", "low", "close", "baseTokenVolume", "extra", "\u00fcnknown", "",
)
# Raw byte fragments: invalid UTF-8, surrogates, non-JSON literals, huge and odd numbers
RAW_FRAGMENTS = (
    b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\x00", b"\x1f",
    b"\\ud800", b"\\udc00", b"\\ud83d\\ude00", b"\\u0000", b"\\", b'"', b",", b":", b"{", b"}",
    b"[", b"]", b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e400", b"1e-400",
    b"123456789012345678901234567890", b"18446744073709551616", b"-9223372036854775809",
    b"9" * 5000, b"0." + b"0" * 400 + b"1", b"01", b"-", b"1.", b".5", b"true", b"null",
    b"\xef\xbb\xbf", b" ", b"\t\r\n",
)
DEPTHS = (2, 50, 500, 990, 1000, 1023, 1024, 1025, 3000)


def load_corpus() -> list[bytes]:
    """
    Return the real-shaped frames: the test resources, the session capture and the captures.
    """
    frames: list[bytes] = []
    for name in ("frames.json", "real_shapes.json"):
        for msg in json.loads((WS_RESOURCES / name).read_text()).values():
            frames.append(orjson.dumps(msg))
    for line in (WS_RESOURCES / "session.ndjson").read_bytes().splitlines():
        if line.strip():
            frames.append(orjson.dumps(orjson.loads(line)))
    captures = captures_dir()  # DYDX_CAPTURES or ../shared/fixtures/captures; optional
    if captures is not None:
        for path in sorted(captures.glob("ws_*.json")):
            frames.append(orjson.dumps(orjson.loads(path.read_bytes())))
    return frames


def _dumps(rng: random.Random, msg: object) -> bytes:
    # Compact (the venue's own form) most of the time; spaced or reordered keys otherwise
    style = rng.random()
    if style < 0.7:
        try:
            return orjson.dumps(msg)
        except TypeError:
            pass  # An integer beyond 64 bits: only the stdlib encodes it
    if style < 0.85:
        return json.dumps(msg, separators=(",", ":"), ensure_ascii=rng.random() < 0.5).encode()
    if style < 0.95:
        return json.dumps(msg, separators=(", ", ": ")).encode()
    return json.dumps(msg, indent=rng.choice((1, "\t"))).encode()


class Mutator:
    """
    Seeded mutation of a corpus of frames: every call to `next` returns one input.

    Parameters
    ----------
    corpus : list[bytes]
        The valid frames to start from.
    seed : int
        The seed of the random generator: the same seed gives the same inputs.

    """

    def __init__(self, corpus: list[bytes], seed: int) -> None:
        self.corpus = corpus
        self.rng = random.Random(seed)

    def next(self) -> bytes:
        """
        Return the next input: a valid frame, a mutated one, or random bytes.
        """
        rng = self.rng
        roll = rng.random()
        index = rng.randrange(len(self.corpus))
        if roll < 0.12:
            return self.corpus[index]
        if roll < 0.62:
            return _dumps(rng, self._mutate_value(index))
        if roll < 0.92:
            return self._mutate_bytes(self.corpus[index])
        if roll < 0.96:
            return bytes(rng.getrandbits(8) for _ in range(rng.randrange(64)))
        return self._deep(index)

    def _mutate_value(self, index: int) -> object:
        return self.mutate_document(orjson.loads(self.corpus[index]))  # A fresh copy

    def mutate_document(self, msg: object) -> object:
        """
        Change one to five values, keys or list items of the JSON document `msg` in place.
        """
        rng = self.rng
        for _ in range(rng.choice((1, 1, 1, 2, 3, 5))):
            target = msg
            for _ in range(rng.randrange(7)):
                nested = (
                    [v for v in target.values() if isinstance(v, (dict, list)) and v]
                    if isinstance(target, dict)
                    else [v for v in target if isinstance(v, (dict, list)) and v]
                )
                if not nested:
                    break
                target = rng.choice(nested)
            op = rng.random()
            if isinstance(target, dict) and target:
                key = rng.choice(list(target))
                if op < 0.45:
                    target[key] = self._value()
                elif op < 0.65:
                    del target[key]
                elif op < 0.85:
                    target[rng.choice(KEYS)] = self._value()
                else:
                    # A copy: the parsed corpus must stay as it is, and no cycle may form
                    donor = rng.choice(self.corpus)
                    donor_msg = orjson.loads(donor)
                    target[key] = (
                        donor_msg.get(key, self._value()) if isinstance(donor_msg, dict)
                        else self._value()
                    )
            elif isinstance(target, list) and target:
                position = rng.randrange(len(target))
                if op < 0.5:
                    target[position] = self._value()
                elif op < 0.7:
                    del target[position]
                else:
                    target.insert(position, copy.deepcopy(rng.choice(target)))
            elif isinstance(target, dict):
                target[rng.choice(KEYS)] = self._value()
        return msg

    def _value(self) -> object:
        rng = self.rng
        roll = rng.random()
        if roll < 0.75:
            value = rng.choice(VALUES)
            # A fresh copy of a container: a shared one would be mutated later, or nest in itself
            return copy.deepcopy(value) if isinstance(value, (list, dict)) else value
        if roll < 0.85:
            return rng.randint(-(2**70), 2**70)
        if roll < 0.95:
            return str(rng.randint(0, 10**rng.randrange(1, 40))) + rng.choice(
                ("", ".", "." + str(rng.randrange(10**rng.randrange(1, 26)))),
            )
        return [copy.deepcopy(rng.choice(VALUES)) for _ in range(rng.randrange(4))]

    def mutate_bytes(self, frame: bytes) -> bytes:
        """
        Return `frame` truncated, spliced, or with invalid bytes, digits or escapes inserted.
        """
        return self._mutate_bytes(frame)

    def _mutate_bytes(self, frame: bytes) -> bytes:
        rng = self.rng
        data = bytearray(frame)
        for _ in range(rng.choice((1, 1, 2, 4))):
            op = rng.random()
            position = rng.randrange(len(data) + 1)
            if op < 0.2:
                del data[position:]
            elif op < 0.4 and data:
                data[min(position, len(data) - 1)] = rng.getrandbits(8)
            elif op < 0.7:
                data[position:position] = rng.choice(RAW_FRAGMENTS)
            elif op < 0.8 and data:
                end = min(len(data), position + rng.randrange(1, 16))
                del data[position:end]
            elif op < 0.9:
                other = rng.choice(self.corpus)
                data = data[:position] + other[rng.randrange(len(other) + 1):]
            else:
                # Replace the digits of one quoted decimal in place
                quote = data.find(b'"', position)
                if quote != -1 and quote + 1 < len(data) and 48 <= data[quote + 1] <= 57:
                    data[quote + 1:quote + 2] = rng.choice(
                        (b"9" * rng.randrange(15, 60), b"0.", b"1e9", b"-", b"\\u0031"),
                    )
        return bytes(data)

    def _deep(self, index: int) -> bytes:
        rng = self.rng
        depth = rng.choice(DEPTHS)
        open_, close = rng.choice(((b"[", b"]"), (b'{"a":', b"}")))
        nest = open_ * depth + rng.choice((b"1", b'"1"', b"[]")) + close * depth
        frame = self.corpus[index]
        for key in (b'"contents":', b'"bids":', b'"trades":', b'"price":'):
            at = frame.find(key)
            if at != -1 and rng.random() < 0.5:
                start = at + len(key)
                end = frame.find(b",", start)
                return frame[:start] + nest + frame[end if end != -1 else len(frame) - 1:]
        return nest
