# SPDX-License-Identifier: Apache-2.0
"""The `nautilus-dydx` command line: `--version` and the subcommands the package ships."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from typing import NoReturn

from nautilus_dydx._version import __version__


# Subcommand name -> module exposing `add_arguments(parser)` and `run(args) -> int`
SUBCOMMANDS: dict[str, str] = {
    "markets": "nautilus_dydx.tools.markets",
    "book": "nautilus_dydx.tools.book",
    "price": "nautilus_dydx.tools.price",
    "trades": "nautilus_dydx.tools.trades",
    "account": "nautilus_dydx.tools.account",
    "orders": "nautilus_dydx.tools.orders",
    "authenticators": "nautilus_dydx.tools.authenticators",
    "download": "nautilus_dydx.tools.download",
    "decode": "nautilus_dydx.tools.decode",
    "sandbox": "nautilus_dydx.sandbox.cli",
}


class _Parser(argparse.ArgumentParser):
    # Usage mistakes are one line on stderr and exit 2 (argparse would print the usage too)
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _available() -> dict[str, str]:
    found = {}
    for name, module in SUBCOMMANDS.items():
        try:
            if importlib.util.find_spec(module) is not None:
                found[name] = module
        except ModuleNotFoundError:
            continue
    return found


def build_parser() -> argparse.ArgumentParser:
    """
    Return the argument parser with every installed subcommand.
    """
    parser = _Parser(
        prog="nautilus-dydx",
        description="dYdX v4 adapter for NautilusTrader: tools and the offline sandbox venue.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"nautilus-dydx {__version__}",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module_name in _available().items():
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0])
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """
    Run the command line and return its exit status.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
