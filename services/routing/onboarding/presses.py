"""A CS member pressed a prompt's button (a `callback_query` to the CS bot).

Every press is answered (answerCallbackQuery: Telegram shows a spinner until then): the
one that decided with what it did, the others with who decided first. The decision
edits the prompt (services/routing/onboarding/prompts.py) so everyone in the intake sees
the outcome, buttons gone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import GroupRole
from services.routing.db.models import StaffGroup
from services.routing.domain import onboarding
from services.routing.domain.inbound import JsonObject
from services.routing.domain.plan import Action, Planned
from services.routing.onboarding import decisions
from services.routing.onboarding.prompts import CS_PROMPTS
from services.routing.outbox.jobs import Outgoing
from services.routing.records import people

STALE = "This button is no longer in use."


async def on_press(
    session: AsyncSession,
    update: JsonObject,
    *,
    bot_id: int,
    correlation: str,
    now: datetime,
    texts: onboarding.Texts,
) -> list[Outgoing]:
    query = update.get("callback_query")
    if not isinstance(query, dict) or not isinstance(query.get("id"), str):
        return []
    presser = query.get("from") or {}
    message = query.get("message") or {}
    chat_id = (message.get("chat") or {}).get("id")

    def answer(text: str, *, alert: bool = False) -> Outgoing:
        action = Action(
            "answer_callback", text=text, callback_query_id=query["id"], show_alert=alert
        )
        job = Planned(
            lane=CS_PROMPTS,
            bot_id=bot_id,
            chat_id=int(presser.get("id") or 0),
            thread_id=None,
            content=action,
            topic_id=None,
            reply_to_origin=None,
        )
        return Outgoing(None, [job], correlation)

    press = onboarding.read_press(str(query.get("data") or ""))
    group = await session.get(StaffGroup, chat_id) if isinstance(chat_id, int) else None
    if press is None or group is None or group.role != GroupRole.CS or group.bot_id != bot_id:
        return [answer(STALE)]
    actor = await _actor(session, presser, str(group.role))
    if press.team_id:
        outcome = await decisions.confirm(
            session,
            press.assignment_id,
            press.team_id,
            actor,
            now=now,
            texts=texts,
            correlation=correlation,
        )
        said = f"Confirmed: {outcome.customer_name} → {outcome.team}"
    else:
        outcome = await decisions.reject(
            session, press.assignment_id, actor, now=now, texts=texts, correlation=correlation
        )
        said = f"Rejected: {outcome.customer_name}"
    if not outcome.done:
        return [answer(outcome.reason, alert=True)]
    # The decision edits the prompt (whoever decides: a press here, or the API).
    return [answer(said), *outcome.lines]


async def _actor(session: AsyncSession, presser: JsonObject, group_role: str) -> decisions.Actor:
    user_id = int(presser.get("id") or 0)
    names = await people.staff_names(session, {user_id})
    telegram = " ".join(p for p in (presser.get("first_name"), presser.get("last_name")) if p)
    author = people.author(names, user_id=user_id, name=telegram, group_role=group_role)
    return decisions.Actor("staff", str(user_id), f"{author.name} · {author.role}")
