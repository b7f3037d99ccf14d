# SPDX-License-Identifier: Apache-2.0
"""What the sandbox itself recorded about one account: placements, triggers, fills, cancels."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dydx.demo.recorder import signed_position
from nautilus_dydx.demo.session import SandboxSettings
from nautilus_dydx.demo.session import Session
from nautilus_dydx.demo.venue_state import VenueSnapshot
from nautilus_dydx.demo.venue_state import fetch_snapshot
from nautilus_dydx.sandbox.events import FillEvent
from nautilus_dydx.sandbox.events import OrderPlacedEvent
from nautilus_dydx.sandbox.events import OrderRemovedEvent
from nautilus_dydx.sandbox.events import OrderUpdatedEvent


# Fast blocks keep each example run short; the seed fixes the agents' random walk
SETTINGS = SandboxSettings(block_time_ms=150, seed=11)
SECONDS = 15.0


def run(coro, timeout: float = 120.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


@dataclass
class VenueRecord:
    """The sandbox node's events for one address, and its Indexer snapshot at the end."""

    address: str
    placed: list = field(default_factory=list)
    triggered: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    fills: list = field(default_factory=list)  # (fill event, our side's order snapshot)
    snapshot: VenueSnapshot | None = None

    def position(self, ticker: str = "BTC-USD") -> Decimal:
        assert self.snapshot is not None
        return self.snapshot.position_size(ticker)


async def venue_record(session: Session, ticker: str = "BTC-USD") -> VenueRecord:
    sandbox = session.sandbox
    address = session.exec_client.address
    # The stream may trail the Indexer's REST by a batch: wait (bounded) until they agree
    instrument_id = InstrumentId.from_str(f"{ticker}-PERP.DYDX")
    for _ in range(40):
        snapshot = await fetch_snapshot(sandbox.http_url, address, 0)
        if snapshot.position_size(ticker) == signed_position(session.cache, instrument_id):
            break
        await asyncio.sleep(0.1)
    record = VenueRecord(address)
    for event in sandbox.node.bus.history:
        if isinstance(event, OrderPlacedEvent) and event.order.owner == address:
            record.placed.append(event)
        elif isinstance(event, OrderUpdatedEvent) and event.order.owner == address:
            if event.reason == "TRIGGERED":
                record.triggered.append(event)
        elif isinstance(event, OrderRemovedEvent) and event.order.owner == address:
            record.removed.append(event)
        elif isinstance(event, FillEvent):
            for order in (event.taker, event.maker):
                if order is not None and order.owner == address:
                    record.fills.append((event, order))
    record.snapshot = await fetch_snapshot(sandbox.http_url, address, 0, fills_after_height=0)
    return record


def nautilus_client_id(session: Session, client_order_id) -> int | None:
    state = session.exec_client.venue_order(client_order_id)
    return None if state is None else state.client_id
