"""A mention by id in a bot's message — a tg://user?id= link (HTML, MarkdownV2, a
text_link entity) or a text_mention entity given with just an id — comes back as a
text_mention carrying the whole user, as the Bot API renders it."""

from __future__ import annotations

import json

import aiohttp
import pytest

from sandbox.client import SandboxClient
from tests.cast import ANN, ANNA, BOB, CS_GROUP, CS_TOKEN
from tests.integration.sandbox.raw_http import bot_api

pytestmark = pytest.mark.usefixtures("ann_started")

ANN_USER = {"id": ANN, "is_bot": False, "first_name": "Ann", "username": "ann"}
ANNA_USER = {"id": ANNA, "is_bot": False, "first_name": "Anna", "last_name": "Staff"}
BOB_USER = {"id": BOB, "is_bot": False, "first_name": "Bob"}
CS_BOT_USER = {"id": 1002, "is_bot": True, "first_name": "cs_bot", "username": "cs_bot"}


def mention(offset: int, length: int, user: dict) -> dict:
    return {"type": "text_mention", "offset": offset, "length": length, "user": user}


async def sent(
    http: aiohttp.ClientSession,
    url: str,
    method: str = "sendMessage",
    files: dict[str, bytes] | None = None,
    **data: object,
):
    """A call by the CS bot into the CS group; `files` go as multipart parts."""
    form = aiohttp.FormData()
    for key, value in {"chat_id": CS_GROUP, **data}.items():
        form.add_field(key, str(value))
    for name, content in (files or {}).items():
        form.add_field(name, content, filename=f"{name}.jpg")
    answer = await bot_api(http, url, method, token=CS_TOKEN, data=form)
    assert answer.status == 200, answer.text
    return answer.body["result"]


@pytest.mark.parametrize(
    ("data", "entities"),
    [
        pytest.param(
            {"text": 'Client: <a href="tg://user?id=5001">Ann</a>', "parse_mode": "HTML"},
            [mention(8, 3, ANN_USER)],
            id="HTML link",
        ),
        pytest.param(
            {"text": "Staff: [Anna](tg://user?id=6001)", "parse_mode": "MarkdownV2"},
            [mention(7, 4, ANNA_USER)],
            id="MarkdownV2 link",
        ),
        pytest.param(
            {"text": "Staff: [Bob](tg://user?ID=6002)", "parse_mode": "Markdown"},
            [mention(7, 3, BOB_USER)],
            id="Markdown link",
        ),
        pytest.param(
            {
                "text": "Bob said",
                "entities": json.dumps(
                    [{"type": "text_link", "offset": 0, "length": 3, "url": "tg://user?id=6002"}]
                ),
            },
            [mention(0, 3, BOB_USER)],
            id="text_link entity",
        ),
        pytest.param(
            {
                "text": "Anna said",
                "entities": json.dumps(
                    [{"type": "text_mention", "offset": 0, "length": 4, "user": {"id": 6001}}]
                ),
            },
            [mention(0, 4, ANNA_USER)],
            id="text_mention with an id",
        ),
        pytest.param(
            {"text": '<a href="tg://user?id=1002">the bot</a>', "parse_mode": "HTML"},
            [mention(0, 7, CS_BOT_USER)],
            id="a bot",
        ),
        pytest.param(
            {"text": '<a href="tg://user?id=777">someone</a>', "parse_mode": "HTML"},
            [mention(0, 7, {"id": 777, "is_bot": False, "first_name": ""})],
            id="unknown to the sandbox",
        ),
    ],
)
async def test_a_mention_by_id_carries_the_whole_user(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient, data: dict, entities: list
) -> None:
    message = await sent(http, sandbox_url, **data)
    assert message["entities"] == entities
    shown = await cast.messages(CS_GROUP)
    assert shown[-1]["entities"] == entities


async def test_captions_edits_and_forwards_carry_the_user(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    link = '<a href="tg://user?id=5001">Ann</a>'
    expected = [mention(0, 3, ANN_USER)]
    photo = await sent(
        http,
        sandbox_url,
        "sendPhoto",
        files={"photo": b"p"},
        caption=link,
        parse_mode="HTML",
    )
    assert photo["caption_entities"] == expected
    text = await sent(http, sandbox_url, text="plain")
    edited = await sent(
        http,
        sandbox_url,
        "editMessageText",
        message_id=text["message_id"],
        text=link,
        parse_mode="HTML",
    )
    assert edited["entities"] == expected
    album = await sent(
        http,
        sandbox_url,
        "sendMediaGroup",
        files={"one": b"1", "two": b"2"},
        media=json.dumps(
            [
                {
                    "type": "photo",
                    "media": "attach://one",
                    "caption": link,
                    "parse_mode": "HTML",
                },
                {"type": "photo", "media": "attach://two"},
            ]
        ),
    )
    assert album[0]["caption_entities"] == expected
    forwarded = await sent(
        http,
        sandbox_url,
        "forwardMessage",
        from_chat_id=CS_GROUP,
        message_id=edited["message_id"],
    )
    assert forwarded["entities"] == expected


async def test_a_person_writing_a_mention_by_id_shows_the_user(cast: SandboxClient) -> None:
    message = await cast.send(
        ANNA,
        CS_GROUP,
        "ask Bob",
        entities=[{"type": "text_mention", "offset": 4, "length": 3, "user": {"id": BOB}}],
    )
    assert message["entities"] == [mention(4, 3, BOB_USER)]
