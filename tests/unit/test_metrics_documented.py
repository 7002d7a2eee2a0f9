"""docs/metrics.md and the code agree: each service's table lists exactly the metrics
its registry holds, with their types and labels; the closed label sets are listed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

from servicekit.lanes import LANES
from servicekit.metrics import new_registry
from services.admin.http_api import ROUTES
from services.admin.metrics import AdminMetrics
from services.admin.scopes import DEACTIVATE_ACTIONS, OPERATIONS
from services.delivery.metrics import DeliveryMetrics
from services.ingress.metrics import IngressMetrics
from services.routing.domain.failures import REASONS
from services.routing.metrics import RoutingMetrics

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
ROW = re.compile(r"^\| `(switchboard_\w+)` \| (\w+) \| ([^|]*) \|", re.MULTILINE)
Documented = set[tuple[str, str, tuple[str, ...]]]


def registries() -> dict[str, CollectorRegistry]:
    """Each service's registry as its metrics class builds it (no I/O, no process
    metrics: those are prometheus_client's own)."""
    return {
        "ingress": IngressMetrics(["client"], new_registry(process_metrics=False)).registry,
        "routing": RoutingMetrics(new_registry(process_metrics=False)).registry,
        "delivery": DeliveryMetrics(registry=new_registry(process_metrics=False)).registry,
        "admin": AdminMetrics(new_registry(process_metrics=False)).registry,
    }


def instruments(registry: CollectorRegistry) -> Iterator[MetricWrapperBase]:
    # prometheus_client has no public list of a registry's collectors, nor of a
    # metric's label names (a labelled metric with no series yet collects as no samples).
    for collector in list(registry._collector_to_names):
        assert isinstance(collector, MetricWrapperBase), collector
        yield collector


def in_code(registry: CollectorRegistry) -> Documented:
    found = set()
    for metric in instruments(registry):
        name = metric._name + ("_total" if metric._type == "counter" else "")
        found.add((name, metric._type, tuple(metric._labelnames)))
    return found


def in_doc(service: str) -> Documented:
    text = DOC.read_text()
    section = re.search(rf"^## {service}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert section, f"no '## {service}' section in {DOC.name}"
    return {
        (name, kind, tuple(re.findall(r"`(\w+)`", labels)))
        for name, kind, labels in ROW.findall(section.group(1))
    }


@pytest.mark.parametrize("service", ["ingress", "routing", "delivery", "admin"])
def test_each_service_documents_exactly_its_metrics(service: str) -> None:
    code = in_code(registries()[service])
    assert code, "a service with no metrics of its own"
    assert in_doc(service) == code


def test_every_name_is_ours_and_unique_across_services() -> None:
    names = [name for r in registries().values() for name, _, _ in in_code(r)]
    assert all(name.startswith("switchboard_") for name in names)
    assert len(names) == len(set(names))


def test_the_closed_label_sets_are_listed() -> None:
    text = DOC.read_text()
    actions = {op.action for op in OPERATIONS.values()} | set(DEACTIVATE_ACTIONS.values())
    actions |= {route.audit_action for route in ROUTES}
    for word in (*REASONS, *LANES, *actions):
        assert f"`{word}`" in text, word
