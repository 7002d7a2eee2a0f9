"""getMe, getFile and answerCallbackQuery."""

from __future__ import annotations

from ...errors import bad_request
from ...jsontext import JsonObject
from ..registry import Call, api_method

MAX_DOWNLOAD = 20 * 1024 * 1024
MAX_CALLBACK_TEXT = 200


@api_method("getMe")
async def get_me(call: Call) -> JsonObject:
    return call.bot.me()


@api_method("getFile")
async def get_file(call: Call) -> JsonObject:
    file_id = call.params.str("file_id", required="file_id not specified")
    assert file_id is not None
    # A bot may only ask about its own file_ids, as on Telegram.
    stored = call.world.files.for_bot(file_id, call.bot.id)
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.size > MAX_DOWNLOAD:
        raise bad_request("file is too big")
    return stored.to_api(call.bot.id)


@api_method("answerCallbackQuery")
async def answer_callback_query(call: Call) -> bool:
    query_id = call.params.str("callback_query_id") or ""
    record = call.world.callbacks.get(query_id)
    age = call.clock.now() - record.pressed_at if record else 0
    if (
        record is None
        or record.bot_id != call.bot.id
        or record.answer is not None
        or age > call.world.settings.callback_answer_seconds
    ):
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = call.params.str("text")
    if text is not None and len(text) > MAX_CALLBACK_TEXT:
        raise bad_request("MESSAGE_TOO_LONG")
    record.answer = {
        "text": text,
        "show_alert": call.params.bool("show_alert"),
        "url": call.params.str("url"),
        "cache_time": call.params.int("cache_time") or 0,
        "answered_at": call.clock.now(),
    }
    return True
