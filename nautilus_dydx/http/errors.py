# SPDX-License-Identifier: Apache-2.0
"""Typed errors of the Indexer REST client (status, route and a short body excerpt)."""

from __future__ import annotations


BODY_EXCERPT_CHARS = 200


def body_excerpt(body: bytes | str) -> str:
    """
    Return at most `BODY_EXCERPT_CHARS` printable characters of a response body.

    Parameters
    ----------
    body : bytes | str
        The body as received.

    Returns
    -------
    str

    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = "".join(c if c.isprintable() else " " for c in text[:BODY_EXCERPT_CHARS])
    return text + ("..." if len(body) > BODY_EXCERPT_CHARS else "")


class DYDXHttpError(Exception):
    """
    An Indexer request that failed for good: a 4xx, or retries exhausted.

    Parameters
    ----------
    status : int | None
        The HTTP status, or None when no response arrived (network error).
    route : str
        The request path (no query string).
    body : str
        A short excerpt of the response body, or the network error text.

    """

    def __init__(self, status: int | None, route: str, body: str) -> None:
        self.status = status
        self.route = route
        self.body = body
        what = "network error" if status is None else f"HTTP {status}"
        super().__init__(f"Indexer {route}: {what}: {body}")


class DYDXDecodeError(DYDXHttpError):
    """
    A 2xx response whose body does not match the expected shape.
    """


class DYDXPaginationError(DYDXHttpError):
    """
    A listing that cannot be paged further without a gap (a cursor value holds a full page).
    """
