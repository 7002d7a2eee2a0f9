"""The bench's cast: the client, CS and CR bots (tokens, webhook secrets), the CS and CR
forum groups, the staff member and the client users, as the sandbox's scenario and as
routing's registry."""

from __future__ import annotations

CLIENT_TOKEN, CS_TOKEN, CR_TOKEN = "1001:client-secret", "1002:cs-secret", "1003:cr-secret"
TOKENS = {"client": CLIENT_TOKEN, "cs": CS_TOKEN, "cr": CR_TOKEN}
SECRETS = {"client": "hook-client", "cs": "hook-cs", "cr": "hook-cr"}
CLIENT_BOT, CS_BOT, CR_BOT = 1001, 1002, 1003
CS_GROUP, CR_GROUP = -1002001, -1002002
STAFF = 6001
USER_BASE = 700_000  # client users are USER_BASE + 0 .. USER_BASE + n - 1


def scenario(n_users: int) -> dict:
    users = [
        {"id": USER_BASE + i, "first_name": "Client", "last_name": str(USER_BASE + i)}
        for i in range(n_users)
    ]
    return {
        "bots": [
            {"token": CLIENT_TOKEN, "username": "client_bot"},
            {"token": CS_TOKEN, "username": "cs_bot"},
            {"token": CR_TOKEN, "username": "cr_bot"},
        ],
        "users": [*users, {"id": STAFF, "first_name": "Anna"}],
        "groups": [
            {
                "id": CS_GROUP,
                "title": "CS",
                "forum": True,
                "members": [STAFF],
                "admins": [CS_TOKEN, STAFF],
            },
            {"id": CR_GROUP, "title": "CR One", "forum": True, "members": [], "admins": [CR_TOKEN]},
        ],
    }


REGISTRY = {
    "teams": [{"name": "CR One"}],
    "bots": [
        {"id": CLIENT_BOT, "role": "client", "username": "client_bot"},
        {"id": CS_BOT, "role": "cs", "username": "cs_bot"},
        {"id": CR_BOT, "role": "cr", "username": "cr_bot"},
    ],
    "groups": [
        {"id": CS_GROUP, "role": "cs", "title": "CS", "bot_id": CS_BOT},
        {"id": CR_GROUP, "role": "cr", "title": "CR One", "bot_id": CR_BOT, "team": "CR One"},
    ],
    "staff": [{"telegram_user_id": STAFF, "display_name": "Anna", "role_label": "CS"}],
}
