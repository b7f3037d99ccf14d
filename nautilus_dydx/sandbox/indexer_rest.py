# SPDX-License-Identifier: Apache-2.0
"""The sandbox Indexer REST API (`/v4/...`) over `IndexerState`, with limits and 429s."""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable
from decimal import Decimal

import orjson

from nautilus_dydx.sandbox.http_server import HttpServer
from nautilus_dydx.sandbox.http_server import Request
from nautilus_dydx.sandbox.http_server import Response
from nautilus_dydx.sandbox.indexer_state import RESOLUTIONS
from nautilus_dydx.sandbox.indexer_state import IndexerState
from nautilus_dydx.sandbox.indexer_state import iso
from nautilus_dydx.sandbox.indexer_state import parse_iso


MAX_LIMIT = 1000
_LIMIT_MESSAGE = "limit must be a positive integer that is not greater than max: 1000"
_ADDRESS = re.compile(r"^dydx1[02-9ac-hj-np-z]{38,58}$")
_ORDER_STATUSES = (
    "OPEN", "FILLED", "CANCELED", "BEST_EFFORT_CANCELED", "UNTRIGGERED", "BEST_EFFORT_OPENED",
)


class BadRequest(Exception):
    """
    A 400 validation failure.

    Parameters
    ----------
    param : str
        The offending parameter.
    value : object
        Its value.
    msg : str
        The message.

    """

    def __init__(self, param: str, value: object, msg: str) -> None:
        super().__init__(msg)
        self.param = param
        self.value = value
        self.msg = msg


class NotFound(Exception):
    """A 404 with the given message."""


def _json(status: int, payload: object, headers: dict[str, str] | None = None) -> Response:
    return Response(status, orjson.dumps(payload), headers or {})


def _limit(request: Request) -> int:
    text = request.param("limit")
    if text is None:
        return MAX_LIMIT
    try:
        value = int(text)
    except ValueError:
        raise BadRequest("limit", text, _LIMIT_MESSAGE) from None
    if value <= 0 or value > MAX_LIMIT:
        raise BadRequest("limit", text, _LIMIT_MESSAGE)
    return value


def _int_param(request: Request, name: str, low: int = 0, high: int | None = None) -> int | None:
    text = request.param(name)
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(name, text, f"{name} must be an integer") from None
    if value < low or (high is not None and value > high):
        raise BadRequest(name, text, f"{name} must be an integer in [{low}, {high}]")
    return value


def _iso_param(request: Request, name: str) -> int | None:
    text = request.param(name)
    if text is None:
        return None
    try:
        return parse_iso(text)
    except ValueError:
        raise BadRequest(name, text, f"{name} must be a valid ISO 8601 date") from None


def _list_param(request: Request, name: str) -> list[str]:
    values: list[str] = []
    for raw in request.params(name):
        values.extend(v.strip().upper() for v in raw.split(",") if v.strip())
    return values


def _address(value: str | None, name: str = "address") -> str:
    if value is None:
        raise BadRequest(name, value, f"{name} is required")
    if not _ADDRESS.match(value):
        raise BadRequest(name, value, "address must be a valid dydx address")
    return value


def _subaccount_number(request: Request) -> int:
    if request.param("subaccountNumber") is None:
        raise BadRequest("subaccountNumber", None, "subaccountNumber is required")
    value = _int_param(request, "subaccountNumber", 0, 128_000)
    assert value is not None
    return value


def _before(items: list[dict], request: Request, height_key: str = "createdAtHeight",
            time_key: str = "createdAt", height_param: str = "createdBeforeOrAtHeight",
            time_param: str = "createdBeforeOrAt") -> list[dict]:
    height = _int_param(request, height_param)
    moment = _iso_param(request, time_param)
    if height is not None:
        items = [i for i in items if int(i[height_key]) <= height]
    if moment is not None:
        items = [i for i in items if parse_iso(i[time_key]) <= moment]
    return items


def _page(items: list[dict], request: Request, key: str) -> dict:
    limit = _limit(request)
    page = _int_param(request, "page", 1)
    if page is None:
        return {key: items[:limit]}
    offset = (page - 1) * limit
    return {
        key: items[offset: offset + limit],
        "pageSize": limit,
        "totalResults": len(items),
        "offset": offset,
    }


class RateLimiter:
    """
    The venue's sliding-window request budgets per client host (protocol reference 2.1).

    Every route shares `limit` requests per window except candles, which have their own
    `candles_limit`. Answers carry `RateLimit-Limit`, `RateLimit-Remaining` and
    `RateLimit-Reset` (epoch ms); a refusal adds `Retry-After` (ms).

    Parameters
    ----------
    limit : int, default 100
        The requests allowed per window.
    window_s : float, default 10.0
        The window length in seconds.
    clock : Callable[[], float], default time.monotonic
        The clock (for tests).
    candles_limit : int | None, default 1000
        The candles budget per window; None counts candles in the common budget.

    """

    def __init__(
        self,
        limit: int = 100,
        window_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        candles_limit: int | None = 1000,
    ) -> None:
        if limit <= 0 or window_s <= 0 or (candles_limit is not None and candles_limit <= 0):
            raise ValueError(f"invalid rate limit, was {limit} per {window_s} s")
        self.limit = limit
        self.window_s = window_s
        self.candles_limit = candles_limit
        self._clock = clock
        self._hits: dict[tuple[str, bool], deque[float]] = {}

    def check(self, peer: str, path: str = "") -> tuple[bool, dict[str, str]]:
        """
        Count one request from `peer` for `path`; return (allowed, headers).

        Parameters
        ----------
        peer : str
            The client host.
        path : str, default ""
            The request path (candles have their own budget).

        Returns
        -------
        tuple[bool, dict[str, str]]

        """
        candles = self.candles_limit is not None and path.startswith("/v4/candles/")
        limit = self.candles_limit if candles else self.limit
        assert limit is not None
        now = self._clock()
        hits = self._hits.setdefault((peer, candles), deque())
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        reset_s = (hits[0] + self.window_s) if hits else now + self.window_s
        reset_ms = int((time.time() + (reset_s - now)) * 1000)
        if len(hits) >= limit:
            retry_ms = max(1, int((reset_s - now) * 1000))
            return False, {
                "RateLimit-Limit": str(limit),
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset_ms),
                "Retry-After": str(retry_ms),
            }
        hits.append(now)
        return True, {
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": str(limit - len(hits)),
            "RateLimit-Reset": str(reset_ms),
        }


class IndexerRestServer:
    """
    The sandbox Indexer REST server: every §2 route the adapter uses, under `/v4`.

    Parameters
    ----------
    state : IndexerState
        The read model.
    host : str, default "127.0.0.1"
        The loopback bind address.
    port : int, default 0
        The port; 0 picks a free one.
    rate_limit : RateLimiter | None, default None
        When given, requests beyond the budget answer 429 with the RateLimit headers.
    faults : object | None, default None
        A `Faults` controller consulted before each request, and serving `/control/...`.

    """

    def __init__(
        self,
        state: IndexerState,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: RateLimiter | None = None,
        faults: object | None = None,
    ) -> None:
        self.state = state
        self.rate_limit = rate_limit
        self.faults = faults
        self.requests = 0
        self._http = HttpServer(self.handle, host, port, "REST", "--http-port")

    @property
    def port(self) -> int:
        """The bound port."""
        return self._http.port

    @property
    def connections(self) -> int:
        """The number of distinct TCP connections served so far."""
        return self._http.connections

    @property
    def base_url(self) -> str:
        """The `http://host:port/v4` base URL."""
        return f"http://{self._http.host}:{self._http.port}/v4"

    async def start(self) -> None:
        """Bind and start serving."""
        await self._http.start()

    async def stop(self) -> None:
        """Stop serving (idempotent)."""
        await self._http.stop()

    async def handle(self, request: Request) -> Response:
        """
        Answer one request.

        Parameters
        ----------
        request : Request
            The request.

        Returns
        -------
        Response

        """
        self.requests += 1
        if request.path.startswith("/control/") and self.faults is not None:
            return await self.faults.handle_control(request)  # type: ignore[attr-defined]
        if request.method != "GET":
            return _json(405, {"errors": [{"msg": f"Cannot {request.method} {request.path}"}]})
        headers: dict[str, str] = {}
        if self.rate_limit is not None:
            allowed, headers = self.rate_limit.check(request.peer, request.path)
            if not allowed:
                return _json(429, {"errors": [{"msg": "Too many requests"}]}, headers)
        if self.faults is not None:
            forced = self.faults.rest_fault(request.path)  # type: ignore[attr-defined]
            if forced is not None:
                return forced
        try:
            payload = self.route(request)
        except BadRequest as e:
            return _json(
                400,
                {"errors": [{"type": "field", "value": e.value, "msg": e.msg, "path": e.param,
                             "location": "query"}]},
                headers,
            )
        except NotFound as e:
            return _json(404, {"errors": [{"msg": str(e)}]}, headers)
        # Occasional unknown fields (SandboxConfig.extra_fields), as a newer Indexer adds them
        return _json(200, self.state.extra_fields.apply(payload), headers)

    def route(self, request: Request) -> object:
        """
        Return the JSON payload of a GET route.

        Parameters
        ----------
        request : Request
            The request.

        Returns
        -------
        object

        Raises
        ------
        BadRequest
            On invalid parameters.
        NotFound
            On an unknown route, ticker, subaccount or order.

        """
        path = request.path
        if not path.startswith("/v4/"):
            raise NotFound(f"Cannot GET {path}")
        parts = [p for p in path[4:].split("/") if p]
        if not parts:
            raise NotFound(f"Cannot GET {path}")
        head = parts[0]
        if parts == ["time"]:
            return {"iso": iso(time.time_ns()), "epoch": round(time.time(), 3)}
        if parts == ["height"]:
            return {"height": str(self.state.height), "time": iso(self.state.time_ns)}
        if parts == ["perpetualMarkets"]:
            return self._markets(request)
        if len(parts) == 3 and parts[:2] == ["orderbooks", "perpetualMarket"]:
            return self.state.book_json(self._ticker(parts[2]))
        if len(parts) == 3 and parts[:2] == ["trades", "perpetualMarket"]:
            market = self.state.markets[self._ticker(parts[2])]
            trades = _before(list(reversed(market.trades)), request)
            return _page(trades, request, "trades")
        if len(parts) == 3 and parts[:2] == ["candles", "perpetualMarkets"]:
            return self._candles(self._ticker(parts[2]), request)
        if len(parts) == 2 and head == "historicalFunding":
            market = self.state.markets[self._ticker(parts[1])]
            items = _before(
                list(reversed(market.funding)), request, "effectiveAtHeight", "effectiveAt",
                "effectiveBeforeOrAtHeight", "effectiveBeforeOrAt",
            )
            return {"historicalFunding": items[: _limit(request)]}
        if head == "addresses":
            return self._addresses(parts)
        if len(parts) == 2 and (head, parts[1]) in _PARENT_ROUTES:
            return self._parent_route(head, request)
        if parts == ["perpetualPositions"]:
            sub = self._subaccount(request)
            statuses = _list_param(request, "status")
            items = [self.state.position_json(sub, p) for p in reversed(sub.positions)]
            if statuses:
                items = [p for p in items if p["status"] in statuses]
            items = _before(items, request)
            return {"positions": items[: _limit(request)]}
        if parts == ["assetPositions"]:
            sub = self._subaccount(request)
            positions = [self.state.asset_json(sub)] if sub.usdc != 0 else []
            return {"positions": positions}
        if parts == ["orders"]:
            return self._orders(request)
        if len(parts) == 2 and head == "orders":
            order = self.state.orders.get(parts[1])
            if order is None:
                raise NotFound(f"Unable to find order with orderId: {parts[1]}")
            return order
        if parts == ["fills"]:
            sub = self._subaccount(request)
            return self._filter_fills(list(reversed(sub.fills)), request)
        if parts == ["transfers"]:
            sub = self._subaccount(request)
            return _page(_before(list(reversed(sub.transfers)), request), request, "transfers")
        if parts == ["fundingPayments"]:
            return self._funding_payments(request, [self._subaccount(request)])
        if parts == ["fundingPayments", "parentSubaccount"]:
            return self._funding_payments(request, self._children(request)[1])
        if parts == ["historical-pnl"]:
            sub = self._subaccount(request)
            items = _before(list(reversed(sub.pnl)), request, "blockHeight", "createdAt")
            return _page(items, request, "historicalPnl")
        raise NotFound(f"Cannot GET {path}")

    def _filter_fills(self, fills: list[dict], request: Request) -> dict:
        market = request.param("market")
        if market is not None and request.param("marketType") == "PERPETUAL":
            fills = [f for f in fills if f["market"] == market]
        include = _list_param(request, "includeTypes")
        exclude = _list_param(request, "excludeTypes")
        if include:
            fills = [f for f in fills if f["type"] in include]
        if exclude:
            fills = [f for f in fills if f["type"] not in exclude]
        return _page(_before(fills, request), request, "fills")

    def _children(self, request: Request) -> tuple[int, list]:
        address = _address(request.param("address"))
        if request.param("parentSubaccountNumber") is None:
            raise BadRequest("parentSubaccountNumber", None, "parentSubaccountNumber is required")
        parent = _int_param(request, "parentSubaccountNumber", 0, 127)
        assert parent is not None
        children = [
            s for (a, n), s in sorted(self.state.subaccounts.items(), key=lambda i: i[0][1])
            if a == address and n % 128 == parent
        ]
        if not children:
            raise NotFound(
                f"No subaccount found with address {address} and parentSubaccountNumber {parent}",
            )
        return parent, children

    def _parent_route(self, head: str, request: Request) -> object:
        # The parentSubaccountNumber variants of the account routes (§2.2): children p + 128·k
        parent, children = self._children(request)
        if head == "orders":
            orders = [o for sub in children for o in sub.orders.values()]
            return self._filter_orders(orders, request)
        if head == "fills":
            fills = [f for sub in children for f in sub.fills]
            fills.sort(key=lambda f: (int(f["createdAtHeight"]), f["createdAt"]), reverse=True)
            return self._filter_fills(fills, request)
        if head == "transfers":
            transfers = [
                t for sub in children for t in sub.transfers if not _between_siblings(t)
            ]
            transfers.sort(
                key=lambda t: (int(t["createdAtHeight"]), t["createdAt"]), reverse=True,
            )
            return _page(_before(transfers, request), request, "transfers")
        if head == "perpetualPositions":
            statuses = _list_param(request, "status")
            items = [
                self.state.position_json(sub, p) for sub in children for p in sub.positions
            ]
            items.sort(key=lambda p: (int(p["createdAtHeight"]), p["createdAt"]), reverse=True)
            if statuses:
                items = [p for p in items if p["status"] in statuses]
            return {"positions": _before(items, request)[: _limit(request)]}
        if head == "assetPositions":
            return {"positions": [self.state.asset_json(s) for s in children if s.usdc != 0]}
        totals: dict[str, dict] = {}
        for sub in children:
            for tick in sub.pnl:
                total = totals.setdefault(tick["blockHeight"], dict(tick, equity="0",
                                                                    totalPnl="0",
                                                                    netTransfers="0"))
                for key in ("equity", "totalPnl", "netTransfers"):
                    total[key] = _sum([total, tick], key)
        ticks = sorted(totals.values(), key=lambda t: int(t["blockHeight"]), reverse=True)
        items = _before(ticks, request, "blockHeight", "createdAt")
        return _page(items, request, "historicalPnl")

    def _ticker(self, ticker: str) -> str:
        if ticker not in self.state.markets:
            raise NotFound(f"{ticker} not found in markets of type PERPETUAL")
        return ticker

    def _markets(self, request: Request) -> dict:
        ticker = request.param("ticker")
        alias = request.param("market")
        if ticker is not None and alias is not None:
            raise BadRequest("ticker", ticker, "Only one of ticker or market may be provided")
        limit = _limit(request)
        ticker = ticker if ticker is not None else alias
        if ticker is not None:
            market = self.state.markets.get(ticker)
            if market is None:
                raise NotFound(f"{ticker} not found in markets of type PERPETUAL")
            return {"markets": {ticker: self.state.market_json(market)}}
        markets = sorted(self.state.markets.values(), key=lambda m: m.config.clob_pair_id)[:limit]
        return {"markets": {m.ticker: self.state.market_json(m) for m in markets}}

    def _candles(self, ticker: str, request: Request) -> dict:
        resolution = request.param("resolution")
        if resolution not in RESOLUTIONS:
            raise BadRequest(
                "resolution", resolution,
                f"resolution must be one of {', '.join(RESOLUTIONS)}",
            )
        limit = _limit(request)
        start = _iso_param(request, "fromISO")
        end = _iso_param(request, "toISO")
        candles = self.state.markets[ticker].candles[resolution]
        result = []
        for started in sorted(candles, reverse=True):
            started_ns = started * 1_000_000_000
            if start is not None and started_ns < start:
                continue
            if end is not None and started_ns >= end:
                continue
            result.append(dict(candles[started]))
            if len(result) >= limit:
                break
        return {"candles": result}

    def _addresses(self, parts: list[str]) -> dict:
        address = _address(parts[1] if len(parts) > 1 else None)
        if len(parts) == 2:
            subs = [s for (a, _), s in sorted(self.state.subaccounts.items()) if a == address]
            if not subs:
                raise NotFound(f"No subaccounts found for address {address}")
            return {
                "subaccounts": [self.state.subaccount_json(s) for s in subs],
                "totalTradingRewards": "0",
            }
        if len(parts) == 4 and parts[2] == "subaccountNumber":
            number = self._number(parts[3], 128_000)
            sub = self.state.subaccounts.get((address, number))
            if sub is None:
                raise NotFound(
                    f"No subaccount found with address {address} and subaccountNumber {number}",
                )
            return {"subaccount": self.state.subaccount_json(sub)}
        if len(parts) == 4 and parts[2] == "parentSubaccountNumber":
            parent = self._number(parts[3], 127)
            children = [
                s for (a, n), s in sorted(self.state.subaccounts.items())
                if a == address and n % 128 == parent
            ]
            if not children:
                raise NotFound(
                    f"No subaccount found with address {address} and "
                    f"parentSubaccountNumber {parent}",
                )
            views = [self.state.subaccount_json(s) for s in children]
            return {
                "subaccount": {
                    "address": address,
                    "parentSubaccountNumber": parent,
                    "equity": _sum(views, "equity"),
                    "freeCollateral": _sum(views, "freeCollateral"),
                    "childSubaccounts": views,
                },
            }
        raise NotFound("Cannot GET /v4/" + "/".join(parts))

    @staticmethod
    def _number(text: str, high: int) -> int:
        try:
            value = int(text)
        except ValueError:
            raise BadRequest(
                "subaccountNumber", text, "subaccountNumber must be an integer",
            ) from None
        if value < 0 or value > high:
            raise BadRequest("subaccountNumber", text, f"subaccountNumber must be in [0, {high}]")
        return value

    def _funding_payments(self, request: Request, subs: list) -> dict:
        """Answer `/fundingPayments` (§2.13) for one subaccount or a parent's children."""
        items = [p for sub in subs for p in sub.funding_payments]
        items.sort(key=lambda p: (int(p["createdAtHeight"]), p["ticker"]), reverse=True)
        ticker = request.param("ticker")
        if ticker is not None:
            items = [p for p in items if p["ticker"] == ticker]
        after = _iso_param(request, "afterOrAt")
        if after is not None:
            items = [p for p in items if parse_iso(p["createdAt"]) >= after]
        zero = (request.param("zeroPayments") or "false").lower()
        if zero not in ("true", "false"):
            raise BadRequest("zeroPayments", zero, "zeroPayments must be a boolean")
        if zero == "false":
            items = [p for p in items if Decimal(p["payment"]) != 0]
        return _page(items, request, "fundingPayments")

    def _subaccount(self, request: Request):
        address = _address(request.param("address"))
        number = _subaccount_number(request)
        sub = self.state.subaccounts.get((address, number))
        if sub is None:
            raise NotFound(
                f"No subaccount found with address {address} and subaccountNumber {number}",
            )
        return sub

    def _orders(self, request: Request) -> list[dict]:
        sub = self._subaccount(request)
        return self._filter_orders(list(sub.orders.values()), request)

    def _filter_orders(self, orders: list[dict], request: Request) -> list[dict]:
        limit = _limit(request)
        ticker = request.param("ticker")
        if ticker is not None:
            orders = [o for o in orders if o["ticker"] == ticker]
        side = request.param("side")
        if side is not None:
            if side.upper() not in ("BUY", "SELL"):
                raise BadRequest("side", side, "side must be one of BUY, SELL")
            orders = [o for o in orders if o["side"] == side.upper()]
        order_type = request.param("type")
        if order_type is not None:
            orders = [o for o in orders if o["type"] == order_type.upper()]
        include = _list_param(request, "includeTypes")
        exclude = _list_param(request, "excludeTypes")
        if include:
            orders = [o for o in orders if o["type"] in include]
        if exclude:
            orders = [o for o in orders if o["type"] not in exclude]
        statuses = _list_param(request, "status")
        for status in statuses:
            if status not in _ORDER_STATUSES:
                raise BadRequest(
                    "status", status, f"status must be one of {', '.join(_ORDER_STATUSES)}",
                )
        if statuses:
            orders = [o for o in orders if o["status"] in statuses]
        gtb_le = _int_param(request, "goodTilBlockBeforeOrAt")
        gtb_gt = _int_param(request, "goodTilBlockAfter")
        if gtb_le is not None:
            orders = [o for o in orders if "goodTilBlock" in o and int(o["goodTilBlock"]) <= gtb_le]
        if gtb_gt is not None:
            orders = [o for o in orders if "goodTilBlock" in o and int(o["goodTilBlock"]) > gtb_gt]
        gtbt_le = _iso_param(request, "goodTilBlockTimeBeforeOrAt")
        gtbt_gt = _iso_param(request, "goodTilBlockTimeAfter")
        if gtbt_le is not None:
            orders = [o for o in orders
                      if "goodTilBlockTime" in o and parse_iso(o["goodTilBlockTime"]) <= gtbt_le]
        if gtbt_gt is not None:
            orders = [o for o in orders
                      if "goodTilBlockTime" in o and parse_iso(o["goodTilBlockTime"]) > gtbt_gt]
        latest = request.param("returnLatestOrders")
        descending = latest is None or latest.lower() != "false"
        orders.sort(
            key=lambda o: (
                int(o.get("goodTilBlock", 0)),
                parse_iso(o["goodTilBlockTime"]) if "goodTilBlockTime" in o else 0,
            ),
            reverse=descending,
        )
        return orders[:limit]


_PARENT_ROUTES = {
    ("orders", "parentSubaccountNumber"),
    ("fills", "parentSubaccount"),
    ("transfers", "parentSubaccountNumber"),
    ("perpetualPositions", "parentSubaccountNumber"),
    ("assetPositions", "parentSubaccountNumber"),
    ("historical-pnl", "parentSubaccountNumber"),
}


def _between_siblings(transfer: dict) -> bool:
    # A transfer between two children of the same parent (hidden from parent views)
    sender = transfer["sender"]
    recipient = transfer["recipient"]
    return (
        sender["address"] == recipient["address"]
        and "subaccountNumber" in sender
        and "subaccountNumber" in recipient
        and sender["subaccountNumber"] % 128 == recipient["subaccountNumber"] % 128
    )


def _sum(views: list[dict], key: str) -> str:
    total = sum((Decimal(v[key]) for v in views), Decimal(0))
    return format(total.normalize(), "f") if total != 0 else "0"
