"""Metrics: a registry per service, `switchboard_` names, and the /metrics endpoint.

The endpoint test talks HTTP over loopback to a server it starts itself.
"""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from prometheus_client import REGISTRY, generate_latest

from servicekit.metrics import (
    counter,
    gauge,
    histogram,
    new_registry,
    serve_metrics,
    start_metrics_server,
)
from servicekit.settings import ServiceSettings


def test_metrics_are_named_switchboard_and_live_in_their_own_registry() -> None:
    first, second = new_registry(), new_registry()
    sent = counter(first, "jobs_sent", "Jobs sent, by lane.", ["lane"])
    # The same names in another registry do not clash: each test may build a service.
    counter(second, "jobs_sent", "Jobs sent, by lane.", ["lane"])
    gauge(first, "queue_lag_seconds", "Age of the oldest pending job.")
    histogram(first, "send_seconds", "Telegram send latency.")
    sent.labels(lane="staff-to-client").inc(3)

    exposed = generate_latest(first).decode()
    assert 'switchboard_jobs_sent_total{lane="staff-to-client"} 3.0' in exposed
    assert "switchboard_queue_lag_seconds 0.0" in exposed
    assert 'switchboard_send_seconds_bucket{le="0.005"} 0.0' in exposed
    assert "python_info" in exposed  # the standard collectors came along
    assert "switchboard_" not in generate_latest(REGISTRY).decode()


def test_a_bare_registry_has_only_what_the_service_registers() -> None:
    registry = new_registry(process_metrics=False)
    assert generate_latest(registry) == b""


def test_the_endpoint_serves_the_registry_on_the_bound_port_until_stopped() -> None:
    registry = new_registry(process_metrics=False)
    counter(registry, "updates_in", "Updates received.").inc()
    server = start_metrics_server(registry, host="127.0.0.1", port=0)
    url = f"http://127.0.0.1:{server.port}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = response.read().decode()
    finally:
        server.stop()

    assert server.port > 0
    assert "switchboard_updates_in_total 1.0" in body
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=5)


def test_a_service_serves_metrics_on_its_internal_interface_only_when_told() -> None:
    registry = new_registry(process_metrics=False)
    counter(registry, "calls", "Calls.").inc()
    assert serve_metrics(registry, ServiceSettings(grpc_port=0)) is None
    server = serve_metrics(registry, ServiceSettings(grpc_port=0, metrics_port=0))
    assert server is not None
    try:
        # grpc_host (127.0.0.1 by default) is where it listens: the internal interface.
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5) as r:
            assert "switchboard_calls_total 1.0" in r.read().decode()
    finally:
        server.stop()
