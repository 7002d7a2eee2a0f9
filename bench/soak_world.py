"""The soak's world and its mix: the cast (bots, a CS group with an intake topic, two CR
teams, staff, customers already served, newcomers and the directory that knows them) and
the plan of what each customer's conversation does, drawn from the seed's mix.

**The seed's mix.** The seed reported 10,710 sends in four weeks at a 99.96 % success
rate, and nothing finer (`../shared/DESIGN.md` names the operations table's figures —
send success rate, sends, errors, peak daily volume — but not the mix). So the mix is
derived: a support desk where a client writes a few lines and staff answer about two in
three of them, some answers quoting the line they answer; clients send a photo now and
then and sometimes an album; they fix a typo in about one line in twelve; staff mark a
line with a reaction about as often; and new clients onboard through the CS intake all
along. A "send" is one job (one Bot API send or action to one destination), which is
what the operations table counts; each action below makes the jobs it says, so the
shares are of jobs, not of actions:

| action | jobs each | share of jobs |
|---|---:|---:|
| client line → CS topic + CR topic | 2 | 36 % |
| staff answer → client + the other team's topic | 2 | 22 % |
| staff answer quoting the client's line (a reply) | 2 | 8 % |
| client photo with a caption | 2 | 4 % |
| client album of 3 photos | 6 | 6 % |
| client edits a line (every copy edited) | 2 | 8 % |
| staff reaction on a copy (mirrored to the original and the other copy) | 2 | 8 % |
| onboarding: /start, email, CS prompt, the press, two topics, cards, welcome | ~9 | 8 % |

Every text carries a tag `«n»` (n unique in the run, increasing in the order its author
wrote it), so the checks can find each line in every destination, count its copies and
see its order without trusting the database."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

CLIENT_TOKEN, CS_TOKEN, CR_TOKEN = "1001:client-secret", "1002:cs-secret", "1003:cr-secret"
TOKENS = {"client": CLIENT_TOKEN, "cs": CS_TOKEN, "cr": CR_TOKEN}
SECRETS = {"client": "hook-client", "cs": "hook-cs", "cr": "hook-cr"}
BOT_IDS = {"client": 1001, "cs": 1002, "cr": 1003}
CLIENT_BOT = 1001
CS_GROUP, CR_ONE, CR_TWO = -1002001, -1002002, -1002003
# The bots' own group where delivery reads a message by forwarding it (an unsure send is
# checked there before it goes again): each bot's log_chat_id in the registry.
LOG_CHAT = -1002999
ANNA, CLEO, RAVI, TARA = 6001, 6003, 6002, 6004
STAFF_OF = {CS_GROUP: ANNA, CR_ONE: RAVI, CR_TWO: TARA}
TEAM_OF = {CR_ONE: "CR One", CR_TWO: "CR Two"}
GROUP_BOT = {CS_GROUP: 1002, CR_ONE: 1003, CR_TWO: 1003}
CUSTOMER_BASE = 700_000
NEWCOMER_BASE = 760_000

# (action, jobs it makes, share of the run's jobs)
MIX: tuple[tuple[str, float, float], ...] = (
    ("client_line", 2, 0.36),
    ("staff_answer", 2, 0.22),
    ("staff_reply", 2, 0.08),
    ("client_photo", 2, 0.04),
    ("client_album", 6, 0.06),
    ("edit", 2, 0.08),
    ("reaction", 2, 0.08),
    ("onboarding", 9, 0.08),
)
ALBUM_ITEMS = 3
SEED_SENDS, SEED_SUCCESS = 10_710, 0.9996


def tag(n: int) -> str:
    return f"«{n}»"


@dataclass
class Customer:
    user_id: int
    cr_group: int
    newcomer: bool = False
    threads: dict[int, int] = field(default_factory=dict)  # group -> thread, once known
    actions: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"Client {self.user_id}"

    @property
    def email(self) -> str:
        return f"c{self.user_id}@example.com"

    @property
    def groups(self) -> tuple[int, int]:
        return (CS_GROUP, self.cr_group)


@dataclass
class Plan:
    sends: int
    customers: list[Customer]
    counts: dict[str, int]

    @property
    def newcomers(self) -> list[Customer]:
        return [c for c in self.customers if c.newcomer]

    @property
    def actions(self) -> int:
        return sum(len(c.actions) for c in self.customers)


def plan(sends: int, *, seed: int = 13, lines_per_customer: float = 12.0) -> Plan:
    """The actions that make about `sends` jobs in the seed's mix, spread over customers
    (a few chatty ones, many quiet ones), each customer's list in conversation order."""
    rng = random.Random(seed)
    counts = {name: max(1, round(sends * share / jobs)) for name, jobs, share in MIX}
    n_old = max(2, round(counts["client_line"] / lines_per_customer))
    customers = [
        Customer(CUSTOMER_BASE + i, CR_ONE if i % 2 == 0 else CR_TWO) for i in range(n_old)
    ]
    customers += [
        Customer(NEWCOMER_BASE + i, CR_ONE if i % 2 == 0 else CR_TWO, newcomer=True)
        for i in range(counts["onboarding"])
    ]
    # A chatty customer writes several times as much as a quiet one (weights 1..5).
    weights = [rng.choice((1, 1, 1, 2, 2, 3, 5)) for _ in customers]
    pool: list[str] = []
    for name, _, _ in MIX:
        if name != "onboarding":
            pool += [name] * counts[name]
    rng.shuffle(pool)
    for action in pool:
        rng.choices(customers, weights)[0].actions.append(action)
    for c in customers:
        # A conversation opens with the client's line: answers, edits and reactions
        # need one to refer to.
        if not c.actions or c.actions[0] != "client_line":
            c.actions.insert(0, "client_line")
        if c.newcomer:
            c.actions.insert(0, "onboarding")
    return Plan(sends, customers, counts)


def scenario(p: Plan) -> dict:
    # Customers already served have started the client bot (Telegram refuses a bot's
    # first message to someone who never did); newcomers start it with /start.
    users = [
        {
            "id": c.user_id,
            "first_name": "Client",
            "last_name": str(c.user_id),
            **({} if c.newcomer else {"started": ["client_bot"]}),
        }
        for c in p.customers
    ]
    staff = [
        {"id": ANNA, "first_name": "Anna"},
        {"id": CLEO, "first_name": "Cleo"},
        {"id": RAVI, "first_name": "Ravi"},
        {"id": TARA, "first_name": "Tara"},
    ]

    def group(chat: int, title: str, token: str, people: list[int]) -> dict:
        return {
            "id": chat,
            "title": title,
            "forum": True,
            "members": people,
            "admins": [token, *people],
        }

    return {
        "bots": [
            {"token": CLIENT_TOKEN, "username": "client_bot"},
            {"token": CS_TOKEN, "username": "cs_bot"},
            {"token": CR_TOKEN, "username": "cr_bot"},
        ],
        "users": [*users, *staff],
        "groups": [
            group(CS_GROUP, "CS", CS_TOKEN, [ANNA, CLEO]),
            group(CR_ONE, "CR One", CR_TOKEN, [RAVI]),
            group(CR_TWO, "CR Two", CR_TOKEN, [TARA]),
            {
                "id": LOG_CHAT,
                "title": "Switchboard log",
                "members": [ANNA],
                "admins": [CLIENT_TOKEN, CS_TOKEN, CR_TOKEN],
            },
        ],
    }


REGISTRY = {
    "teams": [{"name": "CR One"}, {"name": "CR Two"}],
    "bots": [
        {"id": 1001, "role": "client", "username": "client_bot", "log_chat_id": LOG_CHAT},
        {"id": 1002, "role": "cs", "username": "cs_bot", "log_chat_id": LOG_CHAT},
        {"id": 1003, "role": "cr", "username": "cr_bot", "log_chat_id": LOG_CHAT},
    ],
    "groups": [
        {"id": CS_GROUP, "role": "cs", "title": "CS", "bot_id": 1002},
        {"id": CR_ONE, "role": "cr", "title": "CR One", "bot_id": 1003, "team": "CR One"},
        {"id": CR_TWO, "role": "cr", "title": "CR Two", "bot_id": 1003, "team": "CR Two"},
    ],
    "staff": [
        {"telegram_user_id": ANNA, "display_name": "Anna", "role_label": "CS"},
        {"telegram_user_id": CLEO, "display_name": "Cleo", "role_label": "CS"},
        {"telegram_user_id": RAVI, "display_name": "Ravi", "role_label": "CR"},
        {"telegram_user_id": TARA, "display_name": "Tara", "role_label": "CR"},
    ],
}
