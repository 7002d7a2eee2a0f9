"""Which scope each operation needs, and the action name it is audited under.

One table for REST and gRPC alike (keyed by the AdminService rpc name), so the same
operation can never need one scope over HTTP and another over gRPC. It mirrors the
scope noted beside each rpc in admin.proto; a unit test holds the two together.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from servicekit.api_keys import SCOPES

ADMIN = "admin"


@dataclass(frozen=True)
class Operation:
    rpc: str
    action: str
    scope: str


_TABLE = [
    Operation("ListCustomers", "customers.list", "read"),
    Operation("GetCustomer", "customers.get", "read"),
    Operation("Assign", "customers.assign", "assign"),
    Operation("Unassign", "customers.unassign", "assign"),
    Operation("ChangeTeam", "customers.change_team", "assign"),
    Operation("SetTreatment", "customers.set_treatment", "assign"),
    Operation("SendToClient", "customers.send", "send"),
    Operation("ListTeams", "teams.list", "read"),
    Operation("PutTeam", "teams.put", ADMIN),
    Operation("ListGroups", "groups.list", "read"),
    Operation("PutGroup", "groups.put", ADMIN),
    Operation("ListStaff", "staff.list", "read"),
    Operation("PutStaff", "staff.put", ADMIN),
    Operation("Deactivate", "registry.deactivate", ADMIN),
    Operation("ImportDirectory", "directory.import", ADMIN),
    Operation("ListFailedJobs", "jobs.list_failed", "read"),
    Operation("GetJob", "jobs.get", "read"),
    Operation("RetryJobs", "jobs.retry", "send"),
    Operation("ListQuarantinedUpdates", "updates.list_quarantined", "read"),
    # Replaying re-runs an update's recording, which may send (as retrying a job does).
    Operation("ReplayUpdates", "updates.replay", "send"),
    Operation("GetSummary", "summary.get", "read"),
    Operation("CreateApiKey", "keys.create", ADMIN),
    Operation("RevokeApiKey", "keys.revoke", ADMIN),
    Operation("ListApiKeys", "keys.list", ADMIN),
    Operation("ListAudit", "audit.list", ADMIN),
    Operation("GetGroupBots", "groups.get_bots", "read"),
    Operation("SetGroupBots", "groups.set_bots", ADMIN),
]
OPERATIONS: dict[str, Operation] = {op.rpc: op for op in _TABLE}
assert all(op.scope in SCOPES for op in _TABLE)

# Deactivate names its kind of record in the request; the audit says which.
DEACTIVATE_ACTIONS = {
    "team": "teams.deactivate",
    "group": "groups.deactivate",
    "staff": "staff.deactivate",
}


def allows(held: Collection[str], needed: str) -> bool:
    """Whether a key holding `held` may run an operation needing `needed`; the admin
    scope implies every other."""
    return ADMIN in held or needed in held
