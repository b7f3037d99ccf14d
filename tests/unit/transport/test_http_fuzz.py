# SPDX-License-Identifier: Apache-2.0
"""Mutated Indexer REST bodies: DYDXHttpClient returns a value or raises its typed error only."""

from __future__ import annotations

import asyncio
import json

import httpx
import msgspec
import orjson
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_dydx.http import DYDXHttpClient
from nautilus_dydx.http import DYDXHttpError
from nautilus_dydx.http.errors import DYDXDecodeError
from nautilus_dydx.schemas import indexer as schemas
from tests.conftest import captures_dir
from tests.fuzz.corpus import Mutator


ADDRESS = "dydx1n56z5fhmemtffzkt2eqyf9kuc7ycjfs86mvqy7"
SHORT = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Capture -> (route served, call made)
CALLS = {
    "http_get_perpetual_markets": ("/v4/perpetualMarkets", lambda h: h.get_perpetual_markets()),
    "http_get_fills": ("/v4/fills", lambda h: h.get_fills(ADDRESS, 0)),
    "http_get_orders": ("/v4/orders", lambda h: h.get_orders(ADDRESS, 0)),
    "http_get_transfers": ("/v4/transfers", lambda h: h.get_transfers(ADDRESS, 0)),
    "http_get_candles": (
        "/v4/candles/perpetualMarkets/BTC-USD", lambda h: h.get_candles("BTC-USD", "1MIN"),
    ),
    "http_get_subaccount": (
        f"/v4/addresses/{ADDRESS}/subaccountNumber/0", lambda h: h.get_subaccount(ADDRESS, 0),
    ),
    "http_get_trades": ("/v4/trades/perpetualMarket/BTC-USD", lambda h: h.get_trades("BTC-USD")),
    "http_get_historical_funding": (
        "/v4/historicalFunding/BTC-USD", lambda h: h.get_historical_funding("BTC-USD"),
    ),
    "http_get_block_height": ("/v4/height", lambda h: h.get_height()),
    "http_get_orderbook": (
        "/v4/orderbooks/perpetualMarket/BTC-USD", lambda h: h.get_orderbook("BTC-USD"),
    ),
    "http_get_time": ("/v4/time", lambda h: h.get_time()),
}
FOLDER = captures_dir()
BODIES = (
    {name: orjson.dumps(orjson.loads((FOLDER / f"{name}.json").read_bytes())["result"])
     for name in CALLS}
    if FOLDER is not None else {}
)
needs_captures = pytest.mark.skipif(FOLDER is None, reason="shared captures not found")


def call_with_body(name: str, body: bytes) -> object:
    route, call = CALLS[name]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path != route:
            return httpx.Response(404, content=b'{"errors":[{"msg":"not found"}]}')
        return httpx.Response(200, content=body)

    async def scenario() -> object:
        async with DYDXHttpClient(
            "http://127.0.0.1:9", transport=httpx.MockTransport(handler),
            rate_limit_per_10s=10_000, max_retries=0,
        ) as http:
            return await call(http)

    return asyncio.run(scenario())


def decode_or_typed_error(name: str, body: bytes) -> object | None:
    try:
        return call_with_body(name, body)
    except DYDXHttpError as e:
        # Typed, with the route and a bounded excerpt of the body
        assert e.route == CALLS[name][0]
        assert len(e.body) < 1_000
        return None


@needs_captures
@pytest.mark.parametrize("name", sorted(CALLS))
def test_unchanged_captures_decode(name) -> None:
    assert decode_or_typed_error(name, BODIES[name]) is not None


@needs_captures
@SHORT
@given(st.sampled_from(sorted(CALLS)), st.integers(0, 2**32), st.booleans())
def test_mutated_capture_bodies_decode_or_raise_the_typed_error(name, seed, as_bytes) -> None:
    mutator = Mutator([BODIES[name]], seed)
    if as_bytes:
        body = mutator.mutate_bytes(BODIES[name])
    else:
        document = mutator.mutate_document(orjson.loads(BODIES[name]))
        body = json.dumps(document).encode()
    decode_or_typed_error(name, body)


@needs_captures
@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize(
    "change",
    ["drop_every_key", "numbers_as_strings", "strings_as_numbers", "huge_numbers", "nulls",
     "extra_fields"],
)
def test_systematic_changes_decode_or_raise_the_typed_error(name, change) -> None:
    document = orjson.loads(BODIES[name])

    def walk(obj: object) -> object:
        if isinstance(obj, dict):
            if change == "drop_every_key":
                return {}
            out = {k: walk(v) for k, v in obj.items()}
            # A map keyed by ticker or symbol (all values objects) takes no extra field
            if change == "extra_fields" and not all(isinstance(v, dict) for v in obj.values()):
                out["brandNewField"] = {"nested": [1, None, "x"]}
            return out
        if isinstance(obj, list):
            return [walk(v) for v in obj]
        if change == "numbers_as_strings" and isinstance(obj, (int, float)):
            return str(obj)
        if change == "strings_as_numbers" and isinstance(obj, str):
            return 1
        if change == "huge_numbers" and isinstance(obj, (int, float, str)):
            return 10**30
        if change == "nulls":
            return None
        return obj

    result = decode_or_typed_error(name, json.dumps(walk(document)).encode())
    if change == "extra_fields":
        assert result is not None  # Unknown fields never fail a decode


@pytest.mark.parametrize(
    "kind",
    [schemas.PerpetualMarketsResponse, schemas.FillsResponse, schemas.TransfersResponse,
     schemas.SubaccountResponse, schemas.OrderBookResponse, schemas.CandlesResponse],
)
@SHORT
@given(st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["markets", "fills", "transfers", "subaccount", "bids",
                                       "asks", "candles", "price", "size", "id", "ticker"]),
                      children, max_size=3),
    max_leaves=12,
))
def test_schemas_raise_only_msgspec_errors_on_any_json(kind, document) -> None:
    try:
        body = json.dumps(document).encode()
    except ValueError:
        return
    try:
        msgspec.json.Decoder(kind).decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        pass


def test_decode_error_is_a_typed_http_error() -> None:
    assert issubclass(DYDXDecodeError, DYDXHttpError)
