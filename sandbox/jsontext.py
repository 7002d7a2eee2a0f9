"""Strict JSON reading shared by the Bot API and the driver API: what Telegram's
parser refuses (NaN, Infinity, nesting too deep to walk) is a ValueError here, and
text that cannot be sent back as UTF-8 (lone surrogates from \\ud800 escapes) is
found before it is stored."""

from __future__ import annotations

import json
from typing import Any

# A JSON object as the sandbox reads and writes it: Bot API parameters and results,
# driver API bodies, scenario documents. Values are whatever JSON holds, so they stay Any.
JsonObject = dict[str, Any]


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(text: str | bytes) -> Any:
    """json.loads that raises only ValueError."""
    try:
        return json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def has_bad_text(value: Any) -> bool:
    """True when some string inside `value` cannot be encoded as UTF-8."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode()
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
