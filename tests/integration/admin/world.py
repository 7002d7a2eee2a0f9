"""The admin tests' world: routing's conversation world with delivery traffic in it for
the operations figures: six jobs, four sent, two failed."""

from __future__ import annotations

from services.routing.conversation import undelivered
from services.routing.conversation.record_batch import record_batch
from services.routing.outbox.claims import claim
from services.routing.outbox.outcomes import Report
from services.routing.outbox.record_outcomes import record_outcomes
from services.routing.wiring import conversation_options, outcome_handlers
from tests.integration.routing.databases import Sessions
from tests.integration.routing.world import World, client_line, seed_world


async def seed_world_with_traffic(sessions: Sessions) -> World:
    """Three client lines (six jobs): four sent, two failed for two reasons. Jobs go out
    as routing hands them out: when recorded (nothing waited) or when the job ahead of
    them finished."""
    async with sessions() as session:
        world = await seed_world(session)
    out = []
    for n in range(3):
        async with sessions() as session, session.begin():
            results = await record_batch(
                session, [client_line(f"line {n}", message_id=n + 1)], conversation_options()
            )
        out.extend(head for result in results for head in result.heads)
    # The figures of exactly six jobs: a failed line's mark in its author's chat (tested
    # with routing's conversation) would add jobs of its own.
    handlers = outcome_handlers()
    handlers.every_failure.remove(undelivered.line_undelivered)
    verdicts = iter(
        [
            ("sent", ""),
            ("sent", ""),
            ("failed", "Bad Request: TOPIC_CLOSED"),
            ("sent", ""),
            ("failed", "Bad Request: chat not found"),
            ("sent", ""),
        ]
    )
    while out:
        head = out.pop(0)
        outcome, reason = next(verdicts)
        async with sessions() as session, session.begin():
            await claim(session, job_id=head.job_id, attempt=head.attempts)
            recorded = await record_outcomes(
                session,
                [
                    Report(
                        head.job_id,
                        head.attempts,
                        outcome,
                        sent=[(1, head.job_id)],
                        error_code=400 if reason else 0,
                        description=reason,
                    )
                ],
                handlers,
            )
        out.extend(recorded.heads)
    assert next(verdicts, None) is None, "every job went out once"
    return world
