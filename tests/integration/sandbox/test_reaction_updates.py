"""The shape of message_reaction and my_chat_member updates, as Telegram sends them
(checked on the raw JSON a bot receives, not through aiogram's models)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import ReactionTypeEmoji

from sandbox.client import SandboxClient
from tests.cast import ANN, ANNA, BOB, CR_TOKEN, CS_GROUP, CS_TOKEN
from tests.integration.sandbox.webhook_receiver import WebhookReceiver

REACTION_KEYS = {"chat", "message_id", "user", "date", "old_reaction", "new_reaction"}
ANN_CHAT = {"id": ANN, "type": "private", "first_name": "Ann", "username": "ann"}
ANN_USER = {"id": ANN, "is_bot": False, "first_name": "Ann", "username": "ann"}
THUMBS = [{"type": "emoji", "emoji": "👍"}]
# A forum where both bots are admins, so both would hear every reaction.
BOTH = -1002005


async def _confirm_all(bot: Bot, **kwargs) -> None:
    """Confirm whatever is pending (getUpdates with `kwargs`, e.g. allowed_updates)."""
    updates = await bot.get_updates(**kwargs)
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1)


async def _pending(cast: SandboxClient, bot: str, kind: str) -> list[dict]:
    return [u[kind] for u in (await cast.updates(bot))["pending"] if kind in u]


async def test_private_reaction_by_webhook(
    client_bot: Bot, cast: SandboxClient, webhook: WebhookReceiver
) -> None:
    await cast.send(ANN, "@client_bot", "/start")
    said = await client_bot.send_message(ANN, "rate me")
    await client_bot.set_webhook(
        webhook.url, allowed_updates=["message", "message_reaction"], drop_pending_updates=True
    )
    await cast.react(ANN, "@client_bot", said.message_id, "👍")
    await cast.react(ANN, "@client_bot", said.message_id, [])
    await webhook.wait_until(lambda: len(webhook.accepted()) == 2)
    set_, removed = (d.update["message_reaction"] for d in webhook.accepted())
    for update in (set_, removed):
        assert set(update) == REACTION_KEYS
        assert (update["chat"], update["user"]) == (ANN_CHAT, ANN_USER)
        assert update["message_id"] == said.message_id
        assert isinstance(update["date"], int) and update["date"] > 0
    assert (set_["old_reaction"], set_["new_reaction"]) == ([], THUMBS)
    assert (removed["old_reaction"], removed["new_reaction"]) == (THUMBS, [])


async def test_private_reaction_by_get_updates(client_bot: Bot, cast: SandboxClient) -> None:
    line = await cast.send(ANN, "@client_bot", "thanks!")
    await _confirm_all(client_bot, allowed_updates=["message_reaction"])
    await cast.react(ANN, "@client_bot", line["message_id"], "❤️")
    await cast.react(ANN, "@client_bot", line["message_id"], [])
    heart = [{"type": "emoji", "emoji": "❤"}]
    updates = await _pending(cast, "client_bot", "message_reaction")
    assert [(u["old_reaction"], u["new_reaction"]) for u in updates] == [([], heart), (heart, [])]
    assert all(set(u) == REACTION_KEYS and u["chat"] == ANN_CHAT for u in updates)
    parsed = [u.message_reaction for u in await client_bot.get_updates()]
    assert [(r.user.id, r.chat.id, r.message_id) for r in parsed if r] == [
        (ANN, ANN, line["message_id"])
    ] * 2


async def test_forum_reaction_reaches_the_admin_bot_without_thread(
    cs_bot: Bot, cr_bot: Bot, cast: SandboxClient
) -> None:
    for bot in (cs_bot, cr_bot):
        await bot.get_updates(allowed_updates=["message_reaction"])
    tid = (await cs_bot.create_forum_topic(CS_GROUP, "Ann")).message_thread_id
    line = await cast.send(ANNA, CS_GROUP, "in the topic", message_thread_id=tid)
    await cast.react(BOB, CS_GROUP, line["message_id"], "👍")
    (update,) = await _pending(cast, "cs_bot", "message_reaction")
    # Telegram's MessageReactionUpdated has no message_thread_id, even in a topic.
    assert set(update) == REACTION_KEYS
    assert update["chat"] == {"id": CS_GROUP, "type": "supergroup", "title": "CS", "is_forum": True}
    assert (update["message_id"], update["user"]["id"]) == (line["message_id"], BOB)
    assert (update["old_reaction"], update["new_reaction"]) == ([], THUMBS)
    # The CR bot is a plain member there: no reactions for it.
    assert await _pending(cast, "cr_bot", "message_reaction") == []


async def test_reactions_set_by_bots_produce_no_update(
    make_bot, client_bot: Bot, cast: SandboxClient
) -> None:
    await cast.scenario(
        {
            "groups": [
                {
                    "id": BOTH,
                    "title": "Both",
                    "forum": True,
                    "members": [ANNA],
                    "admins": [CS_TOKEN, CR_TOKEN],
                }
            ]
        }
    )
    cs_bot, cr_bot = make_bot(CS_TOKEN), make_bot(CR_TOKEN)
    for bot in (cs_bot, cr_bot, client_bot):
        await bot.get_updates(allowed_updates=["message_reaction"])
    line = await cast.send(ANNA, BOTH, "react to me")
    private = await cast.send(ANN, "@client_bot", "and me")
    thumbs = [ReactionTypeEmoji(emoji="👍")]
    assert await cs_bot.set_message_reaction(BOTH, line["message_id"], thumbs)
    assert await cr_bot.set_message_reaction(BOTH, line["message_id"], thumbs)
    assert await cs_bot.set_message_reaction(BOTH, line["message_id"], [])
    assert await client_bot.set_message_reaction(ANN, private["message_id"], thumbs)
    for bot in ("cs_bot", "cr_bot", "client_bot"):
        assert await _pending(cast, bot, "message_reaction") == [], bot
    # A person's reaction still arrives, its old_reaction only the person's own.
    await cast.react(ANNA, BOTH, line["message_id"], "🔥")
    for bot in ("cs_bot", "cr_bot"):
        (update,) = await _pending(cast, bot, "message_reaction")
        assert update["old_reaction"] == [] and update["user"]["id"] == ANNA


async def test_block_and_unblock_my_chat_member_shape(client_bot: Bot, cast: SandboxClient) -> None:
    await cast.send(ANN, "@client_bot", "/start")
    await _confirm_all(client_bot)
    me = await client_bot.get_me()
    bot_user = {"id": me.id, "is_bot": True, "first_name": me.first_name, "username": me.username}
    await cast.block(ANN, "client_bot")
    await cast.unblock(ANN, "client_bot")
    blocked, unblocked = await _pending(cast, "client_bot", "my_chat_member")
    for update in (blocked, unblocked):
        assert set(update) == {"chat", "from", "date", "old_chat_member", "new_chat_member"}
        assert (update["chat"], update["from"]) == (ANN_CHAT, ANN_USER)
        assert isinstance(update["date"], int)
    member = {"status": "member", "user": bot_user}
    kicked = {"status": "kicked", "user": bot_user, "until_date": 0}
    assert (blocked["old_chat_member"], blocked["new_chat_member"]) == (member, kicked)
    assert (unblocked["old_chat_member"], unblocked["new_chat_member"]) == (kicked, member)
