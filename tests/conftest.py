# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: resource loading, the shared captures folder, hypothesis profiles."""

from __future__ import annotations

import os
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
