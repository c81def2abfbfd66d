"""Stream clients for the fan-out benchmark, in a process of their own (no Django here).

One event loop (uvloop when installed) holds every stream on a raw socket (no HTTP client
library, no task per client): a protocol callback per read takes what the socket has and
only looks for ``"version": N`` in the flip events, so 1,000 clients cost the measurement
little. Receipt times are time.monotonic() (CLOCK_MONOTONIC, system-wide on Linux),
comparable with the flipping process's commit times.

Protocol on the pipe: the child sends ("ready", opened, failed) once every stream has its
snapshot (or failed), then waits for "dump" and sends {version: [receipt times]}.
"""

import asyncio
import re
import time
from multiprocessing.connection import Connection

_VERSION = re.compile(rb'event: flip\ndata: \{[^\n]*?"version": (\d+)')


class StreamProtocol(asyncio.Protocol):
    """One stream: a callback per read (no StreamReader, no task per client)."""

    def __init__(self, clients: "Clients") -> None:
        self.clients = clients
        self.buffer = b""
        self.state = "head"  # head -> snapshot -> open

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        c = self.clients
        transport.write(  # type: ignore[attr-defined]
            (
                f"GET /api/v1/kill-switches/stream?key={c.key} HTTP/1.1\r\n"
                f"Host: 127.0.0.1\r\nAuthorization: Bearer {c.token}\r\n"
                "Accept: text/event-stream\r\n\r\n"
            ).encode()
        )

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if self.state == "open":
            # HTTP chunk framing may split an event: keep the unfinished end for the next read.
            data = self.buffer + data
            cut = data.rfind(b"\n\n")
            if cut < 0:
                self.buffer = data
                return
            self.buffer = data[cut + 2 :]
            received = self.clients.received
            for match in _VERSION.finditer(data, 0, cut):
                received.setdefault(int(match.group(1)), []).append(now)
            return
        self.buffer += data
        if self.state == "head" and b"\r\n\r\n" in self.buffer:
            if b" 200 " not in self.buffer.split(b"\r\n", 1)[0]:
                self.clients.settle(ok=False)
                self.state = "failed"
                return
            self.state = "snapshot"
        if self.state == "snapshot" and b"event: snapshot" in self.buffer:
            end = self.buffer.find(b"\n\n", self.buffer.find(b"event: snapshot"))
            if end >= 0:
                self.buffer = self.buffer[end + 2 :]
                self.state = "open"
                self.clients.settle(ok=True)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.state in ("head", "snapshot"):
            self.clients.settle(ok=False)


class Clients:
    def __init__(self, port: int, token: str, key: str, streams: int) -> None:
        self.port, self.token, self.key, self.streams = port, token, key, streams
        self.received: dict[int, list[float]] = {}
        self.opened = 0
        self.failed = 0
        self.all_open = asyncio.Event()

    def settle(self, *, ok: bool) -> None:
        if ok:
            self.opened += 1
        else:
            self.failed += 1
        if self.opened + self.failed >= self.streams:
            self.all_open.set()

    async def main(self, pipe: Connection) -> None:
        loop = asyncio.get_running_loop()
        transports = []
        for n in range(self.streams):
            try:
                transport, _ = await loop.create_connection(
                    lambda: StreamProtocol(self), "127.0.0.1", self.port
                )
                transports.append(transport)
            except OSError:
                self.settle(ok=False)
            if n % 50 == 49:
                await asyncio.sleep(0.05)  # open them in waves
        await self.all_open.wait()
        pipe.send(("ready", self.opened, self.failed))
        await loop.run_in_executor(None, pipe.recv)  # "dump"
        pipe.send(self.received)
        for transport in transports:
            transport.close()


def run(pipe: Connection, port: int, token: str, key: str, streams: int) -> None:
    try:
        import uvloop  # the server's event loop too (uvicorn picks it when installed)

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(Clients(port, token, key, streams).main(pipe))
