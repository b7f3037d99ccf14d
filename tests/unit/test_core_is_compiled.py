# SPDX-License-Identifier: Apache-2.0
"""Every module in nautilus_dydx/_core is a compiled extension module, not Python source."""

from __future__ import annotations

import importlib
import importlib.machinery
from pathlib import Path

import pytest

import nautilus_dydx._core


CORE_DIR = Path(nautilus_dydx._core.__file__).parent
CORE_MODULES = sorted(p.stem for p in CORE_DIR.glob("*.pyx"))


def test_core_has_modules() -> None:
    assert "decimal" in CORE_MODULES


@pytest.mark.parametrize("name", CORE_MODULES)
def test_core_is_compiled(name: str) -> None:
    module = importlib.import_module(f"nautilus_dydx._core.{name}")

    assert isinstance(module.__loader__, importlib.machinery.ExtensionFileLoader)
    assert module.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
