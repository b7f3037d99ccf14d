# SPDX-License-Identifier: Apache-2.0
"""The sandbox's loopback HTTP server on aiohttp, behind plain request and response types."""

from __future__ import annotations

import errno
import ipaddress
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

from aiohttp import web


_JSON = "application/json; charset=utf-8"


class PortInUseError(OSError):
    """
    A sandbox server could not bind its port because something else listens on it.

    Parameters
    ----------
    service : str
        The server, e.g. "REST".
    host : str
        The bind address.
    port : int
        The port.
    option : str
        The command-line option that changes the port.

    """

    def __init__(self, service: str, host: str, port: int, option: str) -> None:
        super().__init__(
            errno.EADDRINUSE,
            f"{service} port {host}:{port} is already in use (another sandbox?); "
            f"choose a free one with {option} PORT (0 picks one)",
        )
        self.service = service
        self.host = host
        self.port = port
        self.option = option

    def __str__(self) -> str:
        return self.strerror or ""


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
    An HTTP response; a negative status drops the connection without answering.

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
    An aiohttp server bound to a loopback address that hands every request to one handler.

    Parameters
    ----------
    handler : Callable[[Request], Awaitable[Response]]
        Produces a response for each request.
    host : str, default "127.0.0.1"
        The loopback bind address.
    port : int, default 0
        The port; 0 picks a free one.
    service : str, default "REST"
        The name used in a port-in-use error.
    option : str, default "--http-port"
        The command-line option named in a port-in-use error.

    """

    def __init__(
        self,
        handler: Handler,
        host: str = "127.0.0.1",
        port: int = 0,
        service: str = "REST",
        option: str = "--http-port",
    ) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the sandbox binds loopback only, host was {host!r}")
        self._handler = handler
        self.host = host
        self._requested_port = port
        self._service = service
        self._option = option
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._connections: set[int] = set()

    @property
    def connections(self) -> int:
        """The number of distinct TCP connections that sent a request."""
        return len(self._connections)

    async def start(self) -> None:
        """
        Bind and start serving.

        Raises
        ------
        PortInUseError
            If the port is taken.

        """
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port, reuse_port=False)
        try:
            await site.start()
        except OSError as e:
            await runner.cleanup()
            if e.errno == errno.EADDRINUSE:
                raise PortInUseError(
                    self._service, self.host, self._requested_port, self._option,
                ) from None
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]

    async def stop(self) -> None:
        """Close the listener and every open connection (idempotent)."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.transport is not None:
            self._connections.add(id(request.transport))
        body = await request.read() if request.can_read_body else b""
        parsed = Request(
            request.method.upper(),
            request.path,
            list(request.query.items()),
            {k.lower(): v for k, v in request.headers.items()},
            body,
            request.remote or "",
        )
        try:
            response = await self._handler(parsed)
        except Exception as e:  # noqa: BLE001 - an internal error is a 500 like the venue's
            response = Response(
                500, b'{"errors":[{"msg":"Internal Server Error: ' + type(e).__name__.encode()
                + b'"}]}',
            )
        if response.status < 0:
            # Fault injection: drop the connection without answering
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPServiceUnavailable()
        headers = {"Content-Type": _JSON}
        headers.update(response.headers)
        return web.Response(status=response.status, body=response.body, headers=headers)
