# SPDX-License-Identifier: Apache-2.0
"""Typed results of the validator gRPC queries and broadcasts."""

from __future__ import annotations

import re

import msgspec


_VERSION = re.compile(r"v?(\d+)(?:\.(\d+))?")

# ShortBlockWindow by protocol major version (protocol reference §4.3)
SHORT_BLOCK_WINDOW_V9 = 40
SHORT_BLOCK_WINDOW_LEGACY = 20


class TxResult(msgspec.Struct, frozen=True):
    """
    A CheckTx (broadcast SYNC) or DeliverTx (GetTx) result; `code` 0 means accepted.
    """

    txhash: str
    code: int
    codespace: str
    raw_log: str
    height: int = 0
    gas_used: int = 0

    @property
    def accepted(self) -> bool:
        """Whether the code is 0."""
        return self.code == 0


class AuthenticatorInfo(msgspec.Struct, frozen=True):
    """One registered authenticator of an account (`accountplus.AccountAuthenticator`)."""

    id: int
    type: str
    config: bytes


class AccountInfo(msgspec.Struct, frozen=True):
    """An auth account: the number never changes, the sequence counts stateful txs."""

    address: str
    account_number: int
    sequence: int
    has_public_key: bool


class BlockInfo(msgspec.Struct, frozen=True):
    """A block height and its time (unix nanoseconds)."""

    height: int
    time_ns: int
    chain_id: str = ""


class NodeInfo(msgspec.Struct, frozen=True):
    """The node's network (chain id) and application version."""

    chain_id: str
    app_version: str
    app_name: str = ""

    @property
    def major_version(self) -> int | None:
        """The protocol major version, or None when the version does not parse."""
        match = _VERSION.match(self.app_version.strip())
        return None if match is None else int(match.group(1))

    @property
    def short_block_window(self) -> int:
        """
        The short-term good-til-block window: 40 from protocol v9, else 20 (also if unknown).
        """
        major = self.major_version
        return SHORT_BLOCK_WINDOW_V9 if major is not None and major >= 9 else (
            SHORT_BLOCK_WINDOW_LEGACY
        )


class FeeTier(msgspec.Struct, frozen=True):
    """A perpetual fee tier; negative maker ppm is a rebate."""

    index: int
    name: str
    maker_fee_ppm: int
    taker_fee_ppm: int
    absolute_volume_requirement: int = 0


class ClobPairInfo(msgspec.Struct, frozen=True):
    """The chain's market parameters of one CLOB pair."""

    id: int
    perpetual_id: int
    step_base_quantums: int
    subticks_per_tick: int
    quantum_conversion_exponent: int
    status: str


class EquityTier(msgspec.Struct, frozen=True):
    """Net collateral (quote quantums) from which `limit` open stateful orders are allowed."""

    usd_tnc_required: int
    limit: int


class RateLimit(msgspec.Struct, frozen=True):
    """At most `limit` per `num_blocks` blocks."""

    num_blocks: int
    limit: int


class BlockRateLimits(msgspec.Struct, frozen=True):
    """The per-account block rate limits (§4.8)."""

    stateful_orders: tuple[RateLimit, ...]
    short_term_orders_and_cancels: tuple[RateLimit, ...]


class StatefulOrderInfo(msgspec.Struct, frozen=True):
    """A stateful order as stored on chain."""

    order: bytes
    placement_height: int
    fill_amount: int
    triggered: bool


class SimulateResult(msgspec.Struct, frozen=True):
    """Gas estimate of a transaction."""

    gas_wanted: int
    gas_used: int


def serializable_int(data: bytes) -> int:
    """
    Return the integer of a dYdX ``SerializableInt`` (sign byte 2/3, big-endian magnitude).

    Parameters
    ----------
    data : bytes
        The encoded value; empty means zero.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the sign byte is neither 2 nor 3.

    """
    if not data:
        return 0
    sign = data[0]
    if sign not in (2, 3):
        raise ValueError(f"invalid SerializableInt sign byte, was {sign}")
    magnitude = int.from_bytes(data[1:], "big")
    return -magnitude if sign == 3 else magnitude
