# SPDX-License-Identifier: Apache-2.0
"""Typed refusal of an order the chain would reject, raised before anything is signed."""

from __future__ import annotations


class OrderRefused(ValueError):
    """
    An order or cancel refused locally, with the chain error it would have produced.

    Parameters
    ----------
    code : int
        The chain's error code (for example 48 for fill-or-kill).
    codespace : str
        The chain's codespace (``"clob"`` or ``"sdk"``).
    reason : str
        A human-readable reason.

    """

    def __init__(self, code: int, codespace: str, reason: str) -> None:
        super().__init__(f"{codespace} {code}: {reason}")
        self.code = code
        self.codespace = codespace
        self.reason = reason

    def __reduce__(self) -> tuple:
        return (type(self), (self.code, self.codespace, self.reason))
