"""A TCP proxy for tests: forwards every connection to a target (MariaDB), and can be
cut — every open connection closed at once and new ones closed as soon as they are
accepted, as a database server that went away looks to its clients — and restored.

It runs in the test's event loop; the services talk to it as to the database."""

from __future__ import annotations

import asyncio
import contextlib

CHUNK = 64 * 1024


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, *, host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.host = host
        self.port = 0
        self.cut_off = False
        self.accepted = 0  # connections accepted and forwarded, over the proxy's life
        self.refused = 0  # connections closed on arrival while cut
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> int:
        """Listen on a free port; answer it."""
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def cut(self) -> None:
        """Close every connection and refuse new ones until `restore`."""
        self.cut_off = True
        for writer in list(self._writers):
            _abort(writer)
        links = list(self._links)
        for link in links:
            link.cancel()
        await asyncio.gather(*links, return_exceptions=True)

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
            _abort(writer)
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _abort(writer)
            return
        self.accepted += 1
        self._writers.update((writer, upstream_writer))
        task = asyncio.current_task()
        assert task is not None
        self._links.add(task)
        try:
            await asyncio.gather(_pump(reader, upstream_writer), _pump(upstream_reader, writer))
        except asyncio.CancelledError:
            pass
        finally:
            self._links.discard(task)
            for end in (writer, upstream_writer):
                self._writers.discard(end)
                _abort(end)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.write_eof()


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close at once (a reset, as a dead server's peer sees), not a polite shutdown."""
    transport = writer.transport
    if not transport.is_closing():
        transport.abort()
