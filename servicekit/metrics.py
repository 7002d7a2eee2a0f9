"""Prometheus helpers: one registry per service (never the global one, so tests can
build as many services as they like), metrics named `switchboard_…`, and the
`/metrics` HTTP endpoint."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)

from servicekit.settings import ServiceSettings

log = logging.getLogger(__name__)
NAMESPACE = "switchboard"  # every metric of ours is `switchboard_<name>`

# Seconds; from a fast gRPC hop to a slow Telegram send.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def new_registry(*, process_metrics: bool = True) -> CollectorRegistry:
    """Answer an empty registry for one service, with the standard process, platform
    and GC metrics unless `process_metrics` is False."""
    registry = CollectorRegistry()
    if process_metrics:
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
    return registry


def counter(
    registry: CollectorRegistry, name: str, documentation: str, labels: Sequence[str] = ()
) -> Counter:
    """Register `switchboard_<name>_total` in `registry`."""
    return Counter(name, documentation, labels, namespace=NAMESPACE, registry=registry)


def gauge(
    registry: CollectorRegistry, name: str, documentation: str, labels: Sequence[str] = ()
) -> Gauge:
    """Register `switchboard_<name>` in `registry`."""
    return Gauge(name, documentation, labels, namespace=NAMESPACE, registry=registry)


def histogram(
    registry: CollectorRegistry,
    name: str,
    documentation: str,
    labels: Sequence[str] = (),
    buckets: Sequence[float] = LATENCY_BUCKETS,
) -> Histogram:
    """Register `switchboard_<name>` (a histogram, seconds by default) in `registry`."""
    return Histogram(
        name, documentation, labels, namespace=NAMESPACE, registry=registry, buckets=buckets
    )


@dataclass(eq=False)
class MetricsServer:
    """A running `/metrics` endpoint (in a daemon thread) and the port it is bound to."""

    port: int
    _httpd: WSGIServer
    _thread: threading.Thread

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


def start_metrics_server(registry: CollectorRegistry, *, host: str, port: int) -> MetricsServer:
    """Serve `registry` over HTTP on `host:port` (0 lets the kernel pick)."""
    httpd, thread = start_http_server(port, addr=host, registry=registry)
    return MetricsServer(port=httpd.server_port, _httpd=httpd, _thread=thread)


def serve_metrics(registry: CollectorRegistry, settings: ServiceSettings) -> MetricsServer | None:
    """Serve `registry` on the service's internal interface (`grpc_host`) at
    `metrics_port`; None when `metrics_port` is unset (no endpoint)."""
    if settings.metrics_port is None:
        return None
    server = start_metrics_server(registry, host=settings.grpc_host, port=settings.metrics_port)
    log.info("metrics listening", extra={"metrics_port": server.port})
    return server
