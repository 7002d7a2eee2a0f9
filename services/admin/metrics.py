"""admin's Prometheus metrics, in the service's own servicekit registry.

Counted where every call is audited (audit.audited), REST and gRPC alike, so the
figures and the audit log agree. `action` is an audit action (scopes.OPERATIONS,
scopes.DEACTIVATE_ACTIONS) and `result` an audit result word (errors.AUDIT_RESULTS, or
"error"): both closed sets.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from servicekit.metrics import counter, histogram, new_registry


class AdminMetrics:
    """Calls by action and result, and their duration by action."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else new_registry()
        self.calls = counter(
            self.registry,
            "admin_calls",
            "Operations API calls (REST and gRPC), by audit action and result",
            ["action", "result"],
        )
        self.seconds = histogram(
            self.registry,
            "admin_call_seconds",
            "Operations API call duration (key check and routing's work), by audit action",
            ["action"],
        )

    def called(self, action: str, result: str, seconds: float) -> None:
        self.calls.labels(action=action, result=result).inc()
        self.seconds.labels(action=action).observe(seconds)
