# SPDX-License-Identifier: Apache-2.0
"""Pure-Python twin of nautilus_dydx._core.frames: same outputs and errors, for tests/benchmarks."""

from __future__ import annotations

import json
import re
import sys
import time
from calendar import monthrange
from calendar import timegm
from decimal import Decimal

from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import IndexPriceUpdate
from nautilus_trader.model.data import InstrumentStatus
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import MarketStatusAction
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.objects import FIXED_SCALAR
from nautilus_trader.model.objects import PRICE_MAX
from nautilus_trader.model.objects import QUANTITY_MAX
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from nautilus_dydx.schemas.records import MARKET_DECIMALS
from nautilus_dydx.schemas.records import MARKET_INTEGERS
from nautilus_dydx.schemas.records import MARKET_STATUS
from nautilus_dydx.schemas.records import MAX_SEEN_IDS
from nautilus_dydx.schemas.records import MAX_UNKNOWN_VALUES
from nautilus_dydx.schemas.records import OFF_GRID_TRADE_TYPES
from nautilus_dydx.schemas.records import RESOLUTIONS
from nautilus_dydx.schemas.records import SIDE
from nautilus_dydx.schemas.records import STATUS_ACTIONS
from nautilus_dydx.schemas.records import TABLES
from nautilus_dydx.schemas.records import TRADE_TYPE
from nautilus_dydx.schemas.records import AssetPositionUpdate
from nautilus_dydx.schemas.records import BarHistory
from nautilus_dydx.schemas.records import BlockHeight
from nautilus_dydx.schemas.records import Connected
from nautilus_dydx.schemas.records import FillUpdate
from nautilus_dydx.schemas.records import MarketUpdate
from nautilus_dydx.schemas.records import OrderUpdate
from nautilus_dydx.schemas.records import PerpetualPositionUpdate
from nautilus_dydx.schemas.records import Record
from nautilus_dydx.schemas.records import ResyncNeeded
from nautilus_dydx.schemas.records import SubaccountInfo
from nautilus_dydx.schemas.records import Subscribed
from nautilus_dydx.schemas.records import TradeHistory
from nautilus_dydx.schemas.records import TradingRewardUpdate
from nautilus_dydx.schemas.records import TransferUpdate
from nautilus_dydx.schemas.records import Unsubscribed
from nautilus_dydx.schemas.records import WsError
from tests.reference.book import L2Book
from tests.reference.decimal import parse_decimal_rounded


FIXED_PRECISION = 16
PRICE_RAW_LIMIT = int(PRICE_MAX * FIXED_SCALAR)
MANTISSA_MAX = 2**96 - 1
DECIMAL_RAW_LIMIT = int(QUANTITY_MAX * FIXED_SCALAR)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")
_ISO = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?Z",
)


# -- Strict JSON (RFC 8259 with orjson's limits, which the compiled parser inherits) -----------

JSON_MAX_DEPTH = 1024
_JSON_INT_RANGE = (-(2**63), 2**64 - 1)
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_STRING_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"')


def _json_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number is infinity when parsed as double, was {text[:20]!r}")
    return value


def _json_int(text: str) -> int | float:
    # Integers beyond 64 bits decode as doubles (orjson); long ones skip int()'s digit limit
    if len(text) <= 20:
        value = int(text)
        if _JSON_INT_RANGE[0] <= value <= _JSON_INT_RANGE[1]:
            return value
    return _json_float(text)


def _json_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(
    parse_int=_json_int, parse_float=_json_float, parse_constant=_json_constant,
)


def _json_depth(text: str) -> int:
    depth = deepest = 0
    for token in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        c = token.group()
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    return deepest


def _unpaired_escape(text: str) -> bool:
    # Every string token of the (valid) document, duplicate keys included: not just the winners
    for token in _STRING_TOKEN.finditer(text):
        body = token.group()
        if "\\u" in body and _SURROGATE.search(json.loads(body)) is not None:
            return True
    return False


def loads_strict(data: bytes | bytearray | memoryview | str) -> object:
    """
    Decode one JSON document as the compiled parser's decoder does, else raise ValueError.

    UTF-8 only (no BOM, no surrogates, raw or escaped), no NaN/Infinity, numbers that overflow a
    double refused, integers beyond 64 bits as doubles, at most 1024 levels of nesting.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")  # Lone surrogates in a str raise UnicodeEncodeError
    text = bytes(data).decode("utf-8")
    if text.startswith("\ufeff"):
        raise ValueError("UTF-8 byte order mark is not JSON")
    limit = sys.getrecursionlimit()
    if text.count("[") + text.count("{") > JSON_MAX_DEPTH // 2:
        if _json_depth(text) > JSON_MAX_DEPTH:
            raise ValueError(f"nesting deeper than {JSON_MAX_DEPTH}")
        sys.setrecursionlimit(max(limit, 4 * JSON_MAX_DEPTH))  # json and the walk recurse
    try:
        msg = _DECODER.decode(text)
        if _SURROGATE_ESCAPE.search(text) is not None and _unpaired_escape(text):
            raise ValueError("unpaired surrogate escape in string")
    finally:
        sys.setrecursionlimit(limit)
    return msg


class FrameError(ValueError):
    """A malformed Indexer frame (reference twin)."""

    def __init__(self, channel, message: str, reason: str | None = None) -> None:
        self.channel = channel
        self.reason = reason
        super().__init__(f"{channel or 'frame'}: {message}")


# -- Field helpers ------------------------------------------------------------------------------


def parse_decimal(text) -> tuple[int, int] | None:
    """Return (raw, precision) of a plain decimal, or ``None`` if invalid or out of range."""
    if type(text) is not str or not text.isascii() or not _DECIMAL.fullmatch(text):
        return None
    sign = -1 if text[0] == "-" else 1
    body = text.lstrip("+-")
    whole, _, frac = body.partition(".")
    if len(frac) > FIXED_PRECISION:
        return None
    value = int((whole + frac) or "0")
    if value > DECIMAL_RAW_LIMIT // 10 ** (FIXED_PRECISION - len(frac)):
        return None
    return sign * value * 10 ** (FIXED_PRECISION - len(frac)), len(frac)


def iso_to_ns(text: str, channel=None) -> int:
    """Return UNIX nanoseconds for an Indexer ISO-8601 UTC timestamp."""
    m = _ISO.fullmatch(text) if type(text) is str else None
    if m is None:
        raise FrameError(channel, f"invalid ISO-8601 timestamp, was {text!r}", "invalid timestamp")
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    if y < 1970 or y > 2261 or not 1 <= mo <= 12 or h > 23 or mi > 59 or s > 60:
        raise FrameError(channel, f"invalid ISO-8601 timestamp, was {text!r}", "invalid timestamp")
    if not 1 <= d <= monthrange(y, mo)[1]:
        raise FrameError(channel, f"invalid ISO-8601 timestamp, was {text!r}", "invalid timestamp")
    frac = (m.group(7) or "")[:9].ljust(9, "0")
    days = timegm((y, mo, 1, 0, 0, 0)) // 86400 + d - 1
    return (days * 86400 + h * 3600 + mi * 60 + s) * 1_000_000_000 + int(frac)


def precision_from_increment(text: str) -> int:
    """Return the decimal precision of a tick or step size such as ``"0.0001"``."""
    parsed = parse_decimal(text)
    if parsed is None or parsed[0] <= 0:
        raise ValueError(f"invalid increment, was {text!r}")
    raw, prec = parsed
    while prec > 0 and raw % 10 ** (FIXED_PRECISION - prec + 1) == 0:
        prec -= 1
    return prec


def _as_dict(obj, channel, what) -> dict:
    if type(obj) is not dict:
        raise FrameError(channel, f"{what} must be an object, was {type(obj).__name__}",
                         f"{what} not an object")
    return obj


def _as_list(obj, channel, what) -> list:
    if type(obj) is not list:
        raise FrameError(channel, f"{what} must be an array, was {type(obj).__name__}",
                         f"{what} not an array")
    return obj


def _missing(d, key, channel, required) -> bool:
    if d.get(key) is None:
        if required:
            raise FrameError(channel, f"missing required key {key!r}", f"missing {key!r}")
        return True
    return False


def _is_decimal(text: str) -> bool:
    try:
        parse_decimal_rounded(text, 0)
    except ValueError as e:
        return "out of range" in str(e)
    return True


def _str(d: dict, key: str, channel: str | None, required: bool):
    if _missing(d, key, channel, required):
        return None
    v = d[key]
    if type(v) is str:
        return v
    if type(v) is int:
        return str(v)
    raise FrameError(channel, f"{key!r} must be a string, was {type(v).__name__}",
                     f"invalid {key!r}")


def _dec(d: dict, key: str, channel: str | None, required: bool):
    s = _str(d, key, channel, required)
    if s is not None and not (s.isascii() and _is_decimal(s)):
        raise FrameError(channel, f"{key!r} is not a decimal, was {s!r}", f"invalid {key!r}")
    return s


def _height(d: dict, key: str, channel: str | None, required: bool):
    if _missing(d, key, channel, required):
        return None
    v = d[key]
    if type(v) is int:
        if v < 0:
            raise FrameError(channel, f"{key!r} must not be negative, was {v!r}",
                             f"invalid {key!r}")
        return v
    if type(v) is str and 0 < len(v) <= 20 and v.isascii() and v.isdigit():
        return int(v)
    raise FrameError(channel, f"{key!r} must be a block height, was {v!r}", f"invalid {key!r}")


def _int(d: dict, key: str, channel: str | None, required: bool):
    if _missing(d, key, channel, required):
        return None
    v = d[key]
    if type(v) is int:
        return v
    if type(v) is str and 0 < len(v) <= 20 and v.isascii() and (
        v.isdigit() or (v[0] == "-" and v[1:].isdigit())
    ):
        return int(v)
    raise FrameError(channel, f"{key!r} must be an integer, was {v!r}", f"invalid {key!r}")


def _bool(d: dict, key: str, channel: str | None, required: bool):
    if _missing(d, key, channel, required):
        return None
    v = d[key]
    if v is True or v is False:
        return v
    raise FrameError(channel, f"{key!r} must be a boolean, was {v!r}", f"invalid {key!r}")


def _number(text, channel, what, unit, allow_zero, target=FIXED_PRECISION) -> tuple[int, int]:
    if type(text) is not str:
        if text is None:
            raise FrameError(channel, f"{what} is missing", f"{what} missing")
        raise FrameError(channel, f"{what} must be a decimal string, was {text!r}",
                         f"{what} not a string")
    try:
        parsed = parse_decimal_rounded(text, target) if text.isascii() else None
    except ValueError as e:
        if "out of range" in str(e):
            raise FrameError(channel, f"{what} is out of range, was {text!r}",
                             f"{what} out of range") from None
        parsed = None
    if parsed is None:
        raise FrameError(channel, f"{what} is not a decimal, was {text!r}",
                         f"{what} not a decimal")
    raw = parsed[0]
    if not -PRICE_RAW_LIMIT <= raw <= PRICE_RAW_LIMIT:
        raise FrameError(channel, f"{what} is out of range, was {text!r}", f"{what} out of range")
    if raw < 0 or (raw == 0 and not allow_zero):
        raise FrameError(channel, f"{what} must be positive, was {text!r}",
                         f"{what} not positive")
    if unit > 1 and raw % unit:
        raise FrameError(channel, f"{what} is finer than the instrument precision, was {text!r}",
                         f"{what} off grid")
    # Nautilus formats a value through a 96-bit mantissa at its precision (and aborts beyond)
    if unit:
        scale = unit
    elif target < FIXED_PRECISION:
        scale = 10 ** (FIXED_PRECISION - target)
    else:
        scale = 10 ** (FIXED_PRECISION - parsed[1])
    if raw // scale > MANTISSA_MAX:
        raise FrameError(channel, f"{what} has too many digits at its precision, was {text!r}",
                         f"{what} out of range")
    return parsed


class MarketContext:
    """Per-instrument context registered at subscribe time (reference twin)."""

    def __init__(
        self,
        ticker: str,
        instrument_id: InstrumentId,
        price_precision: int,
        size_precision: int,
        max_cross_ns: int = 5_000_000_000,
    ) -> None:
        if not 0 <= price_precision <= FIXED_PRECISION:
            raise ValueError(f"invalid price_precision, was {price_precision}")
        if not 0 <= size_precision <= FIXED_PRECISION:
            raise ValueError(f"invalid size_precision, was {size_precision}")
        self.book = L2Book(instrument_id, price_precision, size_precision, max_cross_ns)
        self.ticker = ticker
        self.instrument_id = instrument_id
        self.price_precision = price_precision
        self.size_precision = size_precision
        self.duplicate_trades = 0
        self.unit_p = 10 ** (FIXED_PRECISION - price_precision)
        self.unit_s = 10 ** (FIXED_PRECISION - size_precision)
        self.trade_ids: dict[str, None] = {}
        self.bar_types = {
            res: (
                BarType.from_str(f"{instrument_id}-{step}-{agg}-LAST-EXTERNAL"),
                seconds * 1_000_000_000,
            )
            for res, (step, agg, seconds) in RESOLUTIONS.items()
        }
        self.resync_reported = False
        self.history_ts = 0
        self.candles: dict[str, list] = {}


class FrameParser:
    """Parse Indexer frames with `json` and plain Python (reference twin of the compiled one)."""

    def __init__(self, emit_quotes: bool = True) -> None:
        self._contexts: dict[str, MarketContext] = {}
        self._known_tickers: set[str] = set()
        self._fill_ids: dict[str, None] = {}
        self.unknown_enums: dict[tuple[str, str | None], int] = {}
        self._unknown_values: dict[str, int] = {}
        self.skipped: dict[str, int] = {}
        self.adapted: dict[str, int] = {}
        self._new_reasons: list[str] = []
        self.frames = 0
        self.errors = 0
        self.emit_quotes = emit_quotes

    def register(
        self,
        ticker: str,
        instrument_id: InstrumentId,
        price_precision: int,
        size_precision: int,
        max_cross_ns: int = 5_000_000_000,
    ) -> MarketContext:
        """Register the context of one market and return it (the same one if unchanged)."""
        old = self._contexts.get(ticker)
        if old is not None and (old.instrument_id, old.price_precision, old.size_precision) == (
            instrument_id, price_precision, size_precision,
        ):
            return old
        ctx = MarketContext(ticker, instrument_id, price_precision, size_precision, max_cross_ns)
        self._contexts[ticker] = ctx
        self._known_tickers.add(ticker)
        return ctx

    def context(self, ticker: str) -> MarketContext | None:
        """Return the registered context for `ticker`, or ``None``."""
        return self._contexts.get(ticker)

    def take_new_reasons(self) -> list[str]:
        """Return the skip and adaptation reasons first seen since the last call."""
        out, self._new_reasons = self._new_reasons, []
        return out

    def flush_closed_bars(self, now_ns: int) -> list:
        """Return the bars of the forming candles whose period ended at or before `now_ns`."""
        out = []
        for ctx in self._contexts.values():
            for resolution, state in ctx.candles.items():
                forming = state[0]
                if forming is not None and forming[0] + ctx.bar_types[resolution][1] <= now_ns:
                    out.append(_make_bar(ctx, resolution, forming, now_ns))
                    state[0], state[1] = None, forming[0]
        return out

    def _skip(self, what: str, e) -> None:
        reason = f"{what}: {getattr(e, 'reason', None) or 'malformed'}"
        if reason not in self.skipped:
            self._new_reasons.append("skipped: " + reason)
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def _adapt(self, reason: str) -> None:
        if reason not in self.adapted:
            self._new_reasons.append("adapted: " + reason)
        self.adapted[reason] = self.adapted.get(reason, 0) + 1

    def _count(self, key, value) -> None:
        k = (key, value)
        if k not in self.unknown_enums:
            if self._unknown_values.get(key, 0) < MAX_UNKNOWN_VALUES:
                self._unknown_values[key] = self._unknown_values.get(key, 0) + 1
            else:
                k = (key, None)
        self.unknown_enums[k] = self.unknown_enums.get(k, 0) + 1

    def _enum(self, d: dict, key: str, known: set, channel: str | None, required: bool):
        s = _str(d, key, channel, required)
        if s is not None and s not in known:
            self._count(key, s)
        return s

    def parse(self, data, ts_init: int = 0) -> list:
        """Parse one frame and return the objects it produces, in order."""
        self.frames += 1
        if ts_init == 0:
            ts_init = time.time_ns()
        try:
            msg = loads_strict(data)
        except (ValueError, UnicodeError) as e:
            self.errors += 1
            raise FrameError(None, f"invalid JSON ({e})") from None
        try:
            return self._dispatch(msg, ts_init)
        except FrameError:
            self.errors += 1
            raise
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as e:
            self.errors += 1
            channel = msg.get("channel") if type(msg) is dict else None
            raise FrameError(
                channel if type(channel) is str else None, f"malformed frame ({e!r})",
            ) from None

    def _dispatch(self, msg, ts_init) -> list:
        m = _as_dict(msg, None, "frame")
        typ = m.get("type")
        channel = m.get("channel")
        if channel is not None and type(channel) is not str:
            raise FrameError(None, f"'channel' must be a string, was {channel!r}")
        if type(typ) is not str:
            raise FrameError(channel, f"missing or invalid 'type', was {typ!r}")
        if typ == "channel_data":
            return self._on_data(m, channel, m.get("contents"), False, ts_init)
        if typ == "channel_batch_data":
            contents = _as_list(m.get("contents"), channel, "contents")
            return self._on_data(m, channel, contents, True, ts_init)
        if typ == "subscribed":
            return self._on_subscribed(m, channel, ts_init)
        if typ == "unsubscribed":
            return [self._control(Unsubscribed, m, channel)]
        if typ == "connected":
            return [Connected(
                connection_id=_str(m, "connection_id", None, False),
                message_id=self._message_id(m, None),
            )]
        if typ == "error":
            return [WsError(
                message=_str(m, "message", channel, True),
                channel=channel,
                id=_str(m, "id", channel, False),
                connection_id=_str(m, "connection_id", channel, False),
                message_id=_int(m, "message_id", channel, False),
            )]
        self._count("type", typ)
        return []

    @staticmethod
    def _message_id(m, channel) -> int:
        v = m.get("message_id")
        if type(v) is not int or v < 0:
            raise FrameError(channel, f"missing or invalid 'message_id', was {v!r}")
        return v

    def _control(self, cls: type, m: dict, channel: str | None) -> Record:
        if channel is None:
            raise FrameError(None, "missing required key 'channel'")
        return cls(
            channel=channel,
            id=_str(m, "id", channel, False),
            connection_id=_str(m, "connection_id", channel, False),
            message_id=self._message_id(m, channel),
        )

    def _ctx(self, m, channel) -> MarketContext:
        ident = _str(m, "id", channel, True)
        if channel == "v4_candles":
            ident = ident.partition("/")[0]
        ctx = self._contexts.get(ident)
        if ctx is None:
            raise FrameError(channel, f"no market context registered for id {ident!r}")
        return ctx

    def _on_subscribed(self, m, channel, ts_init) -> list:
        out = [self._control(Subscribed, m, channel)]
        contents = m.get("contents")
        message_id = out[0].message_id
        if channel == "v4_orderbook":
            out += self._book(self._ctx(m, channel), channel, contents, False, True, message_id,
                              ts_init)
        elif channel == "v4_trades":
            out += self._trades(self._ctx(m, channel), channel, contents, False, True, ts_init)
        elif channel == "v4_candles":
            contents = _as_dict(contents, channel, "contents")
            candles = _as_list(contents.get("candles"), channel, "candles")
            out += self._candles(m, channel, list(reversed(candles)), True, ts_init)
        elif channel == "v4_markets":
            out += self._markets_snapshot(channel, contents, ts_init)
        elif channel in ("v4_subaccounts", "v4_parent_subaccounts"):
            out += self._subaccount_snapshot(channel, contents)
        elif channel == "v4_block_height":
            out.append(self._block_height(channel, contents, "height"))
        else:
            self._count("channel", channel)
        return out

    def _on_data(self, m, channel, contents, batched, ts_init) -> list:
        message_id = self._message_id(m, channel)
        if channel is None:
            raise FrameError(None, "missing required key 'channel'")
        if channel == "v4_orderbook":
            return self._book(self._ctx(m, channel), channel, contents, batched, False,
                              message_id, ts_init)
        if channel == "v4_trades":
            return self._trades(self._ctx(m, channel), channel, contents, batched, False,
                                ts_init)
        items = contents if batched else [contents]
        if channel == "v4_candles":
            return self._candles(m, channel, items, False, ts_init)
        out = []
        if channel == "v4_markets":
            for c in items:
                out += self._markets_update(channel, c, ts_init)
        elif channel in ("v4_subaccounts", "v4_parent_subaccounts"):
            number = _int(m, "subaccountNumber", channel, False)
            for c in items:
                out += self._subaccount_update(channel, c, number)
        elif channel == "v4_block_height":
            for c in items:
                out.append(self._block_height(channel, c, "blockHeight"))
        else:
            self._count("channel", channel)
        return out

    def _collect(self, ctx, levels, side, snapshot, pending, channel) -> bool:
        # Returns True if a bad level was skipped
        if levels is None:
            return False
        damaged = False
        what = "bids" if side == 1 else "asks"
        for level in _as_list(levels, channel, what):
            try:
                if type(level) is list and len(level) == 2:
                    price, size = level
                elif type(level) is dict:
                    price, size = level.get("price"), level.get("size")
                else:
                    raise FrameError(channel, f"{what} level must be [price, size], was {level!r}",
                                     "not [price, size]")
                p = _number(price, channel, "price", ctx.unit_p, False)[0]
                s = _number(size, channel, "size", ctx.unit_s, True)[0]
            except (ValueError, TypeError, OverflowError) as e:
                self._skip("book level", e)
                damaged = True
                continue
            if snapshot and s == 0:
                continue
            pending[side - 1].append((p, s))
        return damaged

    def _book(self, ctx, channel, contents, batched, snapshot, message_id, ts_init) -> list:
        pending: tuple[list, list] = ([], [])
        out = []
        book = ctx.book
        damaged = False
        if batched:
            # One message: every content's levels in arrival order, applied as one update
            seq = []
            for item in contents:
                c = _as_dict(item, channel, "contents")
                part: tuple[list, list] = ([], [])
                damaged |= self._collect(ctx, c.get("bids"), 1, False, part, channel)
                damaged |= self._collect(ctx, c.get("asks"), 2, False, part, channel)
                seq.append(part)
            deltas = book.apply_batch(seq, message_id, ts_init, ts_init)
        else:
            c = _as_dict(contents, channel, "contents")
            damaged |= self._collect(ctx, c.get("bids"), 1, snapshot, pending, channel)
            damaged |= self._collect(ctx, c.get("asks"), 2, snapshot, pending, channel)
            if snapshot:
                if not damaged:
                    # A damaged snapshot keeps the report: resubscribing would loop
                    ctx.resync_reported = False
                deltas = book.apply_snapshot(pending[0], pending[1], message_id, ts_init,
                                             ts_init)
            else:
                deltas = book.apply_update(pending[0], pending[1], message_id, ts_init, ts_init)
        if deltas is not None:
            out.append(deltas)
        if self.emit_quotes:
            quote = book.quote(ts_init, ts_init)
            if quote is not None:
                out.append(quote)
        if (book.resync_needed or damaged) and not ctx.resync_reported:
            ctx.resync_reported = True
            reason = book.resync_reason if book.resync_needed else "invalid level skipped"
            out.append(ResyncNeeded(channel=channel, id=ctx.ticker,
                                    instrument_id=ctx.instrument_id, reason=reason))
        return out

    def _trade_item(self, ctx, channel, obj) -> tuple:
        t = _as_dict(obj, channel, "trade")
        trade_id = _str(t, "id", channel, True)
        if not (0 < len(trade_id) <= 36 and all(32 <= ord(c) <= 126 for c in trade_id)):
            raise FrameError(channel, f"invalid trade id, was {trade_id!r}", "invalid 'id'")
        side = self._enum(t, "side", SIDE, channel, True)
        kind = self._enum(t, "type", TRADE_TYPE, channel, False)
        try:
            p = _number(t.get("price"), channel, "price", ctx.unit_p, False)[0]
        except FrameError as e:
            if e.reason != "price off grid" or kind not in OFF_GRID_TRADE_TYPES:
                raise
            p = _number(t.get("price"), channel, "price", 0, False, ctx.price_precision)[0]
            if p == 0:
                raise FrameError(channel, "price rounds to zero", "price not positive") from None
            self._adapt(f"trade price off grid: rounded half-even ({kind})")
        s = _number(t.get("size"), channel, "size", ctx.unit_s, False)[0]
        ts_event = iso_to_ns(_str(t, "createdAt", channel, True), channel)
        aggressor = {"BUY": AggressorSide.BUYER, "SELL": AggressorSide.SELLER}.get(
            side, AggressorSide.NO_AGGRESSOR,
        )
        return trade_id, p, s, aggressor, ts_event

    def _trades(self, ctx, channel, contents, batched, snapshot, ts_init) -> list:
        items = contents if batched else [contents]
        parsed = []
        for item in items:
            c = _as_dict(item, channel, "contents")
            trades = _as_list(c.get("trades"), channel, "trades")
            if snapshot:
                trades = list(reversed(trades))
            for obj in trades:
                try:
                    parsed.append(self._trade_item(ctx, channel, obj))
                except (ValueError, TypeError, OverflowError) as e:
                    self._skip("trade", e)
        out = []
        newest = 0
        for trade_id, p, s, aggressor, ts_event in parsed:
            if not snapshot and (trade_id in ctx.trade_ids or ts_event < ctx.history_ts):
                ctx.duplicate_trades += 1
                continue
            ctx.trade_ids[trade_id] = None
            newest = max(newest, ts_event)
            out.append(TradeTick(
                ctx.instrument_id,
                Price.from_raw(p, ctx.price_precision),
                Quantity.from_raw(s, ctx.size_precision),
                aggressor,
                TradeId(trade_id),
                ts_event,
                ts_init,
            ))
        while len(ctx.trade_ids) > MAX_SEEN_IDS:
            del ctx.trade_ids[next(iter(ctx.trade_ids))]
        if snapshot:
            ctx.history_ts = max(ctx.history_ts, newest)
            return [TradeHistory(instrument_id=ctx.instrument_id, trades=out)]
        return out

    def _candle_price(self, ctx, channel, c, key) -> int:
        # An off-grid (liquidation, deleveraging) price is rounded half-even, as its trade is
        try:
            return _number(c.get(key), channel, key, ctx.unit_p, False)[0]
        except FrameError as e:
            if e.reason != f"{key} off grid":
                raise
        raw = _number(c.get(key), channel, key, 0, False, ctx.price_precision)[0]
        if raw == 0:
            raise FrameError(channel, f"{key} rounds to zero", f"{key} not positive")
        self._adapt("candle price off grid: rounded half-even")
        return raw

    def _candle_item(self, channel, item, ticker, resolution):
        c = _as_dict(item, channel, "candle")
        ticker = _str(c, "ticker", channel, False) or ticker
        resolution = _str(c, "resolution", channel, False) or resolution
        ctx = self._contexts.get(ticker)
        if ctx is None:
            raise FrameError(channel, f"no market context registered for id {ticker!r}",
                             "unknown market")
        if resolution not in ctx.bar_types:
            self._count("resolution", resolution)
            return None
        o, h, lo, cl = (
            self._candle_price(ctx, channel, c, k) for k in ("open", "high", "low", "close")
        )
        v = _number(c.get("baseTokenVolume"), channel, "baseTokenVolume", ctx.unit_s, True)[0]
        _int(c, "trades", channel, False)
        _dec(c, "usdVolume", channel, False)
        if not (lo <= o <= h and lo <= cl <= h):
            raise FrameError(channel, f"candle prices are inconsistent, was {c!r}",
                             "prices inconsistent")
        started = iso_to_ns(_str(c, "startedAt", channel, True), channel)
        return ctx, resolution, (started, o, h, lo, cl, v)

    def _candles(self, m, channel, items, snapshot, ts_init) -> list:
        ident = _str(m, "id", channel, True)
        self._ctx(m, channel)
        ticker, _, resolution = ident.partition("/")
        parsed = []
        for item in items:
            try:
                entry = self._candle_item(channel, item, ticker, resolution)
            except (ValueError, TypeError, OverflowError) as e:
                self._skip("candle", e)
                continue
            if entry is not None:
                parsed.append(entry)
        out = []
        if snapshot:
            histories = {}
            for ctx, res, candle in parsed:
                state = ctx.candles.setdefault(res, [None, 0])
                key = (ctx.ticker, res)
                if key not in histories:
                    histories[key] = BarHistory(bar_type=ctx.bar_types[res][0], bars=[])
                    out.append(histories[key])
                    state[0] = None
                forming = state[0]
                if forming is not None:
                    if candle[0] <= forming[0]:
                        continue
                    histories[key].bars.append(_make_bar(ctx, res, forming, ts_init))
                    state[1] = forming[0]
                state[0] = candle
            for (ticker, res), history in histories.items():
                ctx = self._contexts[ticker]
                state = ctx.candles[res]
                forming = state[0]
                if forming is not None and forming[0] + ctx.bar_types[res][1] <= ts_init:
                    history.bars.append(_make_bar(ctx, res, forming, ts_init))
                    state[0], state[1] = None, forming[0]
            return out
        for ctx, res, candle in parsed:
            state = ctx.candles.setdefault(res, [None, 0])
            forming = state[0]
            if candle[0] <= state[1] and state[1] != 0:
                self._skip("candle", FrameError(channel, "", "update after close"))
                continue
            if forming is None or candle[0] == forming[0]:
                state[0] = candle
            elif candle[0] > forming[0]:
                out.append(_make_bar(ctx, res, forming, ts_init))
                state[0], state[1] = candle, forming[0]
            else:
                self._skip("candle", FrameError(channel, "", "older than the forming candle"))
        return out

    def _market_entry(self, channel, ticker, obj, snapshot, ts_init) -> list:
        fields = _as_dict(obj, channel, "market")
        # A decimal sent as a JSON number counts as its text, as everywhere else
        decimals = {key: _dec(fields, key, channel, False) for key in MARKET_DECIMALS}
        for key in MARKET_INTEGERS:
            _int(fields, key, channel, False)
        status = self._enum(fields, "status", MARKET_STATUS, channel, False)
        _str(fields, "ticker", channel, False)
        _str(fields, "clobPairId", channel, False)
        tick, step = decimals["tickSize"], decimals["stepSize"]
        try:
            pp = None if tick is None else precision_from_increment(tick)
            sp = None if step is None else precision_from_increment(step)
        except ValueError as e:
            raise FrameError(channel, f"market {ticker}: {e}", "invalid increment") from None
        rec = MarketUpdate(ticker=ticker, is_new=ticker not in self._known_tickers,
                           is_snapshot=snapshot, fields=fields, price_precision=pp,
                           size_precision=sp)
        out = [rec]
        ctx = self._contexts.get(ticker)
        if ctx is not None:
            if fields.get("oraclePrice") is not None:
                out += self._oracle(ctx, channel, fields["oraclePrice"], ts_init, ts_init)
            if status is not None:
                action = STATUS_ACTIONS.get(status)
                if action is None:
                    update = InstrumentStatus(
                        ctx.instrument_id, MarketStatusAction.NOT_AVAILABLE_FOR_TRADING, ts_init,
                        ts_init, reason=status, trading_event=status,
                    )
                else:
                    update = InstrumentStatus(
                        ctx.instrument_id, action[0], ts_init, ts_init, reason=status,
                        trading_event=status, is_trading=action[1], is_quoting=action[2],
                    )
                out.insert(1, update)
            if decimals["nextFundingRate"] is not None:
                out.append(FundingRateUpdate(ctx.instrument_id,
                                             Decimal(decimals["nextFundingRate"]), ts_init,
                                             ts_init))
        self._known_tickers.add(ticker)
        return out

    @staticmethod
    def _oracle(ctx, channel, price, ts_event, ts_init) -> list:
        raw, prec = _number(price, channel, "oraclePrice", 0, False)
        value = Price.from_raw(raw, prec)
        return [
            MarkPriceUpdate(ctx.instrument_id, value, ts_event, ts_init),
            IndexPriceUpdate(ctx.instrument_id, value, ts_event, ts_init),
        ]

    def _markets_snapshot(self, channel, contents, ts_init) -> list:
        markets = _as_dict(_as_dict(contents, channel, "contents").get("markets"), channel,
                           "markets")
        out = []
        for ticker, market in markets.items():
            try:
                out += self._market_entry(channel, ticker, market, True, ts_init)
            except (ValueError, TypeError, OverflowError) as e:
                self._skip("market", e)
        return out

    def _markets_update(self, channel, contents, ts_init) -> list:
        c = _as_dict(contents, channel, "contents")
        out = []
        if c.get("trading") is not None:
            for ticker, market in _as_dict(c["trading"], channel, "trading").items():
                try:
                    out += self._market_entry(channel, ticker, market, False, ts_init)
                except (ValueError, TypeError, OverflowError) as e:
                    self._skip("market", e)
        if c.get("oraclePrices") is not None:
            for ticker, entry in _as_dict(c["oraclePrices"], channel, "oraclePrices").items():
                try:
                    o = _as_dict(entry, channel, "oracle price")
                    price = _dec(o, "oraclePrice", channel, True)
                    at = _str(o, "effectiveAt", channel, False)
                    _height(o, "effectiveAtHeight", channel, False)
                    ts_event = ts_init if at is None else iso_to_ns(at, channel)
                    ctx = self._contexts.get(ticker)
                    if ctx is not None:
                        out += self._oracle(ctx, channel, price, ts_event, ts_init)
                except (ValueError, TypeError, OverflowError) as e:
                    self._skip("oracle price", e)
        return out

    @staticmethod
    def _block_height(channel: str, contents: object, key: str) -> Record:
        c = _as_dict(contents, channel, "contents")
        height = _height(c, key, channel, True)  # Checked first, as compiled
        t = _str(c, "time", channel, False)
        return BlockHeight(channel=channel, height=height, time=t,
                           ts_event=None if t is None else iso_to_ns(t, channel))

    def _parse_record(self, cls: type, obj: object, channel: str, number=None,
                      address=None) -> Record:
        table, what, _ = TABLES[cls]
        d = _as_dict(obj, channel, what)
        nested = {}
        for _, key, _, _ in table:
            parent = key.rpartition(".")[0]
            if parent and parent not in nested:
                nested[parent] = _as_dict(d.get(parent) or {}, channel, f"{what} {parent}")
        values = {}
        for attr, key, kind, required in table:
            parent, _, key = key.rpartition(".")
            src = nested[parent] if parent else d
            key, _, other = key.partition("|")
            if kind == "time":
                value = _str(src, key, channel, required)
                values["ts_event"] = 0 if value is None else iso_to_ns(value, channel)
            elif isinstance(kind, frozenset):
                value = self._enum(src, key, kind, channel, required and not other)
            else:
                fn = {"str": _str, "dec": _dec, "height": _height, "int": _int, "bool": _bool}
                value = fn[kind](src, key, channel, required and not other)
                if other and value in (None, ""):
                    value = fn[kind](src, other, channel, False)
                    if value is None and required:
                        raise FrameError(channel, f"missing required key {key!r}",
                                         f"missing {key!r}")
            values[attr] = value
        if number is not None and values.get("subaccount_number", 0) is None:
            values["subaccount_number"] = number
        if address is not None and values.get("address", 0) is None:
            values["address"] = address
        return cls(**values)

    def _subaccount(self, channel, sub) -> list:
        out = []
        number = address = None
        try:
            info = self._parse_record(SubaccountInfo, sub, channel)
            number, address = info.subaccount_number, info.address
            out.append(info)
        except (ValueError, TypeError, OverflowError) as e:
            self._skip("subaccount", e)
        for key, cls in (("openPerpetualPositions", PerpetualPositionUpdate),
                         ("assetPositions", AssetPositionUpdate)):
            name = TABLES[cls][2]
            if sub.get(key) is None:
                continue
            if type(sub[key]) is not dict:
                self._skip(name, FrameError(channel, "", f"{key!r} not an object"))
                continue
            for pos in sub[key].values():
                try:
                    out.append(self._parse_record(cls, pos, channel, number, address))
                except (ValueError, TypeError, OverflowError) as e:
                    self._skip(name, e)
        if sub.get("childSubaccounts") is not None:
            for child in _as_list(sub["childSubaccounts"], channel, "childSubaccounts"):
                if type(child) is not dict:
                    self._skip("subaccount", FrameError(channel, "", "subaccount not an object"))
                    continue
                out += self._subaccount(channel, child)
        return out

    def _subaccount_snapshot(self, channel, contents) -> list:
        c = _as_dict(contents, channel, "contents")
        out = []
        if c.get("subaccount") is not None:
            out += self._subaccount(channel, _as_dict(c["subaccount"], channel, "subaccount"))
        if c.get("orders") is not None:
            for o in _as_list(c["orders"], channel, "orders"):
                try:
                    out.append(self._parse_record(OrderUpdate, o, channel))
                except (ValueError, TypeError, OverflowError) as e:
                    self._skip("order", e)
        if c.get("blockHeight") is not None:
            try:
                out.append(self._block_height(channel, c, "blockHeight"))
            except (ValueError, TypeError, OverflowError) as e:
                self._skip("block height", e)
        return out

    def _subaccount_update(self, channel, contents, number) -> list:
        c = _as_dict(contents, channel, "contents")
        out = []
        fills = []
        for key, cls in (("perpetualPositions", PerpetualPositionUpdate),
                         ("assetPositions", AssetPositionUpdate), ("orders", OrderUpdate),
                         ("fills", FillUpdate), ("transfers", TransferUpdate),
                         ("tradingReward", TradingRewardUpdate)):
            name = TABLES[cls][2]
            items = c.get(key)
            if items is None:
                continue
            if key in ("transfers", "tradingReward") and type(items) is not list:
                items = [items]
            if type(items) is not list:
                self._skip(name, FrameError(channel, "", f"{key!r} not an array"))
                continue
            for obj in items:
                try:
                    rec = self._parse_record(cls, obj, channel, number)
                except (ValueError, TypeError, OverflowError) as e:
                    self._skip(name, e)
                    continue
                (fills if cls is FillUpdate else out).append(rec)
        if c.get("blockHeight") is not None:
            try:
                out.append(self._block_height(channel, c, "blockHeight"))
            except (ValueError, TypeError, OverflowError) as e:
                self._skip("block height", e)
        for rec in fills:
            if rec.id in self._fill_ids:
                continue
            self._fill_ids[rec.id] = None
            out.append(rec)
        while len(self._fill_ids) > MAX_SEEN_IDS:
            del self._fill_ids[next(iter(self._fill_ids))]
        return out


def _make_bar(ctx: MarketContext, resolution: str, candle: tuple, ts_init: int) -> Bar:
    bar_type, duration = ctx.bar_types[resolution]
    started, o, h, lo, cl, v = candle
    pp = ctx.price_precision
    return Bar(
        bar_type,
        Price.from_raw(o, pp), Price.from_raw(h, pp), Price.from_raw(lo, pp),
        Price.from_raw(cl, pp), Quantity.from_raw(v, ctx.size_precision),
        started + duration, ts_init,
    )
