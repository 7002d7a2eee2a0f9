"""A log call whose `extra` names an attribute of LogRecord ("created", "name"…) raises
KeyError — but only when its level is enabled, so tests that log at WARNING never see
it and production's INFO does. Every literal `extra` key in the code is checked here."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESERVED = set(vars(logging.LogRecord("n", 0, "p", 0, "m", None, None))) | {"message", "asctime"}


def _extra_keys(tree: ast.AST):
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg == "extra" and isinstance(keyword.value, ast.Dict):
                for key in keyword.value.keys:
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        yield node.lineno, key.value


def test_no_log_call_names_a_logrecord_attribute() -> None:
    clashes = []
    for folder in ("services", "servicekit", "sandbox", "deploy", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            clashes += [
                f"{path.relative_to(ROOT)}:{line} {key!r}"
                for line, key in _extra_keys(tree)
                if key in RESERVED
            ]
    assert not clashes, "log extra keys that LogRecord owns: " + ", ".join(clashes)


def test_the_check_sees_a_clash() -> None:
    tree = ast.parse('log.info("x", extra={"created": 1, "fine": 2})')
    assert [key for _, key in _extra_keys(tree) if key in RESERVED] == ["created"]
