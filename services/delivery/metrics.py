"""delivery's Prometheus metrics, in the service's own servicekit registry.

Labels stay bounded: `bot` is the bot's role (client, cs, cr, treatment; "unknown" for
a job naming a bot delivery has no token for), `method` a Telegram method name or a
job's action, `lane` one of servicekit.lanes.LANES, `scope` a pacing limit.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from prometheus_client import CollectorRegistry

from servicekit.lanes import LANES
from servicekit.metrics import counter, histogram, new_registry
from switchboard.delivery.v1 import job_pb2

from .outcome import Result

UNKNOWN_BOT = "unknown"
# Telegram asks for seconds to minutes; a flood wait can be hours.
RETRY_AFTER_BUCKETS = (1, 2, 3, 5, 10, 20, 30, 60, 120, 300, 900, 3600)
# Pacing holds a push at most max_pace_wait_seconds (5 s by default).
PACING_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)
# From a job written to its first push being taken: milliseconds when idle, minutes
# behind a flooding destination or a lane's dispatch rate.
LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)


class DeliveryMetrics:
    """Jobs carried out by bot, action and outcome; Telegram calls, their latency and
    429s; pacing waits; queue lag per lane."""

    def __init__(
        self, bots: Mapping[int, str] | None = None, registry: CollectorRegistry | None = None
    ) -> None:
        self.roles = dict(bots or {})  # bot id -> role
        self.registry = registry if registry is not None else new_registry()
        r = self.registry
        self.sends = counter(
            r,
            "delivery_sends",
            "Jobs carried out, by bot role, job action and outcome (sent, retry, failed; "
            "deferred: handed back because pacing would hold it too long)",
            ["bot", "method", "outcome"],
        )
        self.fallbacks = counter(
            r,
            "delivery_plain_text_fallbacks",
            "Jobs sent as plain text because Telegram could not parse their formatting",
            ["bot"],
        )
        self.requests = counter(
            r,
            "telegram_requests",
            "Bot API calls by bot role, Telegram method and result (ok, an HTTP error "
            "code such as 400 or 429, network, timeout)",
            ["bot", "method", "result"],
        )
        self.latency = histogram(
            r,
            "telegram_request_seconds",
            "Bot API call latency, by bot role and Telegram method",
            ["bot", "method"],
        )
        self.too_many = counter(
            r,
            "telegram_429",
            "Bot API calls answered 429, by bot role and method",
            ["bot", "method"],
        )
        self.retry_after = histogram(
            r,
            "telegram_retry_after_seconds",
            "retry_after of Telegram's 429 answers, by bot role",
            ["bot"],
            buckets=RETRY_AFTER_BUCKETS,
        )
        self.pacing_wait = histogram(
            r,
            "delivery_pacing_wait_seconds",
            "Time a send waited for its pacing slot, by the limit that set it (bot, chat, "
            "group; none: it went at once)",
            ["scope"],
            buckets=PACING_BUCKETS,
        )
        self.pacing_deferred = counter(
            r,
            "delivery_pacing_deferred",
            "Sends handed back to their queue because their pacing wait was too long, by limit",
            ["scope"],
        )
        self.queue_lag = histogram(
            r,
            "delivery_queue_lag_seconds",
            "From a job being written to the outbox to delivery taking its first push, by lane",
            ["lane"],
            buckets=LAG_BUCKETS,
        )
        for lane in LANES:  # present before traffic, for dashboards and alerts
            self.queue_lag.labels(lane=lane)
        self.unsure_checks = counter(
            r,
            "delivery_unsure_checks",
            "Unsure sends looked for before being sent again, by bot role and result (found, "
            "not_found, undecided, no_log_chat, error)",
            ["bot", "result"],
        )

    def role(self, bot_id: int) -> str:
        return self.roles.get(bot_id, UNKNOWN_BOT)

    def taken(self, lane: str, job: job_pb2.DeliveryJob) -> None:
        """A push was claimed: its queue lag, for a first attempt (a retry's lag would
        include the wait Telegram or the backoff asked for)."""
        if job.attempt != 1 or not job.HasField("created_at"):
            return
        lag = time.time() - job.created_at.ToNanoseconds() / 1e9
        self.queue_lag.labels(lane=lane).observe(max(0.0, lag))  # clocks differ a little

    def carried_out(self, job: job_pb2.DeliveryJob, result: Result, *, deferred: bool) -> None:
        """A job's attempt ended with `result`."""
        bot = self.role(job.bot_id)
        outcome = "deferred" if deferred else result.verdict.value
        self.sends.labels(bot=bot, method=job.WhichOneof("action") or "none", outcome=outcome).inc()
        if result.plain_text_fallback:
            self.fallbacks.labels(bot=bot).inc()

    def checked(self, bot_id: int, result: str) -> None:
        """An unsure send was looked for (probe.py): found, not_found, undecided,
        no_log_chat, error."""
        self.unsure_checks.labels(bot=self.role(bot_id), result=result).inc()

    # The pacer's observer (pacing.PacingObserver).
    def waited(self, scope: str, seconds: float) -> None:
        self.pacing_wait.labels(scope=scope).observe(seconds)

    def deferred(self, scope: str, seconds: float) -> None:
        del seconds  # the job's retry_after says it; the count is what alerts need
        self.pacing_deferred.labels(scope=scope).inc()
