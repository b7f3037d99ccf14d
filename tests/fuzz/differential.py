# SPDX-License-Identifier: Apache-2.0
"""Feed the same frames to the compiled parser (scanner and walk) and its twin, and compare."""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from dataclasses import field

from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dydx._core import frames as compiled
from tests.fuzz.corpus import MARKETS
from tests.reference import frames as reference


TS_INIT = 1_765_210_400_000_000_000
INSTRUMENTS = {ticker: InstrumentId.from_str(f"{ticker}-PERP.DYDX") for ticker, _, _ in MARKETS}
IMPLEMENTATIONS = ("scanner", "walk", "reference")


def new_parsers() -> dict[str, object]:
    """
    Return one fresh parser per implementation, each with the corpus markets registered.
    """
    parsers = {
        "scanner": compiled.FrameParser(),
        "walk": compiled.FrameParser(scanner=False),
        "reference": reference.FrameParser(),
    }
    for parser in parsers.values():
        for ticker, price_precision, size_precision in MARKETS:
            parser.register(ticker, INSTRUMENTS[ticker], price_precision, size_precision)
    return parsers


def _record_dict(obj: object) -> dict | None:
    if hasattr(obj, "to_dict") and hasattr(obj, "_fields"):
        return obj.to_dict()
    fields = getattr(type(obj), "__struct_fields__", None)  # A msgspec record
    if fields is not None:
        return {name: getattr(obj, name) for name in fields}
    return None


def normalize(obj: object) -> object:
    """
    Return a comparable form of a parser output: records as dicts, Nautilus objects by repr.
    """
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [normalize(item) for item in obj]
    if isinstance(obj, dict):
        return {key: normalize(value) for key, value in obj.items()}
    values = _record_dict(obj)
    if values is not None:
        return (type(obj).__name__, normalize(values))
    return (type(obj).__name__, repr(obj))


def _outcome(parser: object, error_class: type, data: bytes) -> tuple:
    try:
        out = parser.parse(data, TS_INIT)
    except error_class as e:
        return ("FrameError", e.channel), None
    except Exception as e:  # A crash: any other exception escaping parse()
        return ("crash", type(e).__name__, str(e)[:200]), e
    return ("ok", normalize(out)), None


def _state(parser: object) -> tuple:
    return (
        dict(parser.skipped), dict(parser.adapted), dict(parser.unknown_enums),
        parser.frames, parser.errors,
    )


def _final(parser: object) -> tuple:
    books = tuple(parser.context(ticker).book.levels() for ticker, _, _ in MARKETS)
    return books, normalize(parser.flush_closed_bars(2**63 - 1))


@dataclass
class Stats:
    """Counts of one fuzzing run."""

    inputs: int = 0
    decoded: int = 0
    frame_errors: int = 0
    scanned: int = 0
    mismatches: int = 0
    crashes: int = 0
    skipped: Counter = field(default_factory=Counter)
    adapted: Counter = field(default_factory=Counter)
    findings: list = field(default_factory=list)

    def merge(self, other: Stats) -> None:
        """Add the counts of `other` to these."""
        self.inputs += other.inputs
        self.decoded += other.decoded
        self.frame_errors += other.frame_errors
        self.scanned += other.scanned
        self.mismatches += other.mismatches
        self.crashes += other.crashes
        self.skipped.update(other.skipped)
        self.adapted.update(other.adapted)
        self.findings.extend(other.findings)


def run_session(frames: list[bytes], stats: Stats, max_findings: int = 20) -> None:
    """
    Feed `frames` in order to fresh parsers of every implementation and count the outcomes.

    A mismatch is any difference in the objects returned (or the error class and channel), in
    the skip/adapt/unknown counters after a frame, or in the books and forming bars at the end;
    after one, the rest of the frames go to fresh parsers. A crash is any exception other than
    `FrameError` escaping `parse`.
    """
    # Outputs may nest as deep as the decoder allows (a market's unknown fields)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        start = 0
        while start < len(frames):
            start = _run_from(frames, start, stats, max_findings)
    finally:
        sys.setrecursionlimit(limit)


def _run_from(frames: list[bytes], start: int, stats: Stats, max_findings: int) -> int:
    # Returns where the next run starts: the end, or the frame after a mismatch
    parsers = new_parsers()
    errors = {"scanner": compiled.FrameError, "walk": compiled.FrameError,
              "reference": reference.FrameError}
    for position in range(start, len(frames)):
        data = frames[position]
        stats.inputs += 1
        outcomes = {}
        for name, parser in parsers.items():
            outcome, exc = _outcome(parser, errors[name], data)
            outcomes[name] = (outcome, _state(parser))
            if exc is not None:
                stats.crashes += 1
                if len(stats.findings) < max_findings:
                    stats.findings.append(("crash", name, outcome, frames[start: position + 1]))
        first = outcomes["scanner"]
        if first[0][0] == "ok":
            stats.decoded += 1
        elif first[0][0] == "FrameError":
            stats.frame_errors += 1
        if any(outcomes[name] != first for name in IMPLEMENTATIONS[1:]):
            stats.mismatches += 1
            if len(stats.findings) < max_findings:
                detail = {name: outcomes[name] for name in IMPLEMENTATIONS}
                stats.findings.append(("mismatch", position, detail, frames[start: position + 1]))
            _count(parsers["scanner"], stats)
            return position + 1
    finals = {name: _final(parser) for name, parser in parsers.items()}
    if any(finals[name] != finals["scanner"] for name in IMPLEMENTATIONS[1:]):
        stats.mismatches += 1
        if len(stats.findings) < max_findings:
            stats.findings.append(("mismatch-final", len(frames), finals, frames[start:]))
    _count(parsers["scanner"], stats)
    return len(frames)


def _count(parser: object, stats: Stats) -> None:
    stats.scanned += parser.scanned_frames
    stats.skipped.update(parser.skipped)
    stats.adapted.update(parser.adapted)
