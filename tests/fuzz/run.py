# SPDX-License-Identifier: Apache-2.0
"""Long differential fuzz run: `python -m tests.fuzz.run --inputs 1000000`."""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from tests.fuzz.corpus import Mutator
from tests.fuzz.corpus import load_corpus
from tests.fuzz.differential import Stats
from tests.fuzz.differential import run_session


SESSION_LENGTH = 32
CHUNK_SESSIONS = 500


def run_chunk(seed: int, first: int, count: int) -> Stats:
    """
    Run sessions `first` .. `first + count - 1` of `seed` and return their counts.

    Each session has its own generator seeded by (seed, session), so any one session can be
    replayed alone.
    """
    corpus = load_corpus()
    stats = Stats()
    for session in range(first, first + count):
        mutator = Mutator(corpus, seed * 1_000_003 + session)
        frames = [mutator.next() for _ in range(SESSION_LENGTH)]
        before = len(stats.findings)
        run_session(frames, stats)
        for finding in stats.findings[before:]:
            finding_session = (seed, session)
            stats.findings[stats.findings.index(finding)] = (*finding, finding_session)
    return stats


def _write_findings(stats: Stats, path: Path) -> None:
    with path.open("w") as f:
        for kind, where, detail, frames, origin in stats.findings:
            f.write(json.dumps({
                "kind": kind, "position": where, "detail": repr(detail)[:4000],
                "seed_session": origin,
                "frames_base64": [base64.b64encode(frame).decode() for frame in frames],
            }) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run the fuzzer and print its counts; exit 1 on any mismatch or crash."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--inputs", type=int, default=100_000, help="frames to feed (each to 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--max-seconds", type=float, default=3600.0,
                        help="stop starting new chunks after this long")
    parser.add_argument("--findings", type=Path, default=Path("fuzz-findings.ndjson"))
    parser.add_argument("--all-reasons", action="store_true", help="list every skip reason")
    args = parser.parse_args(argv)

    sessions = -(-args.inputs // SESSION_LENGTH)
    chunks = [
        (args.seed, first, min(CHUNK_SESSIONS, sessions - first))
        for first in range(0, sessions, CHUNK_SESSIONS)
    ]
    total = Stats()
    aborted: list[tuple[int, int, int]] = []
    started = time.monotonic()
    # Workers run in child processes: an abort in compiled code breaks the pool, not this report
    pending = list(chunks)
    while pending and time.monotonic() - started < args.max_seconds:
        batch, pending = pending[: args.jobs * 4], pending[args.jobs * 4:]
        try:
            with ProcessPoolExecutor(max_workers=args.jobs) as pool:
                futures = {pool.submit(run_chunk, *chunk): chunk for chunk in batch}
                for future, chunk in futures.items():
                    try:
                        total.merge(future.result())
                    except BrokenProcessPool:
                        aborted.append(chunk)
        except BrokenProcessPool:
            aborted.extend(batch)
        done = total.inputs
        elapsed = time.monotonic() - started
        print(f"  {done:>9,} inputs  {elapsed:7.1f} s  {done / max(elapsed, 1e-9):8.0f}/s",
              file=sys.stderr, flush=True)
    elapsed = time.monotonic() - started
    crashes = total.crashes + len(aborted)
    print(f"inputs           {total.inputs:,} (each through scanner, walk and reference twin)")
    print(f"frames decoded   {total.decoded:,}")
    print(f"frame errors     {total.frame_errors:,}")
    print(f"scanner frames   {total.scanned:,}")
    print(f"items skipped    {sum(total.skipped.values()):,} "
          f"({len(total.skipped)} distinct reasons)")
    shown = None if args.all_reasons else 15
    for reason, count in total.skipped.most_common(shown):
        print(f"    {count:>9,}  {reason}")
    if shown is not None and len(total.skipped) > shown:
        print(f"    ... {len(total.skipped) - shown} more (--all-reasons)")
    print(f"items adapted    {sum(total.adapted.values()):,}")
    for reason, count in total.adapted.most_common():
        print(f"    {count:>9,}  {reason}")
    print(f"mismatches       {total.mismatches}")
    print(f"crashes          {crashes} (aborted chunks: {aborted})")
    print(f"wall time        {elapsed:.1f} s")
    if total.findings:
        _write_findings(total, args.findings)
        print(f"findings written to {args.findings}")
    unfinished = total.inputs < args.inputs
    if unfinished:
        print(f"stopped at --max-seconds before {args.inputs:,} inputs")
    return 1 if total.mismatches or crashes else 0


if __name__ == "__main__":
    sys.exit(main())
