"""For the operations RPCs: customers already live, topics reported made over gRPC as
delivery reports them, and the requests operations send."""

from __future__ import annotations

from services.routing.db.enums import CustomerStatus
from services.routing.db.models import Customer, Topic
from switchboard.operations.v1 import operations_pb2 as pb
from switchboard.routing.v1 import routing_pb2
from tests.integration.routing.onboarding_world import CR_GROUP, CS_GROUP, topic_jobs
from tests.integration.routing.stack import OPERATOR, Ops
from tests.integration.routing.world import Sessions

CS_THREAD, CR_THREAD = 11, 21
BY_OLGA = {"actor": OPERATOR}


async def live_customer(
    sessions: Sessions, user: int, name: str, *, team_id: int, treatment: bool = False
) -> int:
    """A customer assigned to a CR team, with open topics in CS and that team's group
    (CR One's); answers their id."""
    async with sessions() as session, session.begin():
        customer = Customer(
            telegram_user_id=user,
            display_name=name,
            email=f"{user}@example.com",
            status=CustomerStatus.ACTIVE,
            cr_team_id=team_id,
            treatment=treatment,
        )
        session.add(customer)
        await session.flush()
        session.add_all(
            Topic(customer_id=customer.id, group_id=group, message_thread_id=thread, name=name)
            for group, thread in ((CS_GROUP, CS_THREAD), (CR_GROUP, CR_THREAD))
        )
        return customer.id


async def make_topics(ops: Ops, threads: dict[int, int]) -> None:
    """Delivery reports each create_topic job out (by group) made with this thread."""
    creating = await topic_jobs(ops.sessions)
    assert set(creating) == set(threads)
    for group, thread in threads.items():
        job = creating[group]
        reply = await ops.routing_stub.ReportOutcome(
            routing_pb2.ReportOutcomeRequest(
                job_id=str(job.id),
                attempt=job.attempts,
                outcome=routing_pb2.OUTCOME_SENT,
                created_thread_id=thread,
            )
        )
        assert reply.applied


def topics(view: pb.Customer) -> list[tuple[int, int, str]]:
    """(group, thread, status) of each of the customer's topics, oldest first."""
    return [(t.chat_id, t.message_thread_id, t.status) for t in view.topics]
