"""The command line: `switchboard-admin [--url U] [--key K] [--json] GROUP ACTION ...`."""

from __future__ import annotations

import argparse
import os

from . import commands as c

DEFAULT_URL = "http://127.0.0.1:8083"


def _shared(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    # Accepted before or after the subcommand; only the top level sets defaults, so a
    # subcommand's parser never overwrites a value given before it.
    def given(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    url = os.environ.get("SWITCHBOARD_ADMIN_URL", DEFAULT_URL)
    key = os.environ.get("SWITCHBOARD_ADMIN_KEY", "")
    parser.add_argument("--url", default=given(url), help="env SWITCHBOARD_ADMIN_URL")
    parser.add_argument("--key", default=given(key), help="better: env SWITCHBOARD_ADMIN_KEY")
    parser.add_argument("--json", action="store_true", default=given(False), help="raw JSON")


def build() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchboard-admin", description="Switchboard's operations API from the shell."
    )
    _shared(parser, defaults=True)
    common = argparse.ArgumentParser(add_help=False)
    _shared(common, defaults=False)
    groups = parser.add_subparsers(dest="group", required=True, metavar="GROUP")

    def group(name: str, help_text: str) -> argparse._SubParsersAction[argparse.ArgumentParser]:
        return groups.add_parser(name, help=help_text).add_subparsers(
            dest="action", required=True, metavar="ACTION"
        )

    def leaf(
        actions: argparse._SubParsersAction[argparse.ArgumentParser],
        name: str,
        run: object,
        help_text: str,
    ) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, parents=[common])
        sub.set_defaults(run=run)
        return sub

    customers = group("customers", "find, show, assign, move and write to customers")
    p = leaf(customers, "list", c.customers_list, "customers matching filters")
    p.add_argument("--query", help="part of a name, email or Telegram user id")
    p.add_argument("--status", choices=["pending", "active", "blocked", "rejected"])
    p.add_argument("--team", help="CR team")
    _paging(p)
    for name, run, text in [
        ("show", c.customers_show, "one customer and their topics"),
        ("unassign", c.customers_unassign, "close the customer's topics"),
    ]:
        leaf(customers, name, run, text).add_argument("id", type=int)
    for name, run, text in [
        ("assign", c.customers_assign, "confirm with a CR team"),
        ("team", c.customers_team, "move to another CR team"),
    ]:
        p = leaf(customers, name, run, text)
        p.add_argument("id", type=int)
        p.add_argument("team", help="the CR team")
    p = leaf(customers, "treatment", c.customers_treatment, "Treatment following on or off")
    p.add_argument("id", type=int)
    p.add_argument("state", choices=["on", "off"])
    p = leaf(customers, "send", c.customers_send, "send the client a message")
    p.add_argument("id", type=int)
    p.add_argument("text")
    p.add_argument("--as-staff", type=int, help="a staff member's Telegram user id")

    for kind in ("teams", "groups", "staff"):
        actions = group(kind, f"list and change {kind}")
        leaf(actions, "list", c.registry_list, f"the {kind}").add_argument(
            "--all", action="store_true", help="inactive ones too"
        )
        _put(leaf(actions, "put", c.registry_put, "create or update"), kind)
        leaf(actions, "deactivate", c.registry_deactivate, "deactivate").add_argument(
            "id", type=int
        )
        if kind == "groups":
            p = leaf(actions, "bots", c.groups_bots, "a group's pool of bots and their topics")
            p.add_argument("chat_id", type=int)
            p = leaf(actions, "set-bots", c.groups_set_bots, "replace a group's further bots")
            p.add_argument("chat_id", type=int)
            p.add_argument("bots", nargs="*", help="bot ids or usernames (none: its own bot alone)")
        for sub in actions.choices.values():
            sub.set_defaults(kind=kind)

    directory = group("directory", "the user directory")
    leaf(directory, "import", c.directory_import, "import a .csv (or .json) file").add_argument(
        "file", help="CSV with the header email,full_name,external_id,treatment,active"
    )

    jobs = group("jobs", "failed jobs")
    p = leaf(jobs, "failed", c.jobs_failed, "jobs that failed for good")
    p.add_argument("--since", help="ISO 8601")
    p.add_argument("--lane")
    _paging(p)
    leaf(jobs, "show", c.jobs_show, "one job").add_argument("id", type=int)
    p = leaf(jobs, "retry", c.jobs_retry, "retry failed jobs")
    p.add_argument("ids", type=int, nargs="*", help="job ids")
    p.add_argument("--all", action="store_true", help="every failed job (of --lane)")
    p.add_argument("--lane")

    updates = group("updates", "updates routing quarantined (failed on their own)")
    p = leaf(updates, "quarantined", c.updates_quarantined, "quarantined updates, newest first")
    p.add_argument("--limit", type=int)
    p.add_argument("--before-id", type=int)
    p = leaf(updates, "replay", c.updates_replay, "record quarantined updates again")
    p.add_argument("ids", type=int, nargs="*", help="quarantined updates' ids")
    p.add_argument("--all", action="store_true", help="every quarantined update")

    p = groups.add_parser("summary", help="the operations summary", parents=[common])
    p.set_defaults(run=c.summary)
    p.add_argument("--since", help="ISO 8601 (default: 7 days before --until)")
    p.add_argument("--until", help="ISO 8601 (default: now)")

    keys = group("keys", "API keys")
    leaf(keys, "list", c.keys_list, "the keys").add_argument("--all", action="store_true")
    p = leaf(keys, "create", c.keys_create, "a new key (its token is shown once)")
    p.add_argument("--name", required=True)
    p.add_argument("--scopes", required=True, help="comma-separated: read,assign,send,admin")
    p.add_argument("--expires-in-days", type=int)
    leaf(keys, "revoke", c.keys_revoke, "revoke a key").add_argument("key_id")

    p = groups.add_parser("audit", help="the audit log", parents=[common])
    p.set_defaults(run=c.audit)
    for option in ("--target-kind", "--target-id", "--actor-id", "--action"):
        p.add_argument(option)
    p.add_argument("--limit", type=int)
    return parser


def _paging(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", type=int)
    p.add_argument("--after-id", type=int)


def _put(p: argparse.ArgumentParser, kind: str) -> None:
    if kind == "teams":
        p.add_argument("name")
        p.add_argument("--id", type=int, help="rename or reactivate this team")
    elif kind == "groups":
        p.add_argument("chat_id", type=int)
        p.add_argument("--role", required=True, choices=["cs", "cr", "treatment"])
        p.add_argument("--bot-id", type=int, required=True)
        p.add_argument("--title", required=True)
        p.add_argument("--team", default="", help="the CR team it serves")
        p.add_argument("--intake-thread-id", type=int, default=0)
    else:
        p.add_argument("telegram_user_id", type=int)
        p.add_argument("--name", required=True, help="display name")
        p.add_argument("--role-label", required=True, help='e.g. CS (shown as "Anna · CS")')
        p.add_argument("--team", default="")
