"""JSON log lines: their shape, the correlation id, and redaction of credentials."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from servicekit.logs import (
    JsonFormatter,
    bind_correlation_id,
    configure_logging,
    correlation_id,
    new_correlation_id,
)
from servicekit.redaction import redact

TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
SECRET = TOKEN.split(":")[1]
SANDBOX_URL = "http://127.0.0.1:8081/bot1001:client-secret/sendMessage"

Lines = Callable[[], list[dict]]


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, Lines]]:
    """A logger whose events are formatted as the routing service's, and its lines."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter("routing"))
    logger = logging.getLogger("tests.servicekit.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False

    def lines() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    yield logger, lines
    logger.removeHandler(handler)
    logger.propagate = True


def test_each_event_is_one_json_line_with_the_standard_fields(log) -> None:
    logger, lines = log
    before = datetime.now(UTC)
    logger.info("update %s routed\nto %d topics", 42, 3, extra={"lane": "client-to-staff"})
    logger.warning("second")

    first, second = lines()
    assert first == {
        "time": first["time"],
        "level": "INFO",
        "service": "routing",
        "logger": "tests.servicekit.logs",
        "message": "update 42 routed\nto 3 topics",
        "correlation_id": None,
        "lane": "client-to-staff",
    }
    assert first["time"].endswith("Z")
    logged_at = datetime.fromisoformat(first["time"])
    assert before - timedelta(seconds=1) <= logged_at <= datetime.now(UTC)
    assert second["level"] == "WARNING" and second["message"] == "second"


def test_an_extra_cannot_overwrite_a_standard_field_and_odd_values_still_log(log) -> None:
    logger, lines = log
    when = datetime(2024, 5, 1, tzinfo=UTC)
    logger.info("hello", extra={"service": "impostor", "when": when})
    (line,) = lines()
    assert line["service"] == "routing"
    assert line["when"] == str(when)


def test_an_exception_logs_its_type_and_traceback(log) -> None:
    logger, lines = log
    try:
        raise KeyError("customer")
    except KeyError:
        logger.exception("lookup failed")
    (line,) = lines()
    assert line["level"] == "ERROR"
    assert line["exc_type"] == "KeyError"
    assert line["traceback"].startswith("Traceback (most recent call last)")
    assert "KeyError: 'customer'" in line["traceback"]


def test_the_bound_correlation_id_is_on_the_line_and_unbound_after_the_block(log) -> None:
    logger, lines = log
    with bind_correlation_id("cid-1") as bound:
        logger.info("inside")
    logger.info("outside")
    inside, outside = lines()
    assert bound == "cid-1"
    assert inside["correlation_id"] == "cid-1"
    assert outside["correlation_id"] is None


def test_binding_without_an_id_makes_a_fresh_one() -> None:
    with bind_correlation_id() as first:
        assert correlation_id.get() == first
    with bind_correlation_id() as second:
        pass
    assert first != second
    assert len(new_correlation_id()) == 32


async def test_concurrent_tasks_each_log_their_own_correlation_id(log) -> None:
    logger, lines = log
    a_bound, b_bound, a_logged = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def task_a() -> None:
        with bind_correlation_id("cid-a"):
            a_bound.set()
            await b_bound.wait()  # b has bound its own id by now
            logger.info("from a")
            a_logged.set()

    async def task_b() -> None:
        await a_bound.wait()
        with bind_correlation_id("cid-b"):
            b_bound.set()
            await a_logged.wait()
            logger.info("from b")

    await asyncio.gather(task_a(), task_b())
    assert {line["message"]: line["correlation_id"] for line in lines()} == {
        "from a": "cid-a",
        "from b": "cid-b",
    }


def test_a_bot_token_never_reaches_the_output(log) -> None:
    logger, lines = log
    logger.info(f"token is {TOKEN}")
    logger.info("calling %s", f"https://api.telegram.org/bot{TOKEN}/getMe")
    logger.info("sent", extra={"request": {"url": SANDBOX_URL, "token": TOKEN}})
    try:
        raise RuntimeError(f"POST {SANDBOX_URL} failed")
    except RuntimeError:
        logger.exception("send failed")

    output = json.dumps(lines())
    assert SECRET not in output
    assert "client-secret" not in output
    by_message = {line["message"]: line for line in lines()}
    assert by_message["token is <redacted>"]
    assert by_message["calling https://api.telegram.org/bot<redacted>/getMe"]
    assert by_message["sent"]["request"] == {
        "url": "http://127.0.0.1:8081/bot<redacted>/sendMessage",
        "token": "<redacted>",
    }
    assert (
        "POST http://127.0.0.1:8081/bot<redacted>/sendMessage"
        in (by_message["send failed"]["traceback"])
    )


def test_a_bearer_credential_never_reaches_the_output(log) -> None:
    logger, lines = log
    logger.info("got Authorization: Bearer eyJhbGciOi.payload.sig")
    logger.info("headers %s", {"Authorization": "Bearer abc123"})
    logger.info("push", extra={"headers": {"authorization": "bearer xyz789"}})
    try:
        raise PermissionError("Authorization: Bearer qwerty42 rejected")
    except PermissionError:
        logger.exception("auth failed")

    output = json.dumps(lines())
    for secret in ("eyJhbGciOi", "abc123", "xyz789", "qwerty42"):
        assert secret not in output
    messages = [line["message"] for line in lines()]
    assert messages[0] == "got Authorization: Bearer <redacted>"
    assert messages[1] == "headers {'Authorization': 'Bearer <redacted>'}"


def test_redaction_leaves_ordinary_text_alone() -> None:
    text = "chat -1002001 topic 12:34 at 2024-05-01T10:00:00Z, robot42:ok, update 987654:3"
    assert redact(text) == text
    assert redact("chat 12345:short") == "chat 12345:short"


def test_configure_logging_sends_json_lines_from_every_logger_at_the_level() -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    buffer = io.StringIO()
    try:
        configure_logging("delivery", "warning", stream=buffer)
        logging.getLogger("aiogram.event").info("dropped: below the level")
        logging.getLogger("aiogram.event").warning("kept %s", TOKEN)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)

    (line,) = [json.loads(raw) for raw in buffer.getvalue().splitlines()]
    assert (line["service"], line["logger"], line["message"]) == (
        "delivery",
        "aiogram.event",
        "kept <redacted>",
    )
