"""Every call of the operations API leaves an audit row, whether it was allowed or not."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from servicekit import api_keys
from servicekit.logs import correlation_id
from switchboard.operations.v1 import operations_pb2, operations_pb2_grpc

from .errors import Failure
from .metrics import AdminMetrics

log = logging.getLogger(__name__)
# The audit write follows the answer's work; a stuck routing must not hold it long.
AUDIT_DEADLINE = 3.0
_ID_LENGTH = 64  # the audit log's column width for ids


@dataclass
class Attempt:
    """What one call is, filled in as it becomes known (the key, the target)."""

    action: str
    via: str  # rest or grpc: tells admin's row from routing's own row of the same change
    actor_id: str = ""
    target_kind: str = ""
    target_id: str = ""
    details: dict[str, Any] | None = None

    def target(self, kind: str, target_id: object) -> None:
        # Masked: a whole key pasted for a key id must not land in the audit log.
        self.target_kind, self.target_id = kind, api_keys.mask(str(target_id))[:_ID_LENGTH]


@asynccontextmanager
async def audited(
    ops: operations_pb2_grpc.OperationsServiceStub,
    action: str,
    *,
    via: str,
    metrics: AdminMetrics | None = None,
) -> AsyncIterator[Attempt]:
    """Audit the block as one call: "ok" if it ends normally, else the failure's result
    ("error" for anything unforeseen); count it in `metrics` under the same words. The
    block's exception goes on unchanged."""
    attempt = Attempt(action, via)
    started = time.perf_counter()

    async def ended(result: str) -> None:
        if metrics is not None:
            metrics.called(action, result, time.perf_counter() - started)
        await record(ops, attempt, result)

    try:
        yield attempt
    except Failure as failure:
        await ended(failure.result)
        raise
    except Exception:
        await ended("error")
        raise
    await ended("ok")


async def record(
    ops: operations_pb2_grpc.OperationsServiceStub, attempt: Attempt, result: str
) -> None:
    """Write the audit row; a failed write is logged, never the caller's problem (a call
    that could not reach routing has already failed on its own)."""
    occurred = Timestamp()
    occurred.FromDatetime(datetime.now(UTC))
    entry = operations_pb2.AuditEntry(
        actor=operations_pb2.Actor(kind="api_key", id=attempt.actor_id[:_ID_LENGTH]),
        action=attempt.action,
        target_kind=attempt.target_kind,
        target_id=attempt.target_id,
        result=result,
        occurred_at=occurred,
        details_json=json.dumps({"via": attempt.via, **(attempt.details or {})}),
        correlation_id=correlation_id.get() or "",
    )
    try:
        await ops.RecordAudit(entry, timeout=AUDIT_DEADLINE)
    except grpc.aio.AioRpcError as error:
        log.warning(
            "audit write failed",
            extra={"action": attempt.action, "result": result, "grpc_code": error.code().name},
        )
    except Exception:
        log.exception("audit write failed", extra={"action": attempt.action, "result": result})
