"""Keep garbage-collection pauses short in a long-running sandbox.

The sandbox keeps every message, so each full collection walks more objects and
pauses longer (about 120 ms at 75,000 messages). After a full collection the
survivors are moved to the permanent generation (gc.freeze), so the next one walks
only what is new. A reset thaws them, so the forgotten world can be collected."""

from __future__ import annotations

import gc

_installed = False


def _freeze_after_full_collection(phase: str, info: dict[str, int]) -> None:
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


def install() -> None:
    global _installed
    if not _installed:
        gc.callbacks.append(_freeze_after_full_collection)
        _installed = True


def thaw() -> None:
    """Let frozen objects be collected again (after a reset drops the old world)."""
    if _installed:
        gc.unfreeze()
