# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: resource loading, the shared captures folder, hypothesis profiles."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings


TESTS_ROOT = Path(__file__).resolve().parent
REPO_ROOT = TESTS_ROOT.parent
RESOURCES = TESTS_ROOT / "resources"

settings.register_profile(
    "default",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=2_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# Public test vectors (protocol reference section 9.1 K1/K2, and tests' own keys): no log line
# of any test may contain them. The sandbox's seeded keys are printed on purpose and not listed
KNOWN_TEST_SECRETS: tuple[str, ...] = (
    "mandate glove carry despair area gloom sting round toddler deal face vague receive shallow "
    "confirm south green cup rain drill monkey method tongue fence",
    "mirror actor skill push coach wait confirm orchard lunch mobile athlete gossip awake "
    "miracle matter bus reopen team ladder lazy list timber render wait",
    "0a7ff605269ed00853a425beda719da038a11792f6dddf31c087b2988b4dc8fe",
    "e92a6595c934c991d3b3e987ea9b3125bf61a076deab3a9cb519787b7b3e8d77",
)


def secret_fragments(secret: str) -> list[str]:
    """
    Return the secret and the runs of it that identify it: 3 words, or 16 hex characters.
    """
    words = secret.split()
    if len(words) > 1:
        return [secret] + [" ".join(words[i : i + 3]) for i in range(len(words) - 2)]
    return [secret] + [secret[i : i + 16] for i in range(0, len(secret) - 15, 8)]


def load_resource(*parts: str) -> bytes:
    """
    Return the bytes of a file under tests/resources.
    """
    return RESOURCES.joinpath(*parts).read_bytes()


def captures_dir() -> Path | None:
    """
    Return the shared Indexer captures folder, or None when this checkout has none beside it.
    """
    configured = os.environ.get("DYDX_CAPTURES")
    candidates = [Path(configured)] if configured else []
    candidates.append(REPO_ROOT.parent / "shared" / "fixtures" / "captures")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture
def captures() -> Path:
    folder = captures_dir()
    if folder is None:
        pytest.skip(
            "shared captures not found: set DYDX_CAPTURES or place ../shared/fixtures/captures "
            "beside the repository",
        )
    return folder


class _SecretScanHandler(logging.Handler):
    """Format every record (with its traceback) and keep the ones showing a test secret."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception as e:  # A record that cannot be formatted is a finding too
            text = f"unformattable record {record.name}: {e!r}"
        if any(fragment in text for fragment in _FRAGMENTS):
            self.leaks.append(f"{record.name}:{record.lineno}")


_FRAGMENTS = tuple(f for secret in KNOWN_TEST_SECRETS for f in secret_fragments(secret))


def leaked_secret(text: str) -> bool:
    """
    Return whether `text` contains a known test secret or an identifying run of one.
    """
    return any(fragment in text for fragment in _FRAGMENTS)


@pytest.fixture(autouse=True)
def no_secret_in_logs() -> Iterator[None]:
    """
    Fail a test if any log line it produced (the package's at DEBUG, others as configured)
    shows a known test secret.
    """
    handler = _SecretScanHandler()
    package = logging.getLogger("nautilus_dydx")
    level = package.level
    package.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        package.setLevel(level)
    if handler.leaks:
        pytest.fail(f"a test secret appeared in log records from {handler.leaks[:5]}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    # Captured stdout/stderr/log of every phase: a secret there fails the test
    outcome = yield
    report = outcome.get_result()
    shown = [name for name, content in report.sections if leaked_secret(content)]
    if shown and report.outcome != "failed":
        report.outcome = "failed"
        report.longrepr = f"a test secret appeared in the captured output: {shown}"
