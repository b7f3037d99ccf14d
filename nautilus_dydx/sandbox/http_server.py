# SPDX-License-Identifier: Apache-2.0
"""A minimal loopback HTTP/1.1 server (GET and POST, keep-alive) on asyncio streams."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import parse_qsl
from urllib.parse import unquote
from urllib.parse import urlsplit


_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
_MAX_HEADER_BYTES = 65536


@dataclass
class Request:
    """
    A parsed HTTP request.

    Parameters
    ----------
    method : str
        The method, e.g. "GET".
    path : str
        The percent-decoded path without query.
    query : list[tuple[str, str]]
        The query parameters in order (repeated keys kept).
    headers : dict[str, str]
        The headers with lower-case names.
    body : bytes
        The body (POST only).
    peer : str
        The client host.

    """

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes = b""
    peer: str = ""

    def params(self, name: str) -> list[str]:
        """
        Return every value of query parameter `name`.

        Parameters
        ----------
        name : str
            The parameter name.

        Returns
        -------
        list[str]

        """
        return [v for k, v in self.query if k == name]

    def param(self, name: str) -> str | None:
        """
        Return the last value of query parameter `name`, or None.

        Parameters
        ----------
        name : str
            The parameter name.

        Returns
        -------
        str | None

        """
        values = self.params(name)
        return values[-1] if values else None


@dataclass
class Response:
    """
    An HTTP response.

    Parameters
    ----------
    status : int
        The status code.
    body : bytes
        The body.
    headers : dict[str, str]
        Extra headers.

    """

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Awaitable[Response]]


class HttpServer:
    """
    A small HTTP/1.1 server with keep-alive, bound to a loopback address.

    Parameters
    ----------
    handler : Callable[[Request], Awaitable[Response]]
        Produces a response for each request.
    host : str, default "127.0.0.1"
        The loopback bind address.
    port : int, default 0
        The port; 0 picks a free one.

    """

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the sandbox binds loopback only, host was {host!r}")
        self._handler = handler
        self.host = host
        self._requested_port = port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Bind and start serving."""
        self._server = await asyncio.start_server(
            self._serve, self.host, self._requested_port,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the listener and every open connection (idempotent)."""
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        peer = writer.get_extra_info("peername")
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                if len(head) > _MAX_HEADER_BYTES:
                    return
                lines = head.decode("latin-1").split("\r\n")
                try:
                    method, target, version = lines[0].split(" ", 2)
                except ValueError:
                    await self._write(writer, Response(400, b'{"errors":[{"msg":"bad request"}]}'),
                                      False)
                    return
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = b""
                length = int(headers.get("content-length", "0") or 0)
                if length:
                    body = await reader.readexactly(length)
                parts = urlsplit(target)
                request = Request(
                    method.upper(),
                    unquote(parts.path),
                    parse_qsl(parts.query, keep_blank_values=True),
                    headers, body, peer[0] if peer else "",
                )
                keep_alive = version == "HTTP/1.1" and headers.get("connection", "") != "close"
                try:
                    response = await self._handler(request)
                except Exception as e:  # noqa: BLE001 - an internal error is a 500 like the venue's
                    response = Response(500, b'{"errors":[{"msg":"Internal Server Error: '
                                        + type(e).__name__.encode() + b'"}]}')
                if response.status < 0:
                    # Negative status: drop the connection without answering (fault injection)
                    return
                await self._write(writer, response, keep_alive)
                if not keep_alive:
                    return
        finally:
            self._writers.discard(writer)
            writer.close()

    @staticmethod
    async def _write(writer: asyncio.StreamWriter, response: Response, keep_alive: bool) -> None:
        reason = _REASONS.get(response.status, "Unknown")
        head = [f"HTTP/1.1 {response.status} {reason}"]
        headers = {"Content-Type": "application/json; charset=utf-8"}
        headers.update(response.headers)
        headers["Content-Length"] = str(len(response.body))
        headers["Connection"] = "keep-alive" if keep_alive else "close"
        head.extend(f"{k}: {v}" for k, v in headers.items())
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body)
        try:
            await writer.drain()
        except ConnectionError:
            return
