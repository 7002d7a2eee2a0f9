"""The operations summary, asked of routing (admin never touches the database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from servicekit.errors import InvalidArgument
from switchboard.routing.v1 import routing_pb2, routing_pb2_grpc

DEFAULT_WINDOW = timedelta(days=7)


def window(since: str | None, until: str | None) -> tuple[datetime, datetime]:
    """The window from ISO 8601 strings; the last 7 days by default."""
    try:
        end = datetime.fromisoformat(until) if until else datetime.now(UTC)
        start = datetime.fromisoformat(since) if since else end - DEFAULT_WINDOW
    except ValueError:
        raise InvalidArgument("since and until must be ISO 8601 times") from None
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    if end <= start:
        raise InvalidArgument("until must be after since")
    return start, end


async def fetch(
    routing: routing_pb2_grpc.RoutingServiceStub, since: datetime, until: datetime
) -> routing_pb2.DeliverySummary:
    start, end = Timestamp(), Timestamp()
    start.FromDatetime(since)
    end.FromDatetime(until)
    return await routing.GetDeliverySummary(
        routing_pb2.GetDeliverySummaryRequest(since=start, until=end)
    )


def as_json(summary: routing_pb2.DeliverySummary, since: datetime, until: datetime) -> dict:
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "sends": summary.sends,
        "succeeded": summary.succeeded,
        "failed": summary.failed,
        "pending": summary.pending,
        "success_rate": round(summary.success_rate, 4),
        "peak_daily_volume": summary.peak_daily_volume,
        "failures_by_reason": [
            {"reason": f.reason, "count": f.count} for f in summary.failures_by_reason
        ],
    }
