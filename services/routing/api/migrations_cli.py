"""Migrations from the command line (the Kubernetes migration Job, developers).

    python -m services.routing.api.migrations_cli upgrade [REVISION]  # default: head
    python -m services.routing.api.migrations_cli current    # exit 1 unless routing can run on it
    python -m services.routing.api.migrations_cli downgrade REVISION
    python -m services.routing.api.migrations_cli check      # exit 1 if models and schema differ
    python -m services.routing.api.migrations_cli revision -m "add x"

The URL comes from --url or $SWITCHBOARD_ROUTING_DATABASE_URL, the variable routing
reads (so the Job uses routing's Secret, and the password stays out of argv). Two
upgrades at once are safe: the second waits for the first (up to --lock-timeout) and
then finds nothing to do. Exit status: 0 done, 1 failed or not current, 2 usage.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from alembic.util import CommandError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from services.routing.db import migrate
from services.routing.db.migration_lock import MigrationLockTimeout
from services.routing.db.schema import SchemaStatus

URL_VARIABLE = "SWITCHBOARD_ROUTING_DATABASE_URL"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.url:
        print(f"error: no database URL: set {URL_VARIABLE} or pass --url", file=sys.stderr)
        return 1
    try:
        return _run(args)
    except (CommandError, MigrationLockTimeout, SQLAlchemyError, ValueError) as error:
        # Expected failures (a bad URL, a database that does not answer, a revision
        # that does not exist) get one readable line, never a traceback.
        print(f"error: {_describe(error, args.url)}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m services.routing.api.migrations_cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--url", default=os.environ.get(URL_VARIABLE), help=f"default: ${URL_VARIABLE}"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    upgrade = commands.add_parser("upgrade", help="migrate up (default: to head)")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.add_argument(
        "--lock-timeout",
        type=float,
        default=migrate.LOCK_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="how long to wait for another migration run (default: %(default)g)",
    )
    commands.add_parser("current", help="the database's revision, and whether it is head")
    commands.add_parser("downgrade", help="migrate down").add_argument("revision")
    commands.add_parser("check", help="exit 1 if the models and the schema differ")
    revision = commands.add_parser("revision", help="autogenerate a new revision")
    revision.add_argument("-m", "--message", required=True)
    return parser


def _run(args: argparse.Namespace) -> int:
    if args.command == "upgrade":
        moved = migrate.upgrade(
            args.url, args.revision, lock_timeout=args.lock_timeout, on_wait=_say_waiting(args)
        )
        if moved.applied:
            print(f"upgraded the database from {moved.before or 'empty'} to {moved.after}")
        elif SchemaStatus.of(moved.after).is_newer:
            print(
                f"the database is at {moved.after}, newer than this release knows "
                "(migrated by a later release): nothing to do"
            )
        else:
            print(f"the database is already at {moved.after}: nothing to do")
        return 0
    if args.command == "current":
        status = SchemaStatus.of(migrate.current_revision(args.url))
        print(status.describe())
        return 0 if status.is_current else 1
    if args.command == "downgrade":
        moved = migrate.downgrade(args.url, args.revision)
        print(f"downgraded the database from {moved.before} to {moved.after or 'empty'}")
        return 0
    if args.command == "revision":
        migrate.new_revision(args.url, args.message)
        return 0
    if diff := migrate.model_diff(args.url):
        for change in diff:
            print(change, file=sys.stderr)
        return 1
    return 0


def _say_waiting(args: argparse.Namespace) -> Callable[[], None]:
    def say() -> None:
        print(
            f"another migration run holds the lock; waiting up to {args.lock_timeout:g} s",
            file=sys.stderr,
            flush=True,
        )

    return say


def _describe(error: Exception, url: str) -> str:
    """One line about the failure, naming the database without its password."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return "the database URL cannot be read (e.g. mysql+pymysql://user:password@host/db)"
    if not isinstance(error, DBAPIError) or error.orig is None:
        return str(error).splitlines()[0] if str(error) else type(error).__name__
    # The driver's own words: SQLAlchemy's rendering adds the statement and a link.
    reason = str(error.orig.args[-1] if error.orig.args else error.orig)
    if parsed.password:
        reason = reason.replace(str(parsed.password), "***")
    return f"the database at {parsed.render_as_string()} failed: {reason}"


if __name__ == "__main__":
    sys.exit(main())
