# SPDX-License-Identifier: Apache-2.0
"""The package version: read once from the installed metadata (pyproject `version`)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _metadata_version


DISTRIBUTION = "nautilus-dydx"

try:
    __version__ = _metadata_version(DISTRIBUTION)
except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
    __version__ = "0.0.0+unknown"
