"""The standard cast of the integration tests: bots, people and forum groups."""

from __future__ import annotations

CLIENT_TOKEN = "1001:client-secret"
CS_TOKEN = "1002:cs-secret"
CR_TOKEN = "1003:cr-secret"
ANN = 5001  # a client
ANNA = 6001  # CS staff, admin of the CS group
BOB = 6002  # CR staff, plain member
CS_GROUP = -1002001
CR_GROUP = -1002002

CAST = {
    "bots": [
        {"token": CLIENT_TOKEN, "username": "client_bot"},
        {"token": CS_TOKEN, "username": "cs_bot"},
        {"token": CR_TOKEN, "username": "cr_bot"},
    ],
    "users": [
        {"id": ANN, "first_name": "Ann", "username": "ann"},
        {"id": ANNA, "first_name": "Anna", "last_name": "Staff"},
        {"id": BOB, "first_name": "Bob"},
    ],
    "groups": [
        {
            "id": CS_GROUP,
            "title": "CS",
            "forum": True,
            "members": [ANNA, BOB],
            "admins": [CS_TOKEN, ANNA],
            "bots": [CR_TOKEN],
        },
        {
            "id": CR_GROUP,
            "title": "CR",
            "forum": True,
            "members": [BOB],
            "admins": [{"bot": CR_TOKEN, "can_manage_topics": False, "can_delete_messages": False}],
        },
    ],
}
