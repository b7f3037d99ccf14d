# SPDX-License-Identifier: Apache-2.0
"""Shared benchmark set-up: the repository root on sys.path so benchmarks reach tests/reference."""

from __future__ import annotations

import sys
from pathlib import Path


REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
