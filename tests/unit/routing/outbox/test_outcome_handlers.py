"""The outcome handler table refuses a registration that would shadow another."""

from __future__ import annotations

import pytest

from services.routing.outbox.outcomes import NOTHING, Effects, Outcome, OutcomeHandlers
from switchboard.delivery.v1 import job_pb2


async def _nothing(session: object, outcome: Outcome) -> Effects:
    return NOTHING


def _for_customers(job: job_pb2.DeliveryJob) -> bool:
    return job.create_topic.customer_id != 0


def _for_others(job: job_pb2.DeliveryJob) -> bool:
    return job.create_topic.customer_id == 0


def test_two_handlers_of_one_kind_must_each_say_which_jobs_they_take() -> None:
    handlers = OutcomeHandlers()
    handlers.on_sent("create_topic", _nothing)
    with pytest.raises(ValueError, match="create_topic"):
        handlers.on_sent("create_topic", _nothing, applies=_for_customers)


def test_handlers_that_tell_their_jobs_apart_both_register() -> None:
    handlers = OutcomeHandlers()
    handlers.on_failed("create_topic", _nothing, applies=_for_customers)
    handlers.on_failed("create_topic", _nothing, applies=_for_others)
    assert len(handlers.failed["create_topic"]) == 2
