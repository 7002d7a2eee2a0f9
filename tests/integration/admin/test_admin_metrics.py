"""Every operations call is counted by action and result, REST and gRPC alike, with the
same words as its audit row."""

from __future__ import annotations

import grpc
import pytest

from switchboard.operations.v1 import operations_pb2 as ops_pb2
from tests.integration.admin.stack import Admin


def calls(admin: Admin, action: str, result: str) -> float:
    assert admin.metrics is not None
    sample = admin.metrics.registry.get_sample_value(
        "switchboard_admin_calls_total", {"action": action, "result": result}
    )
    return sample or 0.0


async def test_rest_and_grpc_calls_are_counted_as_they_are_audited(admin: Admin) -> None:
    key = await admin.key("read")
    assert (await admin.call("GET", "/v1/teams", key)).status == 200
    assert (await admin.call("GET", "/v1/teams")).status == 401
    with pytest.raises(grpc.aio.AioRpcError):
        await admin.grpc.PutTeam(
            ops_pb2.PutTeamRequest(name="CR Two"), metadata=[("authorization", f"Bearer {key}")]
        )
    assert calls(admin, "teams.list", "ok") == 1
    assert calls(admin, "teams.list", "unauthenticated") == 1
    assert calls(admin, "teams.put", "forbidden") == 1
    rows = await admin.audit_rows()
    assert sorted((r.action, r.result) for r in rows) == [
        ("teams.list", "ok"),
        ("teams.list", "unauthenticated"),
        ("teams.put", "forbidden"),
    ]
    assert admin.metrics is not None
    duration = admin.metrics.registry.get_sample_value(
        "switchboard_admin_call_seconds_count", {"action": "teams.list"}
    )
    assert duration == 2
