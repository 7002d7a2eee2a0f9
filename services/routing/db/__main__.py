"""Migrations from the command line (the Kubernetes migration Job, developers).

    python -m services.routing.db upgrade [REVISION]
    python -m services.routing.db downgrade REVISION
    python -m services.routing.db check            # exit 1 if models and schema differ
    python -m services.routing.db revision -m "add x"

The URL comes from --url or $ROUTING_DATABASE_URL (kept out of argv in production, where
it carries a password).
"""

from __future__ import annotations

import argparse
import os
import sys

from services.routing.db import migrate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.routing.db",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", default=os.environ.get("ROUTING_DATABASE_URL"))
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("upgrade").add_argument("revision", nargs="?", default="head")
    commands.add_parser("downgrade").add_argument("revision")
    commands.add_parser("check")
    commands.add_parser("revision").add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("no database URL: pass --url or set ROUTING_DATABASE_URL")

    if args.command == "upgrade":
        migrate.upgrade(args.url, args.revision)
    elif args.command == "downgrade":
        migrate.downgrade(args.url, args.revision)
    elif args.command == "revision":
        migrate.new_revision(args.url, args.message)
    elif diff := migrate.model_diff(args.url):
        for change in diff:
            print(change, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
