# SPDX-License-Identifier: Apache-2.0
"""`subscribe_instruments(venue)` in a TradingNode: instrument changes reach the strategy."""

from __future__ import annotations

from nautilus_trader.common.actor import Actor
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price

from nautilus_dydx import DYDX_VENUE
from tests.integration.data.support import BTC
from tests.integration.data.support import run
from tests.integration.data.support import running_node
from tests.integration.data.support import running_sandbox
from tests.integration.data.support import wait_for


NEW = InstrumentId.from_str("NEW-USD-PERP.DYDX")


class VenueInstruments(Actor):
    """Subscribes to the venue's instruments only, never to one instrument."""

    def __init__(self) -> None:
        super().__init__()
        self.instruments: list = []

    def on_start(self) -> None:
        self.subscribe_instruments(DYDX_VENUE)

    def on_instrument(self, instrument) -> None:
        self.instruments.append(instrument)

    def of(self, instrument_id: InstrumentId) -> list:
        return [i for i in self.instruments if i.id == instrument_id]


def test_venue_subscription_receives_tick_size_change_and_new_listing() -> None:
    async def scenario() -> None:
        async with running_sandbox(agents=False) as sandbox:
            actor = VenueInstruments()
            async with running_node(sandbox, actor) as node:
                state = sandbox.state
                await wait_for(lambda: node.cache.instrument(BTC) is not None)
                received = len(actor.of(BTC))

                # Governance raises BTC's tick from 1 to 10
                state.emit(
                    "v4_markets", None,
                    {"trading": {"BTC-USD": {"subticksPerTick": 1_000_000, "tickSize": "10"}}},
                )
                await wait_for(lambda: len(actor.of(BTC)) > received)
                assert actor.of(BTC)[-1].price_increment == Price.from_str("10")

                # A new listing under a ticker the strategy never named
                listing = dict(state.market_json(state.markets["ETH-USD"]))
                listing.update(ticker="NEW-USD", clobPairId="77")
                state.emit("v4_markets", None, {"trading": {"NEW-USD": listing}})
                await wait_for(lambda: bool(actor.of(NEW)))
                listed = actor.of(NEW)[-1]
                assert listed == node.cache.instrument(NEW)
                assert listed.price_increment == node.cache.instrument(NEW).price_increment
                # The strategy named no instrument: it got the change only through the venue
                assert all(i.id in (BTC, NEW) for i in actor.instruments)

    run(scenario())
