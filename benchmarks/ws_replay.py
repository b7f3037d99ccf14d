# SPDX-License-Identifier: Apache-2.0
"""Replay servers for the end-to-end benchmark, run in their own process (`python -m`)."""

from __future__ import annotations

import argparse
import asyncio

from picows import WSListener
from picows import WSTransport
from picows import ws_create_server

from nautilus_dydx.sandbox.replay import ReplayServer
from nautilus_dydx.sandbox.replay import load_frames


CHUNK_BYTES = 1 << 18


def frame_bytes(payload: bytes) -> bytes:
    """
    Return `payload` as one unmasked server-to-client WebSocket text frame (RFC 6455 §5.2).

    Parameters
    ----------
    payload : bytes
        The message.

    Returns
    -------
    bytes

    """
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 1 << 16:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


def wire_chunks(frames: list[bytes], chunk_bytes: int = CHUNK_BYTES) -> list[bytes]:
    """
    Return the frames pre-encoded on the wire, joined into chunks that end on frame boundaries.

    Parameters
    ----------
    frames : list[bytes]
        The messages.
    chunk_bytes : int
        The target chunk size.

    Returns
    -------
    list[bytes]

    """
    chunks: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for frame in frames:
        encoded = frame_bytes(frame)
        current.append(encoded)
        size += len(encoded)
        if size >= chunk_bytes:
            chunks.append(b"".join(current))
            current, size = [], 0
    if current:
        chunks.append(b"".join(current))
    return chunks


class _BulkConnection(WSListener):
    # Writes the pre-framed session straight to the socket, pausing when its buffer is full
    def __init__(self, chunks: list[bytes]) -> None:
        super().__init__()
        self.chunks = chunks
        self.writable = asyncio.Event()
        self.writable.set()
        self.task: asyncio.Task | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.task = asyncio.get_running_loop().create_task(self._pump(transport))

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if self.task is not None:
            self.task.cancel()

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    async def _pump(self, transport: WSTransport) -> None:
        raw = transport.underlying_transport
        for chunk in self.chunks:
            if transport.is_disconnected:
                return
            if not self.writable.is_set():
                await self.writable.wait()
            raw.write(chunk)


async def serve(path: str, mode: str) -> None:
    """
    Serve the NDJSON session at `path` on a free loopback port and print the port.

    Parameters
    ----------
    path : str
        The recorded session.
    mode : str
        ``"sandbox"`` for the sandbox's `ReplayServer` (one send per frame), ``"bulk"`` for
        the same frames pre-encoded and written in large chunks (keeps the server off the
        critical path, so the client's own throughput shows).

    """
    frames = load_frames(path)
    if mode == "sandbox":
        server = ReplayServer(frames, close_at_end=False)
        await server.start()
        port = server.port
    else:
        chunks = wire_chunks(frames)
        bulk = await ws_create_server(lambda request: _BulkConnection(chunks), "127.0.0.1", 0)
        port = bulk.sockets[0].getsockname()[1]
    print(port, flush=True)
    await asyncio.Event().wait()


def main() -> None:
    """Run a replay server: ``python -m benchmarks.ws_replay SESSION.ndjson --mode bulk``."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("path")
    parser.add_argument("--mode", choices=("sandbox", "bulk"), default="sandbox")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(args.path, args.mode))
    else:
        uvloop.run(serve(args.path, args.mode))


if __name__ == "__main__":
    main()
