# SPDX-License-Identifier: Apache-2.0
"""Occasional unknown fields in Indexer messages, as a newer Indexer release adds them."""

from __future__ import annotations

import hashlib

import orjson


# The unknown keys the sandbox may add; every value type a JSON decoder can meet
EXTRA_FIELDS: dict[str, object] = {
    "sandboxFutureText": "unannounced",
    "sandboxFutureNumber": 7,
    "sandboxFutureFlag": True,
    "sandboxFutureNull": None,
    "sandboxFutureObject": {"nested": ["1", 2]},
}
_NAMES = tuple(EXTRA_FIELDS)
# Objects that look like records (a market, fill, order, position...) may receive a field
_RECORD_KEYS = ("id", "ticker", "market", "address", "createdAt", "effectiveAt", "symbol")
# One record in this many gets an unknown field
_ONE_IN = 3


class ExtraFields:
    """
    Adds an unknown field to about one record in three, chosen by a hash of seed and content.

    The choice depends only on the seed and the record's content, so equal records (two reads
    of the same order) carry the same extra field and a run is reproducible.

    Parameters
    ----------
    seed : int
        The sandbox seed.
    enabled : bool
        Whether to add fields at all.

    """

    def __init__(self, seed: int, enabled: bool) -> None:
        self.seed = seed
        self.enabled = enabled

    def apply(self, payload: object) -> object:
        """
        Return `payload` with extra fields added (the input is not modified).

        Parameters
        ----------
        payload : object
            A JSON-compatible value.

        Returns
        -------
        object

        """
        if not self.enabled:
            return payload
        return self._walk(payload)

    def _walk(self, value: object) -> object:
        if isinstance(value, list):
            return [self._walk(item) for item in value]
        if not isinstance(value, dict):
            return value
        result = {key: self._walk(item) for key, item in value.items()}
        if any(key in value for key in _RECORD_KEYS):
            name = self._choice(value)
            if name is not None and name not in result:
                result[name] = EXTRA_FIELDS[name]
        return result

    def _choice(self, record: dict) -> str | None:
        content = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
        digest = hashlib.sha256(str(self.seed).encode() + b":" + content).digest()
        draw = int.from_bytes(digest[:8], "big")
        if draw % _ONE_IN != 0:
            return None
        return _NAMES[(draw // _ONE_IN) % len(_NAMES)]


def extra_keys(payload: object) -> set[str]:
    """
    Return the unknown sandbox keys present anywhere in `payload`.

    Parameters
    ----------
    payload : object
        A decoded JSON value.

    Returns
    -------
    set[str]

    """
    found: set[str] = set()
    if isinstance(payload, list):
        for item in payload:
            found |= extra_keys(item)
    elif isinstance(payload, dict):
        found |= {key for key in payload if key in EXTRA_FIELDS}
        for item in payload.values():
            found |= extra_keys(item)
    return found
