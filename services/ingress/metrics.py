"""ingress's Prometheus metrics, in the service's own servicekit registry."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram

from servicekit.metrics import counter, gauge, histogram, new_registry
from servicekit.supervisor import LoopMetrics
from switchboard.routing.v1 import routing_pb2

# The ack target is a p99 of 25 ms, so the buckets are finer below it than servicekit's.
ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 100, 128, 256)

RESULTS = {
    routing_pb2.RECORD_STATUS_ACCEPTED: "accepted",
    routing_pb2.RECORD_STATUS_DUPLICATE: "duplicate",
    routing_pb2.RECORD_STATUS_REJECTED: "rejected",
    # Failed on its own; kept with its error for an operator to replay: recorded.
    routing_pb2.RECORD_STATUS_QUARANTINED: "quarantined",
}


class RoleMetrics:
    """One bot role's series, looked up once so the hot path only increments."""

    def __init__(self, updates: Counter, ack: Histogram, role: str) -> None:
        self.by_result = {
            result: updates.labels(role=role, result=result)
            for result in (*RESULTS.values(), "unauthorized", "too_large", "unavailable", "error")
        }
        self.ack = ack.labels(role=role)


class IngressMetrics:
    """Updates received by role and result, ack latency by role, batch sizes; and what
    Telegram's getWebhookInfo says about each bot (webhook_info.WebhookInfoWatcher)."""

    def __init__(self, roles: Iterable[str], registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else new_registry()
        updates = counter(
            self.registry,
            "ingress_updates",
            "Updates received, by bot role and result (accepted, duplicate, rejected, "
            "quarantined: recorded by routing; unauthorized, too_large, unavailable, error: not "
            "recorded)",
            ["role", "result"],
        )
        ack = histogram(
            self.registry,
            "ingress_ack_seconds",
            "Time from receiving a webhook request to answering it",
            ["role"],
            buckets=ACK_BUCKETS,
        )
        self.batch_size = histogram(
            self.registry,
            "ingress_batch_size",
            "Updates per RecordUpdates call",
            buckets=BATCH_BUCKETS,
        )
        self.pending_updates = gauge(
            self.registry,
            "telegram_pending_updates",
            "Updates Telegram holds for the bot, not yet delivered to its webhook "
            "(getWebhookInfo's pending_update_count), by role",
            ["role"],
        )
        self.webhook_last_error = gauge(
            self.registry,
            "telegram_webhook_last_error_timestamp_seconds",
            "Unix time of the last error Telegram met delivering to the webhook "
            "(getWebhookInfo's last_error_date), by role; absent until there is one",
            ["role"],
        )
        self.webhook_info_failures = counter(
            self.registry,
            "telegram_webhook_info_failures",
            "getWebhookInfo calls that failed (the gauges above keep their last value)",
            ["role"],
        )
        # The background loops (the getWebhookInfo watcher, the pollers): up, restarts.
        self.loops = LoopMetrics.register(self.registry, "ingress")
        self.roles = {role: RoleMetrics(updates, ack, role) for role in roles}
