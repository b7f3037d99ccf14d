# SPDX-License-Identifier: Apache-2.0
"""`MsgUpdateLeverage`: per-market custom initial margin fractions of a subaccount."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nautilus_dydx._proto.dydxprotocol.clob import tx_pb2 as clob_tx_pb2
from nautilus_dydx.sandbox.chain_errors import ChainError
from nautilus_dydx.sandbox.chain_errors import validate_subaccount_id


if TYPE_CHECKING:
    from nautilus_dydx.sandbox.chain import ChainState


URL_UPDATE_LEVERAGE = "/dydxprotocol.clob.MsgUpdateLeverage"
MAX_IMF_PPM = 1_000_000


def validate_basic(message: clob_tx_pb2.MsgUpdateLeverage) -> None:
    """
    Run the stateless checks of `MsgUpdateLeverage` (codespace `clob`, code 11002).

    Parameters
    ----------
    message : MsgUpdateLeverage
        The message.

    Raises
    ------
    ChainError

    """
    validate_subaccount_id(message.subaccount_id)
    entries = message.clob_pair_leverage
    if not entries:
        raise ChainError("clob", 11002, "clob pair leverage entries cannot be empty: Invalid "
                                        "update leverage")
    seen = set()
    for entry in entries:
        if entry.custom_imf_ppm == 0 or entry.custom_imf_ppm > MAX_IMF_PPM:
            raise ChainError("clob", 11002, f"imf ppm for clob pair {entry.clob_pair_id} must be "
                                            "between (0, 1,000,000]: Invalid update leverage")
        if entry.clob_pair_id in seen:
            raise ChainError("clob", 11002, f"duplicate clob pair ID {entry.clob_pair_id}: "
                                            "Invalid update leverage")
        seen.add(entry.clob_pair_id)


def check(chain: ChainState, message: clob_tx_pb2.MsgUpdateLeverage) -> None:
    """
    Run the stateful checks: every market exists and no entry is below its base margin.

    A custom IMF below the market's initial margin fraction would allow more leverage than the
    market's maximum, so it is refused with `clob` 11003.

    Parameters
    ----------
    chain : ChainState
        The chain.
    message : MsgUpdateLeverage
        The message.

    Raises
    ------
    ChainError

    """
    for entry in message.clob_pair_leverage:
        market = chain.markets.get(entry.clob_pair_id)
        if market is None:
            raise ChainError("clob", 8, f"clob pair ID {entry.clob_pair_id} does not exist: "
                                        "ClobPair ID does not reference a valid CLOB")
        base = market.config.initial_margin_ppm
        if entry.custom_imf_ppm < base:
            raise ChainError(
                "clob", 11003,
                f"custom imf ppm {entry.custom_imf_ppm} is below the initial margin ppm {base} "
                f"of clob pair {entry.clob_pair_id}: Leverage exceeds maximum allowed for "
                "perpetual",
            )


def deliver(chain: ChainState, message: clob_tx_pb2.MsgUpdateLeverage) -> None:
    """
    Store the entries (later entries of a subaccount override earlier ones per market).

    Parameters
    ----------
    chain : ChainState
        The chain.
    message : MsgUpdateLeverage
        The message, already checked.

    """
    key = (message.subaccount_id.owner, message.subaccount_id.number)
    stored = chain.leverage.setdefault(key, {})
    for entry in message.clob_pair_leverage:
        stored[entry.clob_pair_id] = entry.custom_imf_ppm


def initial_margin_ppm(chain: ChainState, owner: str, number: int, clob_pair_id: int) -> int:
    """
    Return the initial margin fraction (ppm) that applies to a subaccount's position.

    Parameters
    ----------
    chain : ChainState
        The chain.
    owner : str
        The owner address.
    number : int
        The subaccount number.
    clob_pair_id : int
        The market (= perpetual) id.

    Returns
    -------
    int
        The larger of the market's fraction and the subaccount's custom one.

    """
    base = chain.markets[clob_pair_id].config.initial_margin_ppm
    custom = chain.leverage.get((owner, number), {}).get(clob_pair_id, 0)
    return max(base, custom)
