# SPDX-License-Identifier: Apache-2.0
"""Bech32 `dydx1...` account address checks."""

from __future__ import annotations

import bech32

from nautilus_dydx.common.constants import ADDRESS_PREFIX


def check_address(field: str, address: str) -> None:
    """
    Check that `address` is a bech32 dYdX account address (20-byte hash, BIP-173 checksum).

    Raises
    ------
    ValueError
        If the prefix, checksum or payload length is wrong; the message names `field`.

    """
    hrp, data = bech32.bech32_decode(address)
    if hrp is None or data is None:
        raise ValueError(f"invalid `{field}`: not a bech32 address, was {address!r}")
    if hrp != ADDRESS_PREFIX:
        raise ValueError(f"invalid `{field}`: prefix must be {ADDRESS_PREFIX!r}, was {address!r}")
    payload = bech32.convertbits(data, 5, 8, False)
    if payload is None or len(payload) != 20:
        raise ValueError(f"invalid `{field}`: payload is not 20 bytes, was {address!r}")
