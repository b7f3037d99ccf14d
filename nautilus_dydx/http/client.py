# SPDX-License-Identifier: Apache-2.0
"""`DYDXHttpClient`: the Indexer REST routes (§2) on a keep-alive httpx client."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import TypeVar
from urllib.parse import quote

import httpx
import msgspec

from nautilus_dydx.http.errors import DYDXDecodeError
from nautilus_dydx.http.errors import DYDXHttpError
from nautilus_dydx.http.errors import DYDXPaginationError
from nautilus_dydx.http.errors import body_excerpt
from nautilus_dydx.http.ratelimit import TokenBucket
from nautilus_dydx.http.ratelimit import shared_bucket
from nautilus_dydx.schemas import indexer as schemas


T = TypeVar("T")

MAX_PAGE_SIZE = 1000
# Far enough ahead of any good-til-block-time (at most 95 days ahead)
_FAR_FUTURE_ISO = "2999-12-31T23:59:59.999Z"
_MAX_UINT32 = 2**32 - 1

_DECODERS: dict[Any, msgspec.json.Decoder] = {}


def _decoder(kind: Any) -> msgspec.json.Decoder:
    decoder = _DECODERS.get(kind)
    if decoder is None:
        decoder = msgspec.json.Decoder(kind)
        _DECODERS[kind] = decoder
    return decoder


def normalize_base_url(url: str) -> str:
    """
    Return the Indexer base URL ending in ``/v4``, whether or not `url` has it.

    Parameters
    ----------
    url : str
        E.g. ``https://indexer.dydx.trade``, ``https://indexer.dydx.trade/v4/``.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If `url` is not an http(s) URL.

    """
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"invalid Indexer base URL, was {url!r}")
    base = url.rstrip("/")
    if not base.endswith("/v4"):
        base += "/v4"
    return base


def _params(**values: Any) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[key] = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            if value:
                params[key] = ",".join(str(v) for v in value)
        else:
            params[key] = str(value)
    return params


# Parent-subaccount variants of the account routes (protocol reference §2.2)
_PARENT_ROUTES = {
    "perpetualPositions": "perpetualPositions/parentSubaccountNumber",
    "assetPositions": "assetPositions/parentSubaccountNumber",
    "orders": "orders/parentSubaccountNumber",
    "fills": "fills/parentSubaccount",
    "transfers": "transfers/parentSubaccountNumber",
    "historical-pnl": "historical-pnl/parentSubaccountNumber",
    "fundingPayments": "fundingPayments/parentSubaccount",
}


def _account_route(route: str, parent: bool) -> str:
    return _PARENT_ROUTES[route] if parent else route


def _account_params(address: str, number: int, parent: bool) -> dict[str, Any]:
    key = "parentSubaccountNumber" if parent else "subaccountNumber"
    return {"address": address, key: number}


def _segment(value: object) -> str:
    # A path parameter as one URL segment: "/", "?" or ".." in a ticker cannot change the route
    return quote(str(value), safe="")


def _check_page_size(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= MAX_PAGE_SIZE:
        raise ValueError(f"invalid page size, was {limit!r} (1 to {MAX_PAGE_SIZE})")
    return limit


class DYDXHttpClient:
    """
    The dYdX Indexer REST client: one typed coroutine per route, pagers for long listings.

    Requests share one token bucket per server origin with every other client of the
    process, and are retried (exponential backoff with jitter, `Retry-After` honoured)
    only on network errors, 429 and 5xx. Any other failure raises `DYDXHttpError`; a body
    of the wrong shape raises `DYDXDecodeError`.

    Parameters
    ----------
    base_url : str
        The Indexer base URL, with or without ``/v4``.
    timeout_secs : float, default 10.0
        Timeout of one request.
    max_retries : int, default 3
        Retries after the first attempt.
    retry_delay_initial_ms : int, default 500
        First retry delay; doubles per attempt.
    retry_delay_max_ms : int, default 10_000
        Cap of one retry delay (and of a `Retry-After` pause).
    rate_limit_per_10s : int, default 100
        The budget of the shared bucket when this client creates it.
    transport : httpx.AsyncBaseTransport, optional
        A custom transport (tests).

    """

    def __init__(
        self,
        base_url: str,
        timeout_secs: float = 10.0,
        max_retries: int = 3,
        retry_delay_initial_ms: int = 500,
        retry_delay_max_ms: int = 10_000,
        rate_limit_per_10s: int = 100,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        if max_retries < 0:
            raise ValueError(f"invalid max_retries, was {max_retries!r}")
        self.max_retries = max_retries
        self._delay_initial = retry_delay_initial_ms / 1000.0
        self._delay_max = retry_delay_max_ms / 1000.0
        self.bucket: TokenBucket = shared_bucket(self.base_url, rate_limit_per_10s, 10.0)
        self._client = httpx.AsyncClient(
            base_url=self.base_url + "/",
            timeout=httpx.Timeout(timeout_secs),
            limits=httpx.Limits(max_keepalive_connections=10, keepalive_expiry=60.0),
            headers={"Accept": "application/json"},
            transport=transport,
        )
        self.requests_sent = 0
        self._in_flight: set[asyncio.Task] = set()

    @classmethod
    def from_config(
        cls,
        config: Any,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> DYDXHttpClient:
        """
        Return a client for a `DYDXDataClientConfig` or `DYDXExecClientConfig`.

        Parameters
        ----------
        config : DYDXDataClientConfig | DYDXExecClientConfig
            The configuration (endpoints, timeout, retry policy, rate limit).
        transport : httpx.AsyncBaseTransport, optional
            A custom transport (tests).

        Returns
        -------
        DYDXHttpClient

        """
        max_retries, delay_initial_ms, delay_max_ms = config.retry_policy
        return cls(
            config.endpoints.http,
            timeout_secs=config.http_timeout_secs,
            max_retries=max_retries,
            retry_delay_initial_ms=delay_initial_ms,
            retry_delay_max_ms=delay_max_ms,
            rate_limit_per_10s=config.http_rate_limit_per_10s,
            transport=transport,
        )

    async def close(self) -> None:
        """Close the connection pool, abandoning requests whose callers were cancelled."""
        for task in list(self._in_flight):
            task.cancel()
        await asyncio.gather(*self._in_flight, return_exceptions=True)
        await self._client.aclose()

    @property
    def in_flight(self) -> int:
        """
        Return how many requests are on the wire, including those whose caller was cancelled.
        """
        return len(self._in_flight)

    async def __aenter__(self) -> DYDXHttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- Transport -----------------------------------------------------------------------------

    async def _send(self, route: str, params: dict[str, str] | None) -> httpx.Response:
        # httpcore 1.0.9 strands a pool connection when a request is cancelled after the pool
        # created a connection for it and before it opened (encode/httpcore#1093): the pool
        # never reclaims it, without bound here (no max_connections): about 7 KB each in a
        # probe (260 stranded by 3,000 rounds of four cancelled reads, 620 bytes per round).
        # A cancelled audit or reconciliation did that at each reconnect. The request runs
        # in a task of its own, so cancelling the caller lets it finish instead.
        task = asyncio.ensure_future(self._client.get(route, params=params))
        self._in_flight.add(task)
        task.add_done_callback(self._settled)
        return await asyncio.shield(task)

    def _settled(self, task: asyncio.Task) -> None:
        self._in_flight.discard(task)
        if not task.cancelled():
            task.exception()  # Retrieved: the caller may have been cancelled and gone

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        delay = min(self._delay_max, self._delay_initial * (2**attempt))
        delay *= random.uniform(0.5, 1.0)
        if retry_after is not None:
            delay = max(delay, min(self._delay_max, retry_after))
        return delay

    async def get_raw(self, route: str, params: dict[str, str] | None = None) -> bytes:
        """
        Return the body of ``GET {base_url}/{route}``, retrying transient failures.

        Parameters
        ----------
        route : str
            The path under ``/v4``, e.g. ``perpetualMarkets``.
        params : dict[str, str], optional
            The query.

        Returns
        -------
        bytes

        Raises
        ------
        DYDXHttpError
            On a non-retryable status, or when retries are exhausted.

        """
        route = route.lstrip("/")
        display = "/v4/" + route
        attempt = 0
        while True:
            await self.bucket.acquire()
            retry_after: float | None = None
            try:
                self.requests_sent += 1
                response = await self._send(route, params)
            except httpx.TransportError as e:
                failure = DYDXHttpError(None, display, f"{type(e).__name__}: {e}"[:200])
            else:
                self.bucket.update_from_headers(response.headers, self._delay_max)
                status = response.status_code
                if 200 <= status < 300:
                    return response.content
                failure = DYDXHttpError(status, display, body_excerpt(response.content))
                if status == 429:
                    retry_after = _retry_after_secs(response.headers.get("retry-after"))
                    self.bucket.block_for(
                        min(self._delay_max, retry_after if retry_after is not None else 1.0),
                    )
                elif status < 500:
                    raise failure
            if attempt >= self.max_retries:
                raise failure
            await asyncio.sleep(self._backoff(attempt, retry_after))
            attempt += 1

    async def _get(self, route: str, kind: Any, params: dict[str, str] | None = None) -> Any:
        body = await self.get_raw(route, params)
        try:
            return _decoder(kind).decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as e:
            detail = f"{e}; body: {body_excerpt(body)}"
            raise DYDXDecodeError(200, "/v4/" + route, detail) from None

    # -- Routes --------------------------------------------------------------------------------

    async def get_time(self) -> schemas.TimeResponse:
        """Return the server time (`GET /time`)."""
        return await self._get("time", schemas.TimeResponse)

    async def get_height(self) -> schemas.HeightResponse:
        """Return the last block the Indexer processed (`GET /height`)."""
        return await self._get("height", schemas.HeightResponse)

    async def get_perpetual_markets(
        self,
        ticker: str | None = None,
        limit: int | None = None,
    ) -> dict[str, schemas.PerpetualMarket]:
        """
        Return the perpetual markets by ticker (`GET /perpetualMarkets`).

        Parameters
        ----------
        ticker : str, optional
            Only this market.
        limit : int, optional
            At most this many markets.

        Returns
        -------
        dict[str, PerpetualMarket]

        """
        params = _params(ticker=ticker, limit=limit)
        response = await self._get("perpetualMarkets", schemas.PerpetualMarketsResponse, params)
        return response.markets

    async def get_orderbook(self, ticker: str) -> schemas.OrderBookResponse:
        """
        Return the L2 snapshot of `ticker` (at most 100 levels per side).

        Parameters
        ----------
        ticker : str
            The market, e.g. ``BTC-USD``.

        Returns
        -------
        OrderBookResponse

        """
        route = f"orderbooks/perpetualMarket/{_segment(ticker)}"
        return await self._get(route, schemas.OrderBookResponse)

    async def get_trades(
        self,
        ticker: str,
        limit: int | None = None,
        created_before_or_at_height: int | None = None,
        created_before_or_at: str | None = None,
        page: int | None = None,
    ) -> schemas.TradesResponse:
        """
        Return one page of public trades of `ticker`, newest first.

        Parameters
        ----------
        ticker : str
            The market.
        limit : int, optional
            The page size (at most 1000).
        created_before_or_at_height : int, optional
            Inclusive height cursor.
        created_before_or_at : str, optional
            Inclusive ISO time cursor.
        page : int, optional
            The 1-based page number.

        Returns
        -------
        TradesResponse

        """
        params = _params(
            limit=limit,
            createdBeforeOrAtHeight=created_before_or_at_height,
            createdBeforeOrAt=created_before_or_at,
            page=page,
        )
        route = f"trades/perpetualMarket/{_segment(ticker)}"
        return await self._get(route, schemas.TradesResponse, params)

    async def get_candles(
        self,
        ticker: str,
        resolution: str,
        limit: int | None = None,
        from_iso: str | None = None,
        to_iso: str | None = None,
    ) -> list[schemas.Candle]:
        """
        Return candles of `ticker`, newest first.

        Parameters
        ----------
        ticker : str
            The market.
        resolution : str
            ``1MIN``, ``5MINS``, ``15MINS``, ``30MINS``, ``1HOUR``, ``4HOURS`` or ``1DAY``.
        limit : int, optional
            At most this many (at most 1000).
        from_iso : str, optional
            Inclusive start on `startedAt`.
        to_iso : str, optional
            Exclusive end on `startedAt`.

        Returns
        -------
        list[Candle]

        """
        params = _params(resolution=resolution, limit=limit, fromISO=from_iso, toISO=to_iso)
        response = await self._get(
            f"candles/perpetualMarkets/{_segment(ticker)}", schemas.CandlesResponse, params,
        )
        return response.candles

    async def get_historical_funding(
        self,
        ticker: str,
        limit: int | None = None,
        effective_before_or_at_height: int | None = None,
        effective_before_or_at: str | None = None,
    ) -> list[schemas.HistoricalFunding]:
        """
        Return 1-hour funding rates of `ticker`, newest first.

        Parameters
        ----------
        ticker : str
            The market.
        limit : int, optional
            At most this many (at most 1000).
        effective_before_or_at_height : int, optional
            Inclusive height cursor.
        effective_before_or_at : str, optional
            Inclusive ISO time cursor.

        Returns
        -------
        list[HistoricalFunding]

        """
        params = _params(
            limit=limit,
            effectiveBeforeOrAtHeight=effective_before_or_at_height,
            effectiveBeforeOrAt=effective_before_or_at,
        )
        response = await self._get(
            f"historicalFunding/{_segment(ticker)}", schemas.HistoricalFundingResponse, params,
        )
        return response.historical_funding

    async def get_address(self, address: str) -> schemas.AddressResponse:
        """
        Return every subaccount of `address`.

        Parameters
        ----------
        address : str
            The ``dydx1...`` address.

        Returns
        -------
        AddressResponse

        """
        return await self._get(f"addresses/{_segment(address)}", schemas.AddressResponse)

    async def get_subaccount(self, address: str, subaccount_number: int) -> schemas.Subaccount:
        """
        Return one subaccount with its open positions and balances.

        Parameters
        ----------
        address : str
            The owner address.
        subaccount_number : int
            The subaccount number.

        Returns
        -------
        Subaccount

        """
        route = f"addresses/{_segment(address)}/subaccountNumber/{_segment(subaccount_number)}"
        return (await self._get(route, schemas.SubaccountResponse)).subaccount

    async def get_parent_subaccount(
        self,
        address: str,
        parent_subaccount_number: int,
    ) -> schemas.ParentSubaccount:
        """
        Return a parent subaccount with its isolated child subaccounts.

        Parameters
        ----------
        address : str
            The owner address.
        parent_subaccount_number : int
            The parent number, 0 to 127.

        Returns
        -------
        ParentSubaccount

        """
        number = _segment(parent_subaccount_number)
        route = f"addresses/{_segment(address)}/parentSubaccountNumber/{number}"
        return (await self._get(route, schemas.ParentSubaccountResponse)).subaccount

    async def get_perpetual_positions(
        self,
        address: str,
        subaccount_number: int,
        status: Sequence[str] | None = None,
        limit: int | None = None,
        created_before_or_at_height: int | None = None,
        created_before_or_at: str | None = None,
        parent: bool = False,
    ) -> list[schemas.PerpetualPosition]:
        """
        Return perpetual positions of a subaccount, newest first.

        Parameters
        ----------
        address : str
            The owner address.
        subaccount_number : int
            The subaccount number.
        status : Sequence[str], optional
            ``OPEN``, ``CLOSED``, ``LIQUIDATED``.
        limit : int, optional
            At most this many.
        created_before_or_at_height : int, optional
            Inclusive height cursor.
        created_before_or_at : str, optional
            Inclusive ISO time cursor.
        parent : bool, default False
            Read `subaccount_number` as a parent number (0 to 127) and include its
            isolated children (the ``.../parentSubaccount...`` variant of the route).

        Returns
        -------
        list[PerpetualPosition]

        """
        params = _params(
            **_account_params(address, subaccount_number, parent),
            status=status,
            limit=limit,
            createdBeforeOrAtHeight=created_before_or_at_height,
            createdBeforeOrAt=created_before_or_at,
        )
        route = _account_route("perpetualPositions", parent)
        response = await self._get(route, schemas.PerpetualPositionsResponse, params)
        return response.positions

    async def get_asset_positions(
        self,
        address: str,
        subaccount_number: int,
        parent: bool = False,
    ) -> list[schemas.AssetPosition]:
        """
        Return the asset (USDC) balances of a subaccount.

        Parameters
        ----------
        address : str
            The owner address.
        subaccount_number : int
            The subaccount number.
        parent : bool, default False
            Read `subaccount_number` as a parent number (0 to 127) and include its
            isolated children (the ``.../parentSubaccount...`` variant of the route).

        Returns
        -------
        list[AssetPosition]

        """
        params = _params(**_account_params(address, subaccount_number, parent))
        route = _account_route("assetPositions", parent)
        response = await self._get(route, schemas.AssetPositionsResponse, params)
        return response.positions

    async def get_orders(
        self,
        address: str,
        subaccount_number: int,
        limit: int | None = None,
        ticker: str | None = None,
        side: str | None = None,
        status: Sequence[str] | None = None,
        order_type: str | None = None,
        good_til_block_before_or_at: int | None = None,
        good_til_block_after: int | None = None,
        good_til_block_time_before_or_at: str | None = None,
        good_til_block_time_after: str | None = None,
        return_latest_orders: bool | None = None,
        parent: bool = False,
    ) -> list[schemas.Order]:
        """
        Return orders of a subaccount, sorted by good-til-block then good-til-block-time.

        Parameters
        ----------
        address : str
            The owner address.
        subaccount_number : int
            The subaccount number.
        limit : int, optional
            At most this many (at most 1000).
        ticker : str, optional
            The market.
        side : str, optional
            ``BUY`` or ``SELL``.
        status : Sequence[str], optional
            E.g. ``["OPEN", "UNTRIGGERED"]``.
        order_type : str, optional
            One order type.
        good_til_block_before_or_at : int, optional
            Short-term expiry at or below.
        good_til_block_after : int, optional
            Short-term expiry above.
        good_til_block_time_before_or_at : str, optional
            Stateful expiry (ISO) at or before.
        good_til_block_time_after : str, optional
            Stateful expiry (ISO) after.
        return_latest_orders : bool, optional
            Descending (default) when true, ascending when false.
        parent : bool, default False
            Read `subaccount_number` as a parent number (0 to 127) and include its
            isolated children (the ``.../parentSubaccount...`` variant of the route).

        Returns
        -------
        list[Order]

        """
        params = _params(
            **_account_params(address, subaccount_number, parent),
            limit=limit,
            ticker=ticker,
            side=side,
            status=status,
            type=order_type,
            goodTilBlockBeforeOrAt=good_til_block_before_or_at,
            goodTilBlockAfter=good_til_block_after,
            goodTilBlockTimeBeforeOrAt=good_til_block_time_before_or_at,
            goodTilBlockTimeAfter=good_til_block_time_after,
            returnLatestOrders=return_latest_orders,
        )
        route = _account_route("orders", parent)
        return await self._get(route, list[schemas.Order], params)

    async def get_order(self, order_id: str) -> schemas.Order:
        """
        Return one order by its Indexer UUID.

        Parameters
        ----------
        order_id : str
            The UUID (computable locally, §2.14).

        Returns
        -------
        Order

        """
        return await self._get(f"orders/{_segment(order_id)}", schemas.Order)

    async def get_fills(
        self,
        address: str,
        subaccount_number: int,
        market: str | None = None,
        limit: int | None = None,
        created_before_or_at_height: int | None = None,
        created_before_or_at: str | None = None,
        page: int | None = None,
        parent: bool = False,
    ) -> schemas.FillsResponse:
        """
        Return one page of own fills, newest first.

        Parameters
        ----------
        address : str
            The owner address.
        subaccount_number : int
            The subaccount number.
        market : str, optional
            Only this market (sent with ``marketType=PERPETUAL``).
        limit : int, optional
            The page size.
        created_before_or_at_height : int, optional
            Inclusive height cursor.
        created_before_or_at : str, optional
            Inclusive ISO time cursor.
        page : int, optional
            The 1-based page number.
        parent : bool, default False
            Read `subaccount_number` as a parent number (0 to 127) and include its
            isolated children (the ``.../parentSubaccount...`` variant of the route).

        Returns
        -------
        FillsResponse

        """
        params = _params(
            **_account_params(address, subaccount_number, parent),
            market=market,
            marketType="PERPETUAL" if market is not None else None,
            limit=limit,
            createdBeforeOrAtHeight=created_before_or_at_height,
            createdBeforeOrAt=created_before_or_at,
            page=page,
        )
        route = _account_route("fills", parent)
        return await self._get(route, schemas.FillsResponse, params)

    async def get_transfers(
        self,
        address: str,
        subaccount_number: int,
        limit: int | None = None,
        created_before_or_at_height: int | None = None,
        created_before_or_at: str | None = None,
        page: int | None = None,
        parent: bool = False,
    ) -> schemas.TransfersResponse:
        """
        Return one page of transfers of a subaccount, newest first.

        Parameters
        ----------
        address : str
            The owner address.
        subaccount_number : int
            The subaccount number.
        limit : int, optional
            The page size.
        created_before_or_at_height : int, optional
            Inclusive height cursor.
        created_before_or_at : str, optional
            Inclusive ISO time cursor.
        page : int, optional
            The 1-based page number.
        parent : bool, default False
            Read `subaccount_number` as a parent number (0 to 127) and include its
            isolated children (the ``.../parentSubaccount...`` variant of the route).

        Returns
        -------
        TransfersResponse

        """
        params = _params(
            **_account_params(address, subaccount_number, parent),
            limit=limit,
            createdBeforeOrAtHeight=created_before_or_at_height,
            createdBeforeOrAt=created_before_or_at,
            page=page,
        )
        route = _account_route("transfers", parent)
        return await self._get(route, schemas.TransfersResponse, params)

    async def get_historical_pnl(
        self,
        address: str,
        subaccount_number: int,
        limit: int | None = None,
        created_before_or_at_height: int | None = None,
        created_before_or_at: str | None = None,
        page: int | None = None,
        parent: bool = False,
    ) -> schemas.HistoricalPnlResponse:
        """
        Return one page of hourly equity/PnL ticks, newest first.

        Parameters
        ----------
        address : str
            The owner address.
        subaccount_number : int
            The subaccount number.
        limit : int, optional
            The page size.
        created_before_or_at_height : int, optional
            Inclusive height cursor.
        created_before_or_at : str, optional
            Inclusive ISO time cursor.
        page : int, optional
            The 1-based page number.
        parent : bool, default False
            Read `subaccount_number` as a parent number (0 to 127) and include its
            isolated children (the ``.../parentSubaccount...`` variant of the route).

        Returns
        -------
        HistoricalPnlResponse

        """
        params = _params(
            **_account_params(address, subaccount_number, parent),
            limit=limit,
            createdBeforeOrAtHeight=created_before_or_at_height,
            createdBeforeOrAt=created_before_or_at,
            page=page,
        )
        route = _account_route("historical-pnl", parent)
        return await self._get(route, schemas.HistoricalPnlResponse, params)

    async def get_funding_payments(
        self,
        address: str,
        subaccount_number: int,
        limit: int | None = None,
        ticker: str | None = None,
        after_or_at: str | None = None,
        page: int | None = None,
        parent: bool = False,
    ) -> schemas.FundingPaymentsResponse:
        """
        Return one page of funding payments of a subaccount.

        Parameters
        ----------
        address : str
            The owner address.
        subaccount_number : int
            The subaccount number.
        limit : int, optional
            The page size.
        ticker : str, optional
            The market.
        after_or_at : str, optional
            Inclusive ISO start.
        page : int, optional
            The 1-based page number.
        parent : bool, default False
            Read `subaccount_number` as a parent number (0 to 127) and include its
            isolated children (the ``.../parentSubaccount...`` variant of the route).

        Returns
        -------
        FundingPaymentsResponse

        """
        params = _params(
            **_account_params(address, subaccount_number, parent),
            limit=limit,
            ticker=ticker,
            afterOrAt=after_or_at,
            page=page,
        )
        route = _account_route("fundingPayments", parent)
        return await self._get(route, schemas.FundingPaymentsResponse, params)

    # -- Pagers --------------------------------------------------------------------------------

    async def _page_by_height(
        self,
        route: str,
        fetch: Callable[[int, int | None, int | None], Any],
        items_of: Callable[[Any], list[T]],
        key_of: Callable[[T], str],
        height_of: Callable[[T], int],
        limit: int,
        pageable: bool,
    ) -> AsyncIterator[T]:
        # Inclusive height cursor, de-duplicated by key; a full page at one height switches
        # to page numbers under that fixed cursor (offsets below it are stable)
        seen: set[str] = set()
        cursor: int | None = None
        page: int | None = None
        while True:
            items = items_of(await fetch(limit, cursor, page))
            for item in items:
                key = key_of(item)
                if key not in seen:
                    seen.add(key)
                    yield item
            if len(items) < limit:
                return
            lowest = min(height_of(item) for item in items)
            stalled = lowest >= cursor if cursor is not None else (
                lowest == max(height_of(item) for item in items)
            )
            if page is not None:
                page += 1
            elif stalled:
                if not pageable:
                    raise DYDXPaginationError(
                        None, route, f"more than {limit} items at height {lowest}",
                    )
                cursor = lowest
                page = 2
            else:
                cursor = lowest

    def iter_trades(
        self,
        ticker: str,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[schemas.Trade]:
        """
        Iterate over every public trade of `ticker`, newest first, without gaps or duplicates.

        Parameters
        ----------
        ticker : str
            The market.
        page_size : int, default 1000
            Items per request.

        Returns
        -------
        AsyncIterator[Trade]

        """
        return self._page_by_height(
            f"/v4/trades/perpetualMarket/{ticker}",
            lambda limit, height, page: self.get_trades(
                ticker, limit, created_before_or_at_height=height, page=page,
            ),
            lambda response: response.trades,
            lambda item: item.id,
            lambda item: int(item.created_at_height),
            _check_page_size(page_size),
            pageable=True,
        )

    def iter_fills(
        self,
        address: str,
        subaccount_number: int,
        market: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        parent: bool = False,
    ) -> AsyncIterator[schemas.Fill]:
        """
        Iterate over every fill of a subaccount, newest first, without gaps or duplicates.

        Parameters
        ----------
        address : str
            The owner address.
        subaccount_number : int
            The subaccount number.
        market : str, optional
            Only this market.
        page_size : int, default 1000
            Items per request.
        parent : bool, default False
            Read `subaccount_number` as a parent number.

        Returns
        -------
        AsyncIterator[Fill]

        """
        return self._page_by_height(
            "/v4/fills",
            lambda limit, height, page: self.get_fills(
                address, subaccount_number, market, limit,
                created_before_or_at_height=height, page=page, parent=parent,
            ),
            lambda response: response.fills,
            lambda item: item.id,
            lambda item: int(item.created_at_height),
            _check_page_size(page_size),
            pageable=True,
        )

    def iter_transfers(
        self,
        address: str,
        subaccount_number: int,
        page_size: int = MAX_PAGE_SIZE,
        parent: bool = False,
    ) -> AsyncIterator[schemas.Transfer]:
        """
        Iterate over every transfer of a subaccount, newest first.

        Parameters
        ----------
        address : str
            The owner address.
        subaccount_number : int
            The subaccount number.
        page_size : int, default 1000
            Items per request.
        parent : bool, default False
            Read `subaccount_number` as a parent number.

        Returns
        -------
        AsyncIterator[Transfer]

        """
        return self._page_by_height(
            "/v4/transfers",
            lambda limit, height, page: self.get_transfers(
                address, subaccount_number, limit,
                created_before_or_at_height=height, page=page, parent=parent,
            ),
            lambda response: response.transfers,
            lambda item: item.id,
            lambda item: int(item.created_at_height),
            _check_page_size(page_size),
            pageable=True,
        )

    def iter_historical_pnl(
        self,
        address: str,
        subaccount_number: int,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[schemas.HistoricalPnl]:
        """
        Iterate over every equity/PnL tick of a subaccount, newest first.

        Parameters
        ----------
        address : str
            The owner address.
        subaccount_number : int
            The subaccount number.
        page_size : int, default 1000
            Items per request.

        Returns
        -------
        AsyncIterator[HistoricalPnl]

        """
        return self._page_by_height(
            "/v4/historical-pnl",
            lambda limit, height, page: self.get_historical_pnl(
                address, subaccount_number, limit, created_before_or_at_height=height, page=page,
            ),
            lambda response: response.historical_pnl,
            lambda item: f"{item.block_height}/{item.created_at}",
            lambda item: int(item.block_height),
            _check_page_size(page_size),
            pageable=True,
        )

    def iter_historical_funding(
        self,
        ticker: str,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[schemas.HistoricalFunding]:
        """
        Iterate over every funding rate of `ticker`, newest first.

        Parameters
        ----------
        ticker : str
            The market.
        page_size : int, default 1000
            Items per request.

        Returns
        -------
        AsyncIterator[HistoricalFunding]

        Raises
        ------
        DYDXPaginationError
            If more than `page_size` rates share one height (the route has no page number).

        """
        return self._page_by_height(
            f"/v4/historicalFunding/{ticker}",
            lambda limit, height, page: self.get_historical_funding(
                ticker, limit, effective_before_or_at_height=height,
            ),
            lambda items: items,
            lambda item: f"{item.ticker}/{item.effective_at_height}/{item.effective_at}",
            lambda item: int(item.effective_at_height),
            _check_page_size(page_size),
            pageable=False,
        )

    async def iter_candles(
        self,
        ticker: str,
        resolution: str,
        from_iso: str | None = None,
        to_iso: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[schemas.Candle]:
        """
        Iterate over the candles of `ticker` in [from_iso, to_iso), newest first.

        Parameters
        ----------
        ticker : str
            The market.
        resolution : str
            The bar resolution, e.g. ``1MIN``.
        from_iso : str, optional
            Inclusive start.
        to_iso : str, optional
            Exclusive end.
        page_size : int, default 1000
            Items per request.

        Yields
        ------
        Candle

        """
        limit = _check_page_size(page_size)
        seen: set[str] = set()
        end = to_iso
        while True:
            candles = await self.get_candles(ticker, resolution, limit, from_iso, end)
            fresh = [c for c in candles if c.started_at not in seen]
            for candle in fresh:
                seen.add(candle.started_at)
                yield candle
            if len(candles) < limit or not fresh:
                return
            # `toISO` is exclusive: the oldest start seen is the next end
            end = min(c.started_at for c in candles)

    async def iter_orders(
        self,
        address: str,
        subaccount_number: int,
        page_size: int = MAX_PAGE_SIZE,
        **filters: Any,
    ) -> AsyncIterator[schemas.Order]:
        """
        Iterate over every order of a subaccount: short-term by good-til-block, then stateful.

        Parameters
        ----------
        address : str
            The owner address.
        subaccount_number : int
            The subaccount number.
        page_size : int, default 1000
            Items per request.
        **filters : Any
            `ticker`, `side`, `status`, `order_type`, `parent` as in `get_orders`.

        Yields
        ------
        Order

        Raises
        ------
        DYDXPaginationError
            If more than `page_size` orders share one expiry (the route has no page number).

        """
        limit = _check_page_size(page_size)
        seen: set[str] = set()
        short_cursor: int | None = _MAX_UINT32
        while short_cursor is not None:
            orders = await self.get_orders(
                address, subaccount_number, limit,
                good_til_block_before_or_at=short_cursor, **filters,
            )
            for order in orders:
                if order.id not in seen:
                    seen.add(order.id)
                    yield order
            short_cursor = self._next_cursor(
                orders, limit, short_cursor, lambda o: int(o.good_til_block or 0),
            )
        time_cursor: str | None = _FAR_FUTURE_ISO
        while time_cursor is not None:
            orders = await self.get_orders(
                address, subaccount_number, limit,
                good_til_block_time_before_or_at=time_cursor, **filters,
            )
            for order in orders:
                if order.id not in seen:
                    seen.add(order.id)
                    yield order
            time_cursor = self._next_cursor(
                orders, limit, time_cursor, lambda o: o.good_til_block_time or "",
            )

    @staticmethod
    def _next_cursor(orders: list[schemas.Order], limit: int, cursor: Any, key: Callable) -> Any:
        if len(orders) < limit:
            return None
        lowest = min(key(o) for o in orders)
        if lowest == cursor or lowest == max(key(o) for o in orders):
            raise DYDXPaginationError(
                None, "/v4/orders", f"more than {limit} orders expire at {lowest}",
            )
        return lowest


def _retry_after_secs(text: str | None) -> float | None:
    # The Indexer sends milliseconds (protocol reference §2.1)
    if text is None:
        return None
    try:
        return max(0.0, float(text) / 1000.0)
    except ValueError:
        return None
