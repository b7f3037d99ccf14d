# SPDX-License-Identifier: Apache-2.0
"""The docs stay true: every config field, `/control/` route and subcommand is documented."""

from __future__ import annotations

import argparse
import inspect
import re
from pathlib import Path

import msgspec
import pytest
from nautilus_trader.config import LiveDataClientConfig
from nautilus_trader.config import LiveExecClientConfig

from nautilus_dydx import cli
from nautilus_dydx.config import DYDXDataClientConfig
from nautilus_dydx.config import DYDXExecClientConfig
from nautilus_dydx.sandbox import cli as sandbox_cli
from nautilus_dydx.sandbox import faults


ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _text(*names: str) -> str:
    return "\n".join((DOCS / name).read_text(encoding="utf-8") for name in names)


def _all_docs_text() -> str:
    pages = sorted(DOCS.glob("*.md"))
    return "\n".join(p.read_text(encoding="utf-8") for p in pages) + (
        ROOT / "README.md"
    ).read_text(encoding="utf-8")


def _own_fields(config: type, base: type) -> list[str]:
    # Fields the adapter declares (Nautilus's inherited ones are documented by Nautilus)
    inherited = {f.name for f in msgspec.structs.fields(base)}
    return [f.name for f in msgspec.structs.fields(config) if f.name not in inherited]


def _undocumented_fields(text: str, names: list[str]) -> list[str]:
    return [name for name in names if f"`{name}`" not in text]


def _control_routes() -> set[str]:
    routes = set(faults.CONTROL_ROUTES)
    # Also the routes the handler dispatches, in case one is added there but not to the table
    source = inspect.getsource(faults.Faults.handle_control)
    routes |= set(re.findall(r'name == "([a-z/]+)"', source))
    return {f"/control/{route}" for route in routes}


def _undocumented_routes(text: str, routes: set[str]) -> list[str]:
    return sorted(r for r in routes if not re.search(re.escape(r) + r"(?![\w/])", text))


def _subcommands() -> set[str]:
    parser = cli.build_parser()
    names: set[str] = set(cli.SUBCOMMANDS)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            names |= set(action.choices)
    return names


def _undocumented_subcommands(text: str, names: set[str]) -> list[str]:
    return sorted(
        name for name in names
        if f"`{name}`" not in text and f"nautilus-dydx {name}" not in text
    )


@pytest.mark.parametrize(
    ("config", "base"),
    [(DYDXDataClientConfig, LiveDataClientConfig), (DYDXExecClientConfig, LiveExecClientConfig)],
)
def test_every_config_field_is_in_configuration_md(config: type, base: type) -> None:
    names = _own_fields(config, base)
    assert "network" in names and len(names) >= 13
    assert _undocumented_fields(_text("configuration.md"), names) == []


def test_every_control_route_is_in_sandbox_md() -> None:
    routes = _control_routes()
    assert "/control/ws/drop" in routes and "/control/clear" in routes
    assert _undocumented_routes(_text("sandbox.md"), routes) == []


def test_every_subcommand_is_documented() -> None:
    names = _subcommands()
    assert {"sandbox", "decode", "download"} <= names
    assert _undocumented_subcommands(_all_docs_text(), names) == []


def test_every_sandbox_option_is_in_sandbox_md() -> None:
    parser = argparse.ArgumentParser()
    sandbox_cli.add_arguments(parser)
    options = [
        option for action in parser._actions for option in action.option_strings
        if option.startswith("--") and option != "--help"
    ]
    assert "--fund" in options and "--genesis" in options
    text = _text("sandbox.md")
    assert [o for o in options if f"`{o}" not in text] == []


def test_the_checks_catch_what_is_missing() -> None:
    # The checkers report names absent from a text (so the tests above can fail)
    text = "`network` and /control/ws/drop, `markets`"
    assert _undocumented_fields(text, ["network", "new_field"]) == ["new_field"]
    assert _undocumented_routes(text, {"/control/ws/drop", "/control/ws/new"}) == [
        "/control/ws/new",
    ]
    # A route is not documented by a longer route that starts with it
    assert _undocumented_routes("/control/ws/dropall", {"/control/ws/drop"}) == [
        "/control/ws/drop",
    ]
    assert _undocumented_subcommands(text, {"markets", "newcmd"}) == ["newcmd"]
