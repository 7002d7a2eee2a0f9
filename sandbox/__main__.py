"""python -m sandbox --host 127.0.0.1 --port 8081 [--scenario FILE] [--no-limits]
[--limits-scale FACTOR]"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from aiohttp import web

from . import gcpolicy
from .app import Sandbox, create_app
from .world.scenario import ScenarioError, load


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--scenario", type=Path, help="JSON file with bots, users and groups")
    parser.add_argument(
        "--no-limits", action="store_true", help="switch Telegram's rate limits off"
    )
    parser.add_argument(
        "--limits-scale",
        type=float,
        default=1.0,
        metavar="FACTOR",
        help="multiply every rate limit by FACTOR (time compression; bursts unchanged)",
    )
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    gcpolicy.install()
    sandbox = Sandbox()
    sandbox.settings.limits.enabled = not args.no_limits
    try:
        sandbox.settings.update({"limits": {"scale": args.limits_scale}})
    except ValueError as error:
        print(f"--limits-scale: {error}", file=sys.stderr)
        return 2
    if args.scenario is not None:
        try:
            load(sandbox.world, json.loads(args.scenario.read_text()))
        except (OSError, ValueError, ScenarioError) as error:
            print(f"cannot load scenario {args.scenario}: {error}", file=sys.stderr)
            return 2
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    asyncio.run(_serve(sandbox, args.host, args.port))
    return 0


async def _serve(sandbox: Sandbox, host: str, port: int) -> None:
    runner = web.AppRunner(create_app(sandbox), access_log=None, handle_signals=True)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    # With --port 0 the kernel picks a port; this line tells the caller which one.
    bound = runner.addresses[0][1]
    print(f"Bot API sandbox listening on http://{host}:{bound}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    sys.exit(main())
