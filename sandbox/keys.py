"""The typed aiohttp application key under which the Sandbox lives."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .app import Sandbox

SANDBOX: web.AppKey[Sandbox] = web.AppKey("sandbox")
