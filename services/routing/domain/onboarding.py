"""Onboarding as the client and CS see it: what the client bot says, what the CS
prompt looks like and what its buttons carry. Pure: no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A pragmatic check of what a person types: one @, a dotted domain, no spaces. The
# directory is the real judge; this only catches typos before a try is spent.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
MAX_EMAIL = 254
# Callback data is at most 64 bytes: "ob:<assignment id>:t:<team id>" or ":r".
CALLBACK_PREFIX = "ob"


def normalize_email(text: str) -> str | None:
    """The address, trimmed and lower-cased, when the text is one; None otherwise."""
    candidate = text.strip().lower()
    if len(candidate) > MAX_EMAIL or not _EMAIL.match(candidate):
        return None
    return candidate


def is_command(text: str, command: str) -> bool:
    """`/command` or `/command@bot` as the whole first word."""
    first = text.strip().split(maxsplit=1)[0] if text.strip() else ""
    return first.split("@", 1)[0].lower() == f"/{command}"


@dataclass(frozen=True)
class Texts:
    """What the bots say during onboarding. The welcomes are templates (settings):
    {name}, {email}, {team}, {treatment}, {confirmed_by}."""

    ask_email: str = (
        "Welcome to support! To connect you with your team, please send the email "
        "address of your account."
    )
    not_an_email: str = (
        "That does not look like an email address. Please send it like name@example.com."
    )
    kept_before_email: str = (
        "Thanks, your message is saved. First, please send the email address of your "
        "account so we can connect you with your team."
    )
    unknown_email: str = (
        "We could not find an account with {email}. Please check the address and send "
        "it again ({left} left this hour)."
    )
    too_many_tries: str = (
        "Too many tries for now. Please send your email address again in {minutes} min."
    )
    directory_down: str = (
        "We cannot check your email right now; we will keep trying and answer here."
    )
    found: str = (
        "Thanks, {name}! We found your account. A member of our team will confirm it "
        "shortly — you can already write your question here."
    )
    kept_while_pending: str = (
        "Your message is saved and will reach the team as soon as your account is confirmed."
    )
    rejected: str = (
        "We could not confirm your access to support in this chat. If you think this is "
        "a mistake, please contact us by email."
    )
    welcome_client: str = (
        "You are connected with our support team ({team}). Write here any time — we "
        "answer in this chat."
    )
    welcome_staff: str = (
        "👋 New customer: {name}\nEmail: {email}\nCR team: {team}\n"
        "Treatment: {treatment}\nConfirmed by {confirmed_by}"
    )


@dataclass(frozen=True)
class Candidate:
    """What the CS prompt shows about a client waiting for confirmation."""

    assignment_id: int
    name: str
    telegram_name: str
    username: str
    email: str
    treatment: bool


def prompt_text(c: Candidate, *, reason: str = "") -> str:
    who = c.telegram_name + (f" (@{c.username})" if c.username else "")
    lines = [
        reason or "🆕 A client is waiting for confirmation",
        f"Name: {c.name}",
        f"Email: {c.email or '—'}",
        f"Telegram: {who}",
        f"Treatment: {'yes' if c.treatment else 'no'}",
    ]
    return "\n".join(lines)


def prompt_keyboard(
    assignment_id: int, teams: list[tuple[int, str]]
) -> tuple[tuple[tuple[str, str], ...], ...]:
    """One button per CR team (two to a row), and Reject on a row of its own."""
    buttons = [(f"✅ {name}", confirm_data(assignment_id, team_id)) for team_id, name in teams]
    rows = [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
    rows.append(((("❌ Reject"), reject_data(assignment_id)),))
    return tuple(rows)


def confirm_data(assignment_id: int, team_id: int) -> str:
    return f"{CALLBACK_PREFIX}:{assignment_id}:t:{team_id}"


def reject_data(assignment_id: int) -> str:
    return f"{CALLBACK_PREFIX}:{assignment_id}:r"


@dataclass(frozen=True)
class Press:
    assignment_id: int
    team_id: int  # 0 = reject


def read_press(data: str) -> Press | None:
    """The decision a button carries; None for data that is not an onboarding button."""
    parts = data.split(":")
    try:
        if len(parts) == 4 and parts[0] == CALLBACK_PREFIX and parts[2] == "t":
            return Press(int(parts[1]), int(parts[3]))
        if len(parts) == 3 and parts[0] == CALLBACK_PREFIX and parts[2] == "r":
            return Press(int(parts[1]), 0)
    except ValueError:
        return None
    return None


def topic_name(name: str, email: str) -> str:
    """ "Name · email", within Telegram's 128 characters for a topic name."""
    full = f"{name} · {email}" if email else name
    return full[:128] or "Customer"
