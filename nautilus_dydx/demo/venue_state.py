# SPDX-License-Identifier: Apache-2.0
"""The account as the venue's Indexer REST reports it, read independently of the adapter."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

import httpx


@dataclass(frozen=True)
class VenueFill:
    """
    One fill as the Indexer lists it.

    Parameters
    ----------
    fill_id : str
    market : str
    side : str
        ``BUY`` or ``SELL``.
    price, size, fee : Decimal
    height : int
        The block height of the fill.
    order_id : str
        The Indexer order UUID.

    """

    fill_id: str
    market: str
    side: str
    price: Decimal
    size: Decimal
    fee: Decimal
    height: int
    order_id: str


@dataclass(frozen=True)
class VenuePosition:
    """
    An open perpetual position as the Indexer reports it.

    Parameters
    ----------
    market : str
    size : Decimal
        Signed: negative when short.
    entry_price : Decimal
    unrealized_pnl : Decimal
    net_funding : Decimal

    """

    market: str
    size: Decimal
    entry_price: Decimal
    unrealized_pnl: Decimal
    net_funding: Decimal

    @property
    def mark_price(self) -> Decimal:
        """The price the Indexer valued the position at (entry + unrealized / size)."""
        if self.size == 0:
            return self.entry_price
        return self.entry_price + self.unrealized_pnl / self.size


@dataclass(frozen=True)
class VenueSnapshot:
    """
    One subaccount's state at a block height.

    Parameters
    ----------
    height : int
        The Indexer's latest processed block height.
    equity : Decimal
        Equity at oracle prices (USDC).
    usdc : Decimal
        The signed USDC asset position.
    positions : dict[str, VenuePosition]
        Open perpetual positions by ticker.
    fills : list[VenueFill]
        Fills after `fills_after_height` (newest first, as listed).

    """

    height: int
    equity: Decimal
    usdc: Decimal
    positions: dict[str, VenuePosition] = field(default_factory=dict)
    fills: list[VenueFill] = field(default_factory=list)

    def position_size(self, ticker: str) -> Decimal:
        """
        Return the signed open position of a market (zero if none).

        Parameters
        ----------
        ticker : str

        Returns
        -------
        Decimal

        """
        position = self.positions.get(ticker)
        return Decimal(0) if position is None else position.size


def parse_subaccount(payload: dict) -> tuple[int, Decimal, Decimal, dict[str, VenuePosition]]:
    """
    Return (height, equity, USDC, open positions) of a ``/addresses/{a}/subaccountNumber/{n}``
    payload.

    Parameters
    ----------
    payload : dict

    Returns
    -------
    tuple[int, Decimal, Decimal, dict[str, VenuePosition]]

    Raises
    ------
    ValueError
        If a field is missing or malformed.

    """
    try:
        sub = payload["subaccount"]
        usdc_json = sub.get("assetPositions", {}).get("USDC")
        usdc = Decimal(0)
        if usdc_json is not None:
            usdc = Decimal(usdc_json["size"]) * (-1 if usdc_json["side"] == "SHORT" else 1)
        positions = {}
        for ticker, p in sub.get("openPerpetualPositions", {}).items():
            size = abs(Decimal(p["size"])) * (-1 if p["side"] == "SHORT" else 1)
            positions[ticker] = VenuePosition(
                market=ticker,
                size=size,
                entry_price=Decimal(p["entryPrice"]),
                unrealized_pnl=Decimal(p["unrealizedPnl"]),
                net_funding=Decimal(p.get("netFunding") or 0),
            )
        height = int(sub.get("latestProcessedBlockHeight") or sub.get("updatedAtHeight") or 0)
        return height, Decimal(sub["equity"]), usdc, positions
    except (KeyError, TypeError, ArithmeticError) as e:
        raise ValueError(f"invalid subaccount payload, was missing or bad {e!r}") from None


def parse_fills(payload: dict) -> list[VenueFill]:
    """
    Return the fills of a ``/fills`` payload.

    Parameters
    ----------
    payload : dict

    Returns
    -------
    list[VenueFill]

    Raises
    ------
    ValueError
        If a fill is malformed.

    """
    try:
        return [
            VenueFill(
                fill_id=f["id"],
                market=f["market"],
                side=f["side"],
                price=Decimal(f["price"]),
                size=Decimal(f["size"]),
                fee=Decimal(f["fee"]),
                height=int(f["createdAtHeight"]),
                order_id=f.get("orderId") or "",
            )
            for f in payload["fills"]
        ]
    except (KeyError, TypeError, ArithmeticError) as e:
        raise ValueError(f"invalid fills payload, was missing or bad {e!r}") from None


async def fetch_snapshot(
    http_url: str,
    address: str,
    subaccount: int = 0,
    fills_after_height: int | None = None,
    timeout_secs: float = 10.0,
) -> VenueSnapshot:
    """
    Read a subaccount and, optionally, its fills after a height from the Indexer REST API.

    Parameters
    ----------
    http_url : str
        The Indexer base URL (``.../v4``).
    address : str
    subaccount : int, default 0
    fills_after_height : int | None
        Also list the fills after this height (paged back until older ones show).
    timeout_secs : float, default 10.0

    Returns
    -------
    VenueSnapshot

    """
    base = http_url.rstrip("/")
    async with httpx.AsyncClient(timeout=timeout_secs) as client:
        response = await client.get(f"{base}/addresses/{address}/subaccountNumber/{subaccount}")
        response.raise_for_status()
        height, equity, usdc, positions = parse_subaccount(response.json())
        fills: list[VenueFill] = []
        if fills_after_height is not None:
            before: int | None = None
            for _ in range(100):  # Bounded: 100 pages of 100 fills
                params = {"address": address, "subaccountNumber": subaccount, "limit": 100}
                if before is not None:
                    params["createdBeforeOrAtHeight"] = before
                response = await client.get(f"{base}/fills", params=params)
                response.raise_for_status()
                page = [f for f in parse_fills(response.json()) if f.fill_id not in
                         {g.fill_id for g in fills}]
                fills += [f for f in page if f.height > fills_after_height]
                if len(page) == 0 or min(f.height for f in page) <= fills_after_height:
                    break
                before = min(f.height for f in page)
    return VenueSnapshot(height, equity, usdc, positions, fills)
