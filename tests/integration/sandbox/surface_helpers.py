# SPDX-License-Identifier: Apache-2.0
"""Test helpers for the sandbox's query services, leverage, transfers and TWAP messages."""

from __future__ import annotations

from nautilus_dydx._proto.dydxprotocol.clob import order_pb2
from nautilus_dydx._proto.dydxprotocol.clob import tx_pb2 as clob_tx_pb2
from nautilus_dydx._proto.dydxprotocol.sending import transfer_pb2
from nautilus_dydx._proto.dydxprotocol.sending import tx_pb2 as sending_tx_pb2
from nautilus_dydx._proto.dydxprotocol.subaccounts import subaccount_pb2
from tests.integration.sandbox.helpers import URL_PLACE
from tests.integration.sandbox.helpers import order_id


URL_LEVERAGE = "/dydxprotocol.clob.MsgUpdateLeverage"
URL_TRANSFER = "/dydxprotocol.sending.MsgCreateTransfer"
TWAP = 128
TWAP_SUBORDER = 256


def decode_serializable_int(data: bytes) -> int:
    """Decode Go's big.Int gob encoding (independent of the sandbox's encoder)."""
    if not data:
        return 0
    assert data[0] in (2, 3), f"unexpected SerializableInt header, was {data[0]}"
    magnitude = int.from_bytes(data[1:], "big")
    return -magnitude if data[0] == 3 else magnitude


def update_leverage(
    owner: str, entries: list[tuple[int, int]], number: int = 0,
) -> tuple[str, clob_tx_pb2.MsgUpdateLeverage]:
    return URL_LEVERAGE, clob_tx_pb2.MsgUpdateLeverage(
        subaccount_id=subaccount_pb2.SubaccountId(owner=owner, number=number),
        clob_pair_leverage=[
            clob_tx_pb2.LeverageEntry(clob_pair_id=c, custom_imf_ppm=ppm) for c, ppm in entries
        ],
    )


def transfer(
    sender: str,
    sender_number: int,
    recipient: str,
    recipient_number: int,
    amount: int,
    asset_id: int = 0,
) -> tuple[str, sending_tx_pb2.MsgCreateTransfer]:
    return URL_TRANSFER, sending_tx_pb2.MsgCreateTransfer(
        transfer=transfer_pb2.Transfer(
            sender=subaccount_pb2.SubaccountId(owner=sender, number=sender_number),
            recipient=subaccount_pb2.SubaccountId(owner=recipient, number=recipient_number),
            asset_id=asset_id,
            amount=amount,
        ),
    )


def place_twap(
    owner: str,
    client_id: int,
    side: int,
    quantums: int,
    subticks: int,
    gtbt: int,
    duration: int,
    interval: int,
    price_tolerance: int = 0,
    clob_pair_id: int = 0,
    number: int = 0,
    tif: int = 0,
    reduce_only: bool = False,
) -> tuple[str, clob_tx_pb2.MsgPlaceOrder]:
    order = order_pb2.Order(
        order_id=order_id(owner, client_id, clob_pair_id, TWAP, number),
        side=side,
        quantums=quantums,
        subticks=subticks,
        good_til_block_time=gtbt,
        time_in_force=tif,
        reduce_only=reduce_only,
        twap_parameters=order_pb2.TwapParameters(
            duration=duration, interval=interval, price_tolerance=price_tolerance,
        ),
    )
    return URL_PLACE, clob_tx_pb2.MsgPlaceOrder(order=order)
