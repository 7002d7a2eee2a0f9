"""A layer-4 load balancer for the soak: what a Kubernetes Service (kube-proxy) is in
front of a Deployment's replicas. Each new TCP connection goes to the next target in
turn; a target that refuses the connection (its process is dead or restarting) is
skipped, as a pod failing its readiness leaves the Service's endpoints. Bytes are pumped
both ways untouched, so HTTP keep-alive and gRPC's HTTP/2 connections stay with the
replica they reached until they are closed — as they do behind a real Service.

The soak puts one in front of the ingress replicas (the sandbox posts webhooks to it,
as Telegram posts to one public URL), one in front of the routing replicas (every gRPC
client's `routing_target`) and one in front of the delivery replicas (routing's local
dispatcher's `delivery_url`). No service changes: in production the Service and Cloud
Tasks spread the load; here this does.

It runs in the caller's event loop (the soak's or the test's). The piping is the test
proxy's (tests/tcp_proxy.py, Links); here one side's end resets the other."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter

from tests.tcp_proxy import Links, abort


class Balancer:
    def __init__(self, name: str, targets: list[tuple[str, int]], *, host: str = "127.0.0.1"):
        self.name = name
        self.targets = list(targets)
        self.host = host
        self.port = 0
        self.connections: Counter[int] = Counter()  # target index -> connections forwarded
        self.skipped = 0  # connection attempts a dead target refused
        self.dropped = 0  # client connections closed because no target answered
        self._turn = itertools.count()
        self._server: asyncio.Server | None = None
        # A reset on one side is a reset on the other: a killed replica's peer sees its
        # connection die, as behind kube-proxy.
        self._links = Links(ends="reset")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        await self._links.cut()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _connect(self) -> tuple[int, asyncio.StreamReader, asyncio.StreamWriter] | None:
        start = next(self._turn)
        for k in range(len(self.targets)):
            index = (start + k) % len(self.targets)
            try:
                reader, writer = await asyncio.open_connection(*self.targets[index])
            except OSError:
                self.skipped += 1
                continue
            return index, reader, writer
        return None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = await self._connect()
        if upstream is None:
            self.dropped += 1
            abort(writer)
            return
        index, up_reader, up_writer = upstream
        self.connections[index] += 1
        await self._links.pipe((reader, writer), (up_reader, up_writer))
