"""python -m services.routing.api.registry_cli --file registry_document.json [--url DB]

Loads bots, teams, staff groups and staff into routing's database (migrating it
first) from one document: how the embedded mode, deployments and tests set up the
registry in one step. Bots are loaded only this way; teams, groups and staff can also
be changed through OperationsService."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from services.routing.db.engine import make_engine, session_factory
from services.routing.db.migrate import upgrade
from services.routing.db.urls import sync_url
from services.routing.operations import registry_document

DEFAULT_URL = "sqlite+aiosqlite:///var/switchboard.db"


async def _load(url: str, doc: dict[str, Any]) -> dict[str, int]:
    engine = make_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await registry_document.load(session, doc)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.routing.api.registry_cli")
    parser.add_argument("--file", type=Path, required=True)
    parser.add_argument(
        "--url", default=os.environ.get("SWITCHBOARD_ROUTING_DATABASE_URL", DEFAULT_URL)
    )
    args = parser.parse_args(argv)
    url = sync_url(args.url)
    if url.get_backend_name() == "sqlite" and url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    upgrade(url)
    counts = asyncio.run(_load(args.url, json.loads(args.file.read_text())))
    print("loaded " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
