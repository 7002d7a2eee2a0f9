"""Jobs in parts, notes, and the reading of reaction and membership updates."""

from __future__ import annotations

from services.routing.conversation.blocked_clients import membership_change
from services.routing.conversation.reactions import emoji_of
from services.routing.domain.plan import (
    Action,
    Author,
    Content,
    Planned,
    Style,
    attributed,
    in_parts,
)


def _planned(content) -> Planned:
    return Planned(
        lane="staff-to-client",
        bot_id=1001,
        chat_id=5001,
        thread_id=None,
        content=content,
        topic_id=None,
        reply_to_origin=7,
        refers_to=42,
    )


def test_a_short_text_stays_one_job() -> None:
    planned = _planned(Content("text", "hello", ()))
    assert in_parts(planned) == [planned]


def test_a_long_text_goes_as_parts_and_only_the_first_replies() -> None:
    parts = in_parts(_planned(Content("text", "word " * 1000, ())))
    assert [p.part for p in parts] == [0, 1]
    assert [p.refers_to for p in parts] == [42, 0]
    assert all(len(p.content.text) <= 4096 for p in parts)
    assert " ".join(p.content.text for p in parts) == ("word " * 1000).strip()


def test_a_long_caption_keeps_the_media_and_sends_the_rest_as_text() -> None:
    photo = Content("photo", "x " * 600, (), file_id="f")
    media, rest = in_parts(_planned(photo))
    assert (media.content.kind, media.content.file_id, media.part) == ("photo", "f", 0)
    assert len(media.content.text) <= 1024
    assert (rest.content.kind, rest.part) == ("text", 1)


def test_actions_and_uncaptioned_media_are_never_split() -> None:
    edit = _planned(Action("set_reaction", emoji=("👍",)))
    sticker = _planned(Content("sticker", "", (), file_id="s"))
    assert in_parts(edit) == [edit] and in_parts(sticker) == [sticker]


def test_a_note_uses_the_note_template() -> None:
    style = Style(note="[note] {name}/{role}\n")
    shown = attributed(
        Content("text", "check billing", ()), Author("Anna", "CS"), style=style, note=True
    )
    assert shown.text == "[note] Anna/CS\ncheck billing"
    assert shown.entities[0] == {"type": "bold", "offset": 0, "length": 14}


def test_only_plain_emoji_are_mirrored_and_at_most_one() -> None:
    assert emoji_of([{"type": "emoji", "emoji": "👍"}, {"type": "emoji", "emoji": "🔥"}]) == ("🔥",)
    assert emoji_of([{"type": "custom_emoji", "custom_emoji_id": "1"}]) == ()
    assert emoji_of([]) == () and emoji_of(None) == ()


def test_membership_changes_in_private_chats_only() -> None:
    def update(status: str, chat_type: str = "private") -> dict:
        return {
            "my_chat_member": {
                "chat": {"id": 5001, "type": chat_type},
                "from": {"id": 5001},
                "new_chat_member": {"status": status},
            }
        }

    assert membership_change(update("kicked")) == (5001, True)
    assert membership_change(update("member")) == (5001, False)
    assert membership_change(update("administrator")) is None
    assert membership_change(update("kicked", "supergroup")) is None
