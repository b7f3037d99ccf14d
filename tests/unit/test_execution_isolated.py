# SPDX-License-Identifier: Apache-2.0
"""Isolated-market sizing, child choice and the transfer message, against hand-checked values."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_dydx._proto.dydxprotocol.sending import tx_pb2 as sending_tx_pb2
from nautilus_dydx._proto.google.protobuf import any_pb2
from nautilus_dydx.grpc.types import EquityTier
from nautilus_dydx.execution_isolated import TYPE_URL_CREATE_TRANSFER
from nautilus_dydx.execution_isolated import child_numbers
from nautilus_dydx.execution_isolated import choose_child
from nautilus_dydx.execution_isolated import create_transfer_any
from nautilus_dydx.execution_isolated import required_collateral
from nautilus_dydx.execution_isolated import tier_equity
from nautilus_dydx.execution_isolated import transfer_quantums
from nautilus_dydx.execution_isolated import usdc_to_quantums_floor


ADDRESS = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"


@pytest.mark.parametrize(
    ("quantity", "price", "imf", "buffer", "expected"),
    [
        ("1", "9", "0.2", "1.1", "1.98"),  # 9 USD notional, 20 % margin, 10 % buffer
        ("2", "8", "0.2", "1.1", "3.52"),
        ("1", "25", "0.1", "1.1", "2.75"),
        ("0.001", "65000", "0.05", "1", "3.25"),  # BTC-like: 65 USD notional at 5 %
        ("0", "9", "0.2", "1.1", "0"),
    ],
)
def test_required_collateral_is_notional_times_margin_times_buffer(
    quantity: str, price: str, imf: str, buffer: str, expected: str,
) -> None:
    result = required_collateral(Decimal(quantity), Decimal(price), Decimal(imf), Decimal(buffer))

    assert result == Decimal(expected)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"quantity": Decimal(-1)}, "sizing"),
        ({"price": Decimal(-1)}, "sizing"),
        ({"initial_margin_fraction": Decimal(-1)}, "sizing"),
        ({"buffer": Decimal("0.99")}, "buffer"),
    ],
)
def test_required_collateral_refuses_bad_inputs(kwargs: dict, message: str) -> None:
    values = {
        "quantity": Decimal(1), "price": Decimal(1), "initial_margin_fraction": Decimal("0.1"),
        "buffer": Decimal(1),
    }
    values.update(kwargs)

    with pytest.raises(ValueError, match=message):
        required_collateral(**values)


@pytest.mark.parametrize(
    ("required", "free", "expected"),
    [
        ("1.98", "0", 1_980_000),
        ("1.98", "-5", 1_980_000),  # A negative free collateral counts as none
        ("1.98", "1.98", 0),
        ("1.98", "2", 0),
        ("1.54", "0.0000005", 1_540_000),  # 1.5399995 rounded up to a whole quantum
        ("1.54", "0.000001", 1_539_999),
        ("0.0000001", "0", 1),
    ],
)
def test_transfer_quantums_cover_the_shortfall_rounded_up(
    required: str, free: str, expected: int,
) -> None:
    assert transfer_quantums(Decimal(required), Decimal(free)) == expected


@settings(max_examples=200, deadline=None)
@given(
    required=st.decimals(min_value=0, max_value=10**9, places=8),
    free=st.decimals(min_value=-(10**9), max_value=10**9, places=8),
)
def test_transfer_quantums_never_leave_a_shortfall_nor_overpay(
    required: Decimal, free: Decimal,
) -> None:
    quantums = transfer_quantums(required, free)
    after = max(free, Decimal(0)) + Decimal(quantums) / 10**6

    assert quantums >= 0
    assert after >= required
    if quantums:
        assert after - required < Decimal(1) / 10**6


def test_usdc_to_quantums_floor_never_exceeds_the_balance() -> None:
    assert usdc_to_quantums_floor(Decimal("1.9799999")) == 1_979_999
    assert usdc_to_quantums_floor(Decimal(0)) == 0
    assert usdc_to_quantums_floor(Decimal(-3)) == 0


def test_child_numbers_are_parent_plus_multiples_of_128() -> None:
    children = child_numbers(5)

    assert list(children[:3]) == [133, 261, 389]
    assert len(children) == 999
    assert children[-1] == 5 + 128 * 999 <= 128_000
    with pytest.raises(ValueError, match="parent"):
        child_numbers(128)


def test_choose_child_reuses_the_holder_else_the_lowest_empty() -> None:
    held = {128: {"ISO-USD"}, 256: set(), 384: {"OTHER-USD"}}

    assert choose_child(0, "ISO-USD", held) == 128
    assert choose_child(0, "NEW-USD", held) == 256  # Empty entry: free again
    assert choose_child(0, "OTHER-USD", held) == 384
    assert choose_child(0, "NEW-USD", {}) == 128
    assert choose_child(3, "NEW-USD", {131: {"ISO-USD"}}) == 259


def test_choose_child_returns_none_when_every_child_is_taken() -> None:
    held = {n: {f"M{n}"} for n in child_numbers(0)}

    assert choose_child(0, "NEW-USD", held) is None
    assert choose_child(0, "M640", held) == 640


def test_create_transfer_any_decodes_to_the_protocol_message() -> None:
    data = create_transfer_any(ADDRESS, 0, 128, 1_980_000)

    wrapper = any_pb2.Any.FromString(data)
    message = sending_tx_pb2.MsgCreateTransfer.FromString(wrapper.value)
    assert wrapper.type_url == TYPE_URL_CREATE_TRANSFER
    transfer = message.transfer
    assert (transfer.sender.owner, transfer.sender.number) == (ADDRESS, 0)
    assert (transfer.recipient.owner, transfer.recipient.number) == (ADDRESS, 128)
    assert (transfer.asset_id, transfer.amount) == (0, 1_980_000)


@pytest.mark.parametrize(("sender", "recipient", "quantums"), [(0, 128, 0), (0, 0, 5)])
def test_create_transfer_any_refuses_empty_or_self_transfers(
    sender: int, recipient: int, quantums: int,
) -> None:
    with pytest.raises(ValueError, match="transfer"):
        create_transfer_any(ADDRESS, sender, recipient, quantums)


def test_tier_equity_is_the_least_collateral_allowing_that_many_stateful_orders() -> None:
    # The mainnet shape: below 20 USDC no stateful order, then 10, then 20
    tiers = (EquityTier(0, 0), EquityTier(20_000_000, 10), EquityTier(100_000_000, 20))

    assert tier_equity(tiers, 1) == Decimal(20)
    assert tier_equity(tiers, 10) == Decimal(20)
    assert tier_equity(tiers, 11) == Decimal(100)
    assert tier_equity(tiers, 21) is None
    assert tier_equity((), 5) == Decimal(0)  # Tiers unknown: left to the chain
