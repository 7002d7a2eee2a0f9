"""A TCP proxy for tests: forwards every connection to a target (MariaDB), and can be
cut — every open connection closed at once and new ones closed as soon as they are
accepted, as a database server that went away looks to its clients — and restored.

The piping itself (Links) is shared with the soak's balancer (bench/soak_balancer.py),
which differs only in where a connection goes and in what one side's end does to the
other. Both run in the caller's event loop; the services talk to them as to the server
behind."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Literal

CHUNK = 64 * 1024
Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]
# What the other side of a connection sees when one side ends its stream: the end passed
# on ("half-close": the other direction carries on, as through a plain TCP relay), or a
# reset ("reset": a killed replica's peer sees its connection die, as behind kube-proxy).
Ends = Literal["half-close", "reset"]


class Links:
    """The connections a proxy pipes, each both ways, and cut all at once."""

    def __init__(self, *, ends: Ends) -> None:
        self.ends = ends
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def pipe(self, client: Stream, upstream: Stream) -> None:
        """Bytes both ways until both directions end or `cut`; then both ends reset."""
        (reader, writer), (up_reader, up_writer) = client, upstream
        self._writers.update((writer, up_writer))
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        except asyncio.CancelledError:
            pass
        finally:
            self._tasks.discard(task)
            for end in (writer, up_writer):
                self._writers.discard(end)
                abort(end)

    async def cut(self) -> None:
        """Reset every connection piped now, and wait until their pipes have ended."""
        for writer in list(self._writers):
            abort(writer)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(CHUNK):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if self.ends == "reset":
                abort(writer)
            else:
                with contextlib.suppress(Exception):
                    writer.write_eof()


def abort(writer: asyncio.StreamWriter) -> None:
    """Close at once (a reset, as a dead server's peer sees), not a polite shutdown."""
    transport = writer.transport
    if not transport.is_closing():
        transport.abort()


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, *, host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.host = host
        self.port = 0
        self.cut_off = False
        self.accepted = 0  # connections accepted and forwarded, over the proxy's life
        self.refused = 0  # connections closed on arrival while cut
        self._server: asyncio.Server | None = None
        self._links = Links(ends="half-close")

    async def start(self) -> int:
        """Listen on a free port; answer it."""
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def cut(self) -> None:
        """Close every connection and refuse new ones until `restore`."""
        self.cut_off = True
        await self._links.cut()

    def restore(self) -> None:
        """Forward new connections again."""
        self.cut_off = False

    async def close(self) -> None:
        await self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut_off:
            self.refused += 1
            abort(writer)
            return
        try:
            upstream = await asyncio.open_connection(*self.target)
        except OSError:
            abort(writer)
            return
        self.accepted += 1
        await self._links.pipe((reader, writer), upstream)
