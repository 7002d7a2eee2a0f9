"""REST for updates quarantined by routing (failed on their own): listed, and replayed
through the normal recording once the cause is fixed."""

from __future__ import annotations

from switchboard.operations.v1 import operations_pb2 as ops_pb2

from .bodies import QuarantinedQuery, UpdateReplay
from .rest import Call, Route

UPDATE = ("update", "id")


async def list_quarantined(call: Call) -> ops_pb2.QuarantinedUpdateList:
    q: QuarantinedQuery = call.query
    request = ops_pb2.ListQuarantinedUpdatesRequest(limit=q.limit, before_id=q.before_id)
    return await call.forward(call.ops.ListQuarantinedUpdates, request)


async def replay_one(call: Call) -> ops_pb2.ReplayUpdatesResponse:
    return await call.forward(
        call.ops.ReplayUpdates, ops_pb2.ReplayUpdatesRequest(ids=[call.path_int("id")])
    )


async def replay_many(call: Call) -> ops_pb2.ReplayUpdatesResponse:
    body: UpdateReplay = call.body
    if body.all:
        call.attempt.target("update", "all")
    elif len(body.ids) == 1:
        call.attempt.target("update", body.ids[0])
    else:
        call.attempt.details = {"ids": body.ids[:100]}
    request = ops_pb2.ReplayUpdatesRequest(ids=body.ids, all=body.all)
    return await call.forward(call.ops.ReplayUpdates, request)


ROUTES = [
    Route(
        "GET",
        "/v1/updates/quarantined",
        "ListQuarantinedUpdates",
        list_quarantined,
        "Updates that failed on their own (quarantined), newest first",
        ops_pb2.QuarantinedUpdateList.DESCRIPTOR,
        query=QuarantinedQuery,
    ),
    Route(
        "POST",
        "/v1/updates/replay",
        "ReplayUpdates",
        replay_many,
        "Record quarantined updates again, by id or all, once the cause is fixed",
        ops_pb2.ReplayUpdatesResponse.DESCRIPTOR,
        body=UpdateReplay,
    ),
    Route(
        "POST",
        "/v1/updates/{id}/replay",
        "ReplayUpdates",
        replay_one,
        "Record one quarantined update again",
        ops_pb2.ReplayUpdatesResponse.DESCRIPTOR,
        target=UPDATE,
    ),
]
