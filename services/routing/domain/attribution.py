"""Staff lines reach the client as "Name · ROLE" and then the message. The prefix
shifts every entity; Telegram counts offsets in UTF-16 code units."""

from __future__ import annotations

from collections.abc import Sequence

from services.routing.domain.inbound import Entity

DEFAULT_TEMPLATE = "{name} · {role}\n"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def attribute(
    text: str,
    entities: Sequence[Entity],
    *,
    name: str,
    role: str,
    template: str = DEFAULT_TEMPLATE,
) -> tuple[str, list[Entity]]:
    """The attributed text and its entities; the name line is bold."""
    prefix = template.format(name=name, role=role)
    shift = utf16_len(prefix)
    head = prefix.rstrip("\n")
    moved = [{**e, "offset": e["offset"] + shift} for e in entities]
    bold = [{"type": "bold", "offset": 0, "length": utf16_len(head)}] if head else []
    return prefix + text, bold + moved
