# SPDX-License-Identifier: Apache-2.0
"""The `nautilus-dydx` command line."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

import nautilus_dydx
from nautilus_dydx.cli import main


def test_version_flag_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["--version"])

    assert excinfo.value.code == 0
    assert capsys.readouterr().out.strip() == f"nautilus-dydx {nautilus_dydx.__version__}"


def test_no_subcommand_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: nautilus-dydx" in capsys.readouterr().out


def test_console_script_is_installed() -> None:
    script = shutil.which("nautilus-dydx", path=str(__import__("pathlib").Path(sys.executable).parent))
    assert script is not None

    result = subprocess.run([script, "--version"], capture_output=True, text=True, check=True)

    assert result.stdout.startswith("nautilus-dydx ")
