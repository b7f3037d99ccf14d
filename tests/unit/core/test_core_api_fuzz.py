# SPDX-License-Identifier: Apache-2.0
"""Random arguments to the public _core API (decimal, book, orders, session) in a child process.

A Rust panic or C abort would kill pytest itself; in a child it shows up as a negative exit
status, reported here with the seed to replay (`python -m tests.fuzz.api --seed N --trace`).
The child runs under a 2 GB address-space limit so that a call needing unbounded memory fails
with MemoryError (which the child reports) instead of pushing the machine into swap.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT


# The limit is set by the child's Python, not by a `preexec_fn`: that makes subprocess fork, and
# in a test process where a sandbox's gRPC server runs, gRPC's fork handlers leave a poller in the
# child that can abort it (exit -6, an `epoll_wait` error) when its fds close
_FUZZ_WITH_MEMORY_LIMIT = (
    "import resource, runpy, sys; "
    "resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3)); "
    "sys.argv[0] = 'tests.fuzz.api'; runpy.run_module('tests.fuzz.api', run_name='__main__')"
)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_calls_return_or_raise_and_never_abort(seed) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _FUZZ_WITH_MEMORY_LIMIT, "--seed", str(seed), "--calls", "1500"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, (
        f"seed {seed}: exit {result.returncode}; replay with `python -m tests.fuzz.api "
        f"--seed {seed} --trace`\n{result.stderr[-3000:]}"
    )
    returned, raised = (int(word) for word in result.stdout.split()[1:4:2])
    assert returned > 1_000 and raised > 1_000  # Both outcomes were exercised
