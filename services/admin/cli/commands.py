"""What each subcommand asks the API and how it shows the answer.

Every command answers (the raw JSON, its text for people); `--json` prints the first.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .client import Api
from .tables import record, table

Shown = tuple[Any, str]
CUSTOMER_COLUMNS = ("id", "display_name", "email", "status", "cr_team", "treatment", "assignment")
TOPIC_COLUMNS = ("role", "chat_id", "message_thread_id", "status", "name")
JOB_COLUMNS = (
    "id",
    "lane",
    "kind",
    "chat_id",
    "attempts",
    "error_code",
    "error_description",
    "finished_at",
)
QUARANTINED_COLUMNS = ("id", "bot_id", "update_id", "received_at", "error", "preview")
REPLAYED_COLUMNS = ("id", "status", "reason")
KEY_COLUMNS = ("key_id", "name", "scopes", "created_at", "expires_at", "revoked_at", "last_used_at")
POOL_COLUMNS = ("bot_id", "username", "own", "active", "topics")
AUDIT_COLUMNS = ("occurred_at", "actor", "action", "target", "result")
REGISTRY = {
    "teams": ("/v1/teams", "teams", ("id", "name", "active")),
    "groups": ("/v1/groups", "groups", ("chat_id", "role", "title", "team", "bot_id", "active")),
    "staff": (
        "/v1/staff",
        "staff",
        ("telegram_user_id", "display_name", "role_label", "team", "active"),
    ),
}


def _paged(body: dict[str, Any], text: str) -> str:
    following = body.get("next_after_id")
    return f"{text}\n(more: --after-id {following})" if following else text


def customers_list(api: Api, a: argparse.Namespace) -> Shown:
    body = api.get(
        "/v1/customers",
        query=a.query,
        status=a.status,
        team=a.team,
        limit=a.limit,
        after_id=a.after_id,
    )
    return body, _paged(body, table(body["customers"], CUSTOMER_COLUMNS))


def _customer(body: dict[str, Any]) -> Shown:
    topics = table(body.get("topics") or [], TOPIC_COLUMNS)
    return body, f"{record(body, skip=('topics',))}\n\ntopics:\n{topics}"


def customers_show(api: Api, a: argparse.Namespace) -> Shown:
    return _customer(api.get(f"/v1/customers/{a.id}"))


def customers_assign(api: Api, a: argparse.Namespace) -> Shown:
    return _customer(api.post(f"/v1/customers/{a.id}/assign", {"cr_team": a.team}))


def customers_unassign(api: Api, a: argparse.Namespace) -> Shown:
    return _customer(api.post(f"/v1/customers/{a.id}/unassign"))


def customers_team(api: Api, a: argparse.Namespace) -> Shown:
    return _customer(api.post(f"/v1/customers/{a.id}/team", {"cr_team": a.team}))


def customers_treatment(api: Api, a: argparse.Namespace) -> Shown:
    return _customer(api.post(f"/v1/customers/{a.id}/treatment", {"on": a.state == "on"}))


def customers_send(api: Api, a: argparse.Namespace) -> Shown:
    body = api.post(f"/v1/customers/{a.id}/messages", {"text": a.text, "as_staff": a.as_staff})
    return body, f"queued: message {body['message_id']}, {body['jobs']} job(s)"


def registry_list(api: Api, a: argparse.Namespace) -> Shown:
    path, field, columns = REGISTRY[a.kind]
    body = api.get(path, include_inactive=a.all or None)
    return body, table(body[field], columns)


def registry_put(api: Api, a: argparse.Namespace) -> Shown:
    if a.kind == "teams":
        fields = {"name": a.name}
        body = api.put(f"/v1/teams/{a.id}", fields) if a.id else api.post("/v1/teams", fields)
    elif a.kind == "groups":
        body = api.post(
            "/v1/groups",
            {
                "chat_id": a.chat_id,
                "role": a.role,
                "title": a.title,
                "bot_id": a.bot_id,
                "team": a.team,
                "intake_thread_id": a.intake_thread_id,
            },
        )
    else:
        body = api.post(
            "/v1/staff",
            {
                "telegram_user_id": a.telegram_user_id,
                "display_name": a.name,
                "role_label": a.role_label,
                "team": a.team,
            },
        )
    return body, record(body)


def registry_deactivate(api: Api, a: argparse.Namespace) -> Shown:
    body = api.post(f"{REGISTRY[a.kind][0]}/{a.id}/deactivate")
    return body, "deactivated" if body["changed"] else "already inactive (nothing changed)"


def _pool(body: dict[str, Any]) -> Shown:
    return body, table(body.get("bots") or [], POOL_COLUMNS)


def groups_bots(api: Api, a: argparse.Namespace) -> Shown:
    return _pool(api.get(f"/v1/groups/{a.chat_id}/bots"))


def groups_set_bots(api: Api, a: argparse.Namespace) -> Shown:
    return _pool(api.put(f"/v1/groups/{a.chat_id}/bots", {"bots": list(a.bots)}))


def directory_import(api: Api, a: argparse.Namespace) -> Shown:
    path = Path(a.file)
    data = path.read_bytes()
    kind = "application/json" if path.suffix.lower() == ".json" else "text/csv"
    body = api.call("POST", "/v1/directory/import", data, kind)
    where = "line" if kind == "text/csv" else "index"
    text = f"created {body['created']}, updated {body['updated']}"
    if body["rejected"]:
        text += f"\nrejected:\n{table(body['rejected'], (where, 'reason'))}"
    return body, text


def jobs_failed(api: Api, a: argparse.Namespace) -> Shown:
    body = api.get(
        "/v1/jobs/failed", since=a.since, lane=a.lane, limit=a.limit, after_id=a.after_id
    )
    return body, _paged(body, table(body["jobs"], JOB_COLUMNS))


def jobs_show(api: Api, a: argparse.Namespace) -> Shown:
    body = api.get(f"/v1/jobs/{a.id}")
    return body, record(body)


def jobs_retry(api: Api, a: argparse.Namespace) -> Shown:
    if a.all:
        body = api.post("/v1/jobs/retry", {"all_failed": True, "lane": a.lane or ""})
    elif len(a.ids) == 1:
        body = api.post(f"/v1/jobs/{a.ids[0]}/retry")
    else:
        body = api.post("/v1/jobs/retry", {"ids": a.ids})
    return body, f"retried {body['retried']} job(s)"


def updates_quarantined(api: Api, a: argparse.Namespace) -> Shown:
    body = api.get("/v1/updates/quarantined", limit=a.limit, before_id=a.before_id)
    text = table(body["updates"], QUARANTINED_COLUMNS)
    following = body.get("next_before_id")
    return body, f"{text}\n(more: --before-id {following})" if following else text


def updates_replay(api: Api, a: argparse.Namespace) -> Shown:
    if a.all:
        body = api.post("/v1/updates/replay", {"all": True})
    elif len(a.ids) == 1:
        body = api.post(f"/v1/updates/{a.ids[0]}/replay")
    else:
        body = api.post("/v1/updates/replay", {"ids": a.ids})
    replayed = body.get("updates") or []
    text = f"replayed {len(replayed)}, recovered {body.get('recovered', 0)}"
    return body, f"{text}\n{table(replayed, REPLAYED_COLUMNS)}" if replayed else text


def summary(api: Api, a: argparse.Namespace) -> Shown:
    body = api.get("/v1/summary", since=a.since, until=a.until)
    text = record(body, skip=("failures_by_reason",))
    failures = table(body["failures_by_reason"], ("reason", "count"))
    return body, f"{text}\n\nfailures by reason:\n{failures}"


def keys_list(api: Api, a: argparse.Namespace) -> Shown:
    body = api.get("/v1/keys", include_inactive=a.all or None)
    return body, table(body["keys"], KEY_COLUMNS)


def keys_create(api: Api, a: argparse.Namespace) -> Shown:
    scopes = [s.strip() for s in a.scopes.split(",") if s.strip()]
    body = api.post(
        "/v1/keys", {"name": a.name, "scopes": scopes, "expires_in_days": a.expires_in_days}
    )
    return body, (
        f"{record(body['key'])}\n\ntoken: {body['token']}\n"
        "(shown this once: store it now; only its hash is kept)"
    )


def keys_revoke(api: Api, a: argparse.Namespace) -> Shown:
    body = api.post(f"/v1/keys/{a.key_id}/revoke")
    return body, record(body)


def audit(api: Api, a: argparse.Namespace) -> Shown:
    body = api.get(
        "/v1/audit",
        target_kind=a.target_kind,
        target_id=a.target_id,
        actor_id=a.actor_id,
        action=a.action,
        limit=a.limit,
    )
    rows = [
        {
            **e,
            "actor": f"{e['actor']['kind']}:{e['actor']['id']}" if e.get("actor") else "",
            "target": f"{e['target_kind']}:{e['target_id']}" if e.get("target_kind") else "",
        }
        for e in body["entries"]
    ]
    return body, table(rows, AUDIT_COLUMNS)
