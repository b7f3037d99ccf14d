# SPDX-License-Identifier: Apache-2.0
"""Replay mode: serve a recorded NDJSON session of Indexer frames as fast as the client reads."""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path

import orjson
from picows import WSFrame
from picows import WSListener
from picows import WSMsgType
from picows import WSTransport
from picows import ws_create_server


def load_frames(path: str | Path) -> list[bytes]:
    """
    Return the frames of an NDJSON recording (one JSON frame per line; blank lines skipped).

    Parameters
    ----------
    path : str | Path
        The file.

    Returns
    -------
    list[bytes]

    Raises
    ------
    ValueError
        If a line is not valid JSON.

    """
    frames = []
    for number, line in enumerate(Path(path).read_bytes().splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            orjson.loads(line)
        except orjson.JSONDecodeError as e:
            raise ValueError(f"invalid JSON on line {number} of {path}, was {line[:80]!r}") from e
        frames.append(line)
    return frames


class _ReplayConnection(WSListener):
    def __init__(self, server: ReplayServer) -> None:
        super().__init__()
        self.server = server
        self.transport: WSTransport | None = None
        self._writable = asyncio.Event()
        self._writable.set()
        self._task: asyncio.Task | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport
        self._task = asyncio.get_running_loop().create_task(self._pump())
        self.server.tasks.add(self._task)
        self._task.add_done_callback(self.server.tasks.discard)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if self._task is not None:
            self._task.cancel()

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    async def _pump(self) -> None:
        transport = self.transport
        assert transport is not None
        for frame in self.server.frames:
            if transport.is_disconnected:
                return
            if not self._writable.is_set():
                await self._writable.wait()
            transport.send(WSMsgType.TEXT, frame)
            self.server.frames_sent += 1
        if self.server.close_at_end:
            transport.send_close(1000)
            transport.disconnect()


class ReplayServer:
    """
    A loopback WebSocket server that sends a recorded session to every client, with backpressure.

    Parameters
    ----------
    frames : list[bytes]
        The frames in order (see `load_frames`).
    host : str, default "127.0.0.1"
        The loopback bind address.
    port : int, default 0
        The port; 0 picks a free one.
    close_at_end : bool, default True
        Whether to close (1000) once every frame is sent.

    """

    def __init__(
        self,
        frames: list[bytes],
        host: str = "127.0.0.1",
        port: int = 0,
        close_at_end: bool = True,
    ) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the sandbox binds loopback only, host was {host!r}")
        self.frames = frames
        self.host = host
        self._requested_port = port
        self.port = 0
        self.close_at_end = close_at_end
        self.frames_sent = 0
        self.tasks: set[asyncio.Task] = set()
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        """The `ws://host:port/v4/ws` URL."""
        return f"ws://{self.host}:{self.port}/v4/ws"

    async def start(self) -> None:
        """Bind and start serving."""
        self._server = await ws_create_server(
            lambda request: _ReplayConnection(self), self.host, self._requested_port,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop serving (idempotent)."""
        for task in list(self.tasks):
            task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
