# SPDX-License-Identifier: Apache-2.0
"""The CheckTx error type and subaccount-id check shared by the sandbox's message modules."""

from __future__ import annotations

from nautilus_dydx.sandbox.keys import is_valid_address


MAX_SUBACCOUNT_NUMBER = 128_000


class ChainError(Exception):
    """
    A CheckTx failure with the chain's codespace, code and log.

    Parameters
    ----------
    codespace : str
        "sdk", "clob", "subaccounts" or "sending".
    code : int
        The ABCI code.
    log : str
        The raw log.

    """

    def __init__(self, codespace: str, code: int, log: str) -> None:
        super().__init__(f"{codespace} {code}: {log}")
        self.codespace = codespace
        self.code = code
        self.log = log


def validate_subaccount_id(subaccount_id) -> None:
    """
    Raise the `subaccounts` error of an invalid owner (201) or number (200).

    Parameters
    ----------
    subaccount_id : SubaccountId
        The protobuf subaccount id.

    Raises
    ------
    ChainError

    """
    if not is_valid_address(subaccount_id.owner):
        raise ChainError("subaccounts", 201, f"invalid subaccount owner "
                                             f"{subaccount_id.owner!r}: invalid owner")
    if subaccount_id.number > MAX_SUBACCOUNT_NUMBER:
        raise ChainError("subaccounts", 200, f"subaccount number {subaccount_id.number} is "
                                             "greater than 128000: invalid subaccount number")
