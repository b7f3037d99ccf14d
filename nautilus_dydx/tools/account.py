# SPDX-License-Identifier: Apache-2.0
"""Show a subaccount: equity, free collateral, positions, open orders, fee and equity tiers."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from decimal import Decimal

from rich.console import Group
from rich.table import Table
from rich.text import Text

from nautilus_dydx.grpc.types import EquityTier
from nautilus_dydx.grpc.types import FeeTier
from nautilus_dydx.schemas import indexer as schemas
from nautilus_dydx.tools.common import account_from
from nautilus_dydx.tools.common import add_account_arguments
from nautilus_dydx.tools.common import add_network_arguments
from nautilus_dydx.tools.common import endpoints_from
from nautilus_dydx.tools.common import fetch_markets
from nautilus_dydx.tools.common import http_client
from nautilus_dydx.tools.common import make_console
from nautilus_dydx.tools.common import node_client
from nautilus_dydx.tools.common import run_command
from nautilus_dydx.tools.orders import is_open_stateful
from nautilus_dydx.tools.orders import open_orders
from nautilus_dydx.tools.orders import orders_table


QUOTE_QUANTUMS_PER_USDC = Decimal(1_000_000)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """
    Add the `account` options to `parser`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.

    """
    add_network_arguments(parser)
    add_account_arguments(parser)


@dataclass(frozen=True)
class EquityTierUsage:
    """
    The open stateful orders of a subaccount against its equity-tier limit.
    """

    open_stateful: int
    limit: int | None
    required_usdc: Decimal | None


def equity_tier_usage(
    tiers: tuple[EquityTier, ...],
    net_collateral: Decimal,
    open_stateful: int,
) -> EquityTierUsage:
    """
    Return the applicable equity tier: the last one whose requirement is <= net collateral.

    Parameters
    ----------
    tiers : tuple[EquityTier, ...]
        The governance tiers, ascending.
    net_collateral : Decimal
        The subaccount's net collateral (equity) in USDC.
    open_stateful : int
        Open long-term and conditional orders.

    Returns
    -------
    EquityTierUsage
        ``limit`` is None when no tier applies (below the first requirement: no stateful orders).

    """
    quantums = net_collateral * QUOTE_QUANTUMS_PER_USDC
    applicable = [t for t in tiers if t.usd_tnc_required <= quantums]
    if not applicable:
        return EquityTierUsage(open_stateful, None, None)
    tier = max(applicable, key=lambda t: t.usd_tnc_required)
    return EquityTierUsage(
        open_stateful, tier.limit, Decimal(tier.usd_tnc_required) / QUOTE_QUANTUMS_PER_USDC,
    )


def summary_lines(
    subaccount: schemas.Subaccount,
    fee_tier: FeeTier,
    usage: EquityTierUsage,
) -> list[str]:
    """
    Return the plain summary lines of the account view.

    Parameters
    ----------
    subaccount : Subaccount
        The Indexer subaccount.
    fee_tier : FeeTier
        The user's fee tier.
    usage : EquityTierUsage
        The equity-tier usage.

    Returns
    -------
    list[str]

    """
    maker = Decimal(fee_tier.maker_fee_ppm) / 10_000
    taker = Decimal(fee_tier.taker_fee_ppm) / 10_000
    limit = "0 (below the first tier)" if usage.limit is None else str(usage.limit)
    tier = "" if usage.required_usdc is None else f" (tier from {usage.required_usdc} USDC)"
    return [
        f"account {subaccount.address}/{subaccount.subaccount_number}",
        f"equity {subaccount.equity} USDC, free collateral {subaccount.free_collateral} USDC",
        f"fee tier {fee_tier.name or fee_tier.index}: maker {maker.normalize()}%, "
        f"taker {taker.normalize()}%",
        f"stateful orders {usage.open_stateful} open of {limit} allowed{tier}",
    ]


def positions_table(subaccount: schemas.Subaccount) -> Table:
    """
    Return a rich table of the subaccount's open perpetual positions.

    Parameters
    ----------
    subaccount : Subaccount
        The Indexer subaccount.

    Returns
    -------
    Table

    """
    table = Table(title=f"{len(subaccount.open_perpetual_positions)} open positions")
    for column in ("market", "side", "size", "entry", "unrealized PnL", "realized PnL", "funding"):
        table.add_column(column, justify="left" if column in ("market", "side") else "right")
    for market, p in sorted(subaccount.open_perpetual_positions.items()):
        table.add_row(
            market, p.side, p.size, p.entry_price or "-", p.unrealized_pnl or "-",
            p.realized_pnl or "-", p.net_funding or "-",
        )
    return table


async def _account(args: argparse.Namespace) -> int:
    endpoints = endpoints_from(args)
    address, number = account_from(args)
    async with http_client(endpoints) as http:
        markets = await fetch_markets(http)
        subaccount = await http.get_subaccount(address, number)
        orders = await open_orders(http, address, number)
    async with node_client(endpoints) as node:
        fee_tier = await node.get_user_fee_tier(address)
        tiers = await node.get_equity_tier_limits()
    usage = equity_tier_usage(
        tiers, Decimal(subaccount.equity), sum(1 for o in orders if is_open_stateful(o)),
    )
    by_clob = {m.clob_pair_id: ticker for ticker, m in markets.items()}
    make_console().print(Group(
        Text("\n".join(summary_lines(subaccount, fee_tier, usage))),
        positions_table(subaccount),
        orders_table(f"{len(orders)} open orders", orders, by_clob),
    ))
    return 0


def run(args: argparse.Namespace) -> int:
    """
    Run `nautilus-dydx account` and return the exit status.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options.

    Returns
    -------
    int

    """
    return run_command(lambda: _account(args))
