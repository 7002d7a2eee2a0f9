"""OperationsService for updates quarantined by recording (failed on their own): listed,
and replayed through the normal recording once the cause is fixed."""

from __future__ import annotations

import logging

from servicekit.errors import FailedPrecondition, NotFound, Unavailable
from services.routing.api.operations_parts import Parts
from services.routing.conversation import poison
from services.routing.conversation.batch import Options
from services.routing.db.models import InboundUpdate
from services.routing.db.transient import transient
from services.routing.operations import audit_log, fields, quarantine
from switchboard.operations.v1 import operations_pb2 as pb

log = logging.getLogger(__name__)


async def list_quarantined(
    parts: Parts, request: pb.ListQuarantinedUpdatesRequest
) -> pb.QuarantinedUpdateList:
    """Updates that failed on their own, newest first, a page at a time."""
    async with parts.sessions() as session:
        updates, next_before = await quarantine.quarantined(
            session, limit=request.limit, before_id=request.before_id
        )
    return pb.QuarantinedUpdateList(updates=updates, next_before_id=next_before)


async def replay(parts: Parts, request: pb.ReplayUpdatesRequest) -> pb.ReplayUpdatesResponse:
    """Quarantined updates through the normal recording again, one transaction each
    (with its audit row): recorded, the row takes the status recording gives it;
    failing still, it stays quarantined with the new error."""
    fields.actor(request.actor)
    ids = quarantine.which(list(request.ids), request.all)
    if parts.recording is None:
        raise FailedPrecondition("replaying updates is not set up in this process")
    if request.all:
        async with parts.sessions() as session:
            ids = await quarantine.quarantined_ids(session)
    elif len(ids) == 1:
        async with parts.sessions() as session:
            if await session.get(InboundUpdate, ids[0]) is None:
                raise NotFound(f"no update with id {ids[0]}")
    answers = [await _replay_one(parts, row_id, parts.recording, request.actor) for row_id in ids]
    replayed = [a for a in answers if a is not None]
    recovered = sum(a.status != "quarantined" for a in replayed)
    log.info("quarantined updates replayed", extra={"count": len(replayed), "recovered": recovered})
    return pb.ReplayUpdatesResponse(updates=replayed, recovered=recovered)


async def _replay_one(
    parts: Parts, row_id: int, recording: Options, actor: pb.Actor
) -> pb.ReplayedUpdate | None:
    """One replay; None when the row is not (or no longer) quarantined."""
    try:
        async with parts.sessions() as session, session.begin():
            done = await poison.replay(session, row_id, recording)
            if done is None:
                return None
            audit_log.audit(session, actor, "update.replay", "update", row_id, result=done.status)
    except Exception as error:
        if transient(error) is not None:
            raise Unavailable("the database is unavailable; try again") from error
        what = poison.describe(error)
        log.warning(
            "replayed update failed again", exc_info=error, extra={"id": row_id, "error": what}
        )
        async with parts.sessions() as session, session.begin():
            await poison.still_failing(session, row_id, what)
            audit_log.audit(
                session,
                actor,
                "update.replay",
                "update",
                row_id,
                result="quarantined",
                details={"error": what[:255]},
            )
        return pb.ReplayedUpdate(id=row_id, status="quarantined", reason=what)
    # Committed: as for an update recorded by RoutingService.
    recorded = done.recorded
    parts.relay.hand_over(list(recorded.heads))
    if recorded.wake:
        parts.relay.wake()
    if recorded.check and parts.checker is not None:
        parts.checker.wake()
    return pb.ReplayedUpdate(id=row_id, status=done.status, reason=done.reason)
