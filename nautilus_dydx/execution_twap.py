# SPDX-License-Identifier: Apache-2.0
"""Native dYdX TWAP orders (flags 128): the order tag and the `MsgPlaceOrder` encoding."""

from __future__ import annotations

from typing import Any
from typing import Final

from nautilus_trader.config import NautilusConfig

from nautilus_dydx._core.orders import TYPE_URL_PLACE_ORDER
from nautilus_dydx._core.orders import encode_any
from nautilus_dydx._proto.dydxprotocol.clob import order_pb2
from nautilus_dydx._proto.dydxprotocol.clob import tx_pb2
from nautilus_dydx._proto.dydxprotocol.subaccounts import subaccount_pb2
from nautilus_dydx.order_errors import OrderRefused


FLAGS_TWAP: Final = 128
FLAGS_TWAP_SUBORDER: Final = 256
TWAP_TAGS_PREFIX: Final = "DYDXTwapTags:"


class DYDXTwapTags(NautilusConfig, frozen=True):
    """
    Place a Nautilus LIMIT (limit TWAP) or MARKET (market TWAP) order as a native dYdX TWAP.

    The venue splits the order into equal suborders, one per interval, each priced from the
    oracle within the tolerance (and never beyond a limit order's price).

    Parameters
    ----------
    duration_secs : int
        Total duration: 300 to 86 400 seconds, a multiple of the interval.
    interval_secs : int
        Time between suborders: 30 to 3 600 seconds.
    price_tolerance_ppm : int, default 0
        Suborder price tolerance around the oracle, below 1 000 000 ppm.

    """

    duration_secs: int
    interval_secs: int
    price_tolerance_ppm: int = 0

    @property
    def value(self) -> str:
        """
        Return the tag string, ``DYDXTwapTags:{json}``.
        """
        return f"{TWAP_TAGS_PREFIX}{self.json().decode()}"

    def check(self) -> None:
        """
        Refuse parameters the chain rejects (``clob 12``).

        Raises
        ------
        OrderRefused

        """
        duration, interval = self.duration_secs, self.interval_secs
        if not 30 <= interval <= 3_600:
            raise OrderRefused(12, "clob", f"TWAP interval {interval}s not in 30..3600")
        if not 300 <= duration <= 86_400 or duration % interval:
            raise OrderRefused(
                12, "clob",
                f"TWAP duration {duration}s not in 300..86400 or not a multiple of the interval",
            )
        if not 0 <= self.price_tolerance_ppm < 1_000_000:
            raise OrderRefused(
                12, "clob", f"TWAP price tolerance {self.price_tolerance_ppm} ppm out of range",
            )


def parse_twap_tags(order: Any) -> DYDXTwapTags | None:
    """
    Return the `DYDXTwapTags` of an order, or None.

    Parameters
    ----------
    order : Order

    Returns
    -------
    DYDXTwapTags | None

    """
    for tag in order.tags or ():
        if tag.startswith(TWAP_TAGS_PREFIX):
            return DYDXTwapTags.parse(tag[len(TWAP_TAGS_PREFIX):])
    return None


def twap_place_order_any(
    owner: str,
    subaccount_number: int,
    client_id: int,
    clob_pair_id: int,
    side: int,
    quantums: int,
    subticks: int,
    good_til_block_time: int,
    client_metadata: int,
    tags: DYDXTwapTags,
) -> bytes:
    """
    Return the ``Any``-wrapped ``MsgPlaceOrder`` of a TWAP order (``subticks`` 0: market).

    Parameters
    ----------
    owner : str
    subaccount_number : int
    client_id : int
    clob_pair_id : int
    side : int
        1 buy, 2 sell.
    quantums : int
    subticks : int
    good_til_block_time : int
    client_metadata : int
    tags : DYDXTwapTags

    Returns
    -------
    bytes

    """
    order = order_pb2.Order(
        order_id=order_pb2.OrderId(
            subaccount_id=subaccount_pb2.SubaccountId(owner=owner, number=subaccount_number),
            client_id=client_id,
            order_flags=FLAGS_TWAP,
            clob_pair_id=clob_pair_id,
        ),
        side=side,
        quantums=quantums,
        subticks=subticks,
        good_til_block_time=good_til_block_time,
        client_metadata=client_metadata,
        twap_parameters=order_pb2.TwapParameters(
            duration=tags.duration_secs,
            interval=tags.interval_secs,
            price_tolerance=tags.price_tolerance_ppm,
        ),
    )
    return encode_any(TYPE_URL_PLACE_ORDER, tx_pb2.MsgPlaceOrder(order=order).SerializeToString())
