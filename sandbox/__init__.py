"""A faithful local Telegram Bot API server for tests, demos and benchmarks."""

from .app import Sandbox, create_app

__all__ = ["Sandbox", "create_app"]
