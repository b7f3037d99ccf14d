# SPDX-License-Identifier: Apache-2.0
"""Isolated markets: the chain's rules on which positions may share a subaccount."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nautilus_dydx.sandbox.chain_errors import ChainError


if TYPE_CHECKING:
    from nautilus_dydx.sandbox.chain import ChainState


CROSS = "CROSS"
ISOLATED = "ISOLATED"
MARKET_TYPES = (CROSS, ISOLATED)


def violation(chain: ChainState, owner: str, number: int, clob_pair_id: int) -> str | None:
    """
    Return why trading `clob_pair_id` in a subaccount breaks the isolated rules, else None.

    The chain's rules (x/subaccounts): a subaccount with a position in an isolated market can
    trade no other market, and one with a position in a cross market can trade no isolated
    market. A subaccount without other positions may trade anything, so an isolated market is
    traded from its own subaccount, by convention a child `p + 128·k` of parent `p`.

    Parameters
    ----------
    chain : ChainState
        The chain.
    owner : str
        The owner address.
    number : int
        The subaccount number.
    clob_pair_id : int
        The market (= perpetual) the update is in.

    Returns
    -------
    str | None

    """
    sub = chain.subaccounts.get((owner, number))
    if sub is None:
        return None
    others = sorted(
        pid for pid, position in sub.positions.items()
        if position.size != 0 and pid != clob_pair_id
    )
    if not others:
        return None
    markets = chain.markets
    if markets[clob_pair_id].config.market_type == ISOLATED:
        return (f"subaccount {owner}/{number} has positions in clob pairs {others} and cannot "
                f"trade isolated clob pair {clob_pair_id}")
    isolated = [pid for pid in others if markets[pid].config.market_type == ISOLATED]
    if isolated:
        return (f"subaccount {owner}/{number} has an isolated position in clob pair "
                f"{isolated[0]} and cannot trade clob pair {clob_pair_id}")
    return None


def check_order(chain: ChainState, owner: str, number: int, clob_pair_id: int) -> None:
    """
    Refuse an order that would break the isolated rules (`clob` 2005).

    Parameters
    ----------
    chain : ChainState
        The chain.
    owner : str
        The owner address.
    number : int
        The subaccount number.
    clob_pair_id : int
        The order's market.

    Raises
    ------
    ChainError

    """
    reason = violation(chain, owner, number, clob_pair_id)
    if reason is not None:
        raise ChainError("clob", 2005, f"{reason}: Order would violate isolated subaccount "
                                       "constraints.")
