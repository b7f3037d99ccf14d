# SPDX-License-Identifier: Apache-2.0
"""A loopback TCP forwarder that can be killed and revived: a gRPC endpoint that dies."""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    """
    Forward 127.0.0.1:<port> to a target ``host:port``; `kill` refuses and cuts every connection.

    Parameters
    ----------
    target : str
        The ``host:port`` to forward to.

    """

    def __init__(self, target: str) -> None:
        host, _, port = target.rpartition(":")
        self._target = (host, int(port))
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0
        self.connections = 0
        self.bytes_up = 0
        self.kills = 0

    @property
    def endpoint(self) -> str:
        """The ``127.0.0.1:port`` clients connect to."""
        return f"127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        """Whether the proxy accepts connections."""
        return self._server is not None

    async def start(self) -> None:
        """Listen (on a fresh port the first time, on the same port when revived)."""
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def kill(self) -> None:
        """Stop listening and reset every open connection (the endpoint is dead)."""
        server, self._server = self._server, None
        if server is None:
            return
        self.kills += 1
        server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        with contextlib.suppress(Exception):
            await server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        self._writers.update((writer, up_writer))
        await asyncio.gather(
            self._pipe(reader, up_writer, count=True), self._pipe(up_reader, writer),
            return_exceptions=True,
        )
        self._writers.discard(writer)
        self._writers.discard(up_writer)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    count: bool = False) -> None:
        try:
            while data := await reader.read(65_536):
                if count:
                    self.bytes_up += len(data)
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()
