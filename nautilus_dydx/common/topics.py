# SPDX-License-Identifier: Apache-2.0
"""Message bus topics of instrument updates, matched the way the bus delivers them."""

from __future__ import annotations

from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.component import is_matching_py
from nautilus_trader.model.identifiers import InstrumentId


def instrument_topic(instrument_id: InstrumentId) -> str:
    """
    Return the topic the data engine publishes an instrument on.

    Parameters
    ----------
    instrument_id : InstrumentId
        The instrument.

    Returns
    -------
    str

    """
    return f"data.instrument.{instrument_id.venue}.{instrument_id.symbol}"


def has_instrument_subscribers(msgbus: MessageBus, instrument_id: InstrumentId) -> bool:
    """
    Return whether a subscription, exact or by pattern, matches the instrument's topic.

    ``MessageBus.has_subscribers(topic)`` matches its argument as the pattern, so it misses
    ``data.instrument.DYDX.*`` (``subscribe_instruments``) for a concrete topic.

    Parameters
    ----------
    msgbus : MessageBus
        The message bus.
    instrument_id : InstrumentId
        The instrument.

    Returns
    -------
    bool

    """
    topic = instrument_topic(instrument_id)
    return any(
        is_matching_py(topic, subscription.topic)
        for subscription in msgbus.subscriptions("data.instrument.*")
    )
