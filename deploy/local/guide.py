"""What `make dev` prints once everything runs."""

from __future__ import annotations

SANDBOX_GUIDE = """
Switchboard is running on this machine (logs: var/dev/*.log; Ctrl-C stops it all).
Every URL, port, secret and token below is also in var/dev/stack.json, for scripts.

  Bot API sandbox  {api}         (the demo's Telegram)
  ingress          http://127.0.0.1:8080   routing gRPC 127.0.0.1:50052
  delivery         http://127.0.0.1:8082   database var/dev/switchboard.db (SQLite)
  admin            http://127.0.0.1:8083   metrics http://127.0.0.1:9101-9104/metrics

Demo: Ann (5001) is a customer with topic {cs_topic} in the CS group (-1002001) and
topic {cr_topic} in the CR group (-1002002). Anna (6001) works in CS, Ravi (6002) in CR.

Talk as the client (Ann writes to the client bot):
  curl -s {api}/_sandbox/users/5001/messages -H 'content-type: application/json' \\
       -d '{{"chat_id": "@switchboard_client_bot", "text": "Hello, my order is late"}}'

Watch staff see it in Ann's topics:
  curl -s '{api}/_sandbox/chats/-1002001/messages?thread_id={cs_topic}'
  curl -s '{api}/_sandbox/chats/-1002002/messages?thread_id={cr_topic}'

Answer as staff (Anna writes in Ann's CS topic):
  curl -s {api}/_sandbox/users/6001/messages -H 'content-type: application/json' \\
       -d '{{"chat_id": -1002001, "message_thread_id": {cs_topic}, "text": "On it!"}}'

Watch the client see it, attributed ("Anna · CS"):
  curl -s '{api}/_sandbox/chats/5001/messages?bot=switchboard_client_bot'

Onboard a new client: Dana (5002) writes to the client bot; her account
dana@example.com is in the demo directory (deploy/local/directory.csv, imported at start).
  curl -s {api}/_sandbox/users/5002/messages -H 'content-type: application/json' \\
       -d '{{"chat_id": "@switchboard_client_bot", "text": "/start"}}'
  curl -s {api}/_sandbox/users/5002/messages -H 'content-type: application/json' \\
       -d '{{"chat_id": "@switchboard_client_bot", "text": "dana@example.com"}}'
  curl -s '{api}/_sandbox/chats/5002/messages?bot=switchboard_client_bot'   (what she is told)
CS sees her request, with a button per CR team, in the CS group's Intake topic:
  curl -s '{api}/_sandbox/chats/-1002001/messages?thread_id={intake}'
Assign her with the CLI (the operations API; the admin key below). She is customer 2
in this fresh demo database (Ann is 1), as the list shows:
  export SWITCHBOARD_ADMIN_KEY={admin_key}
  .venv/bin/switchboard-admin customers list --status pending
  .venv/bin/switchboard-admin customers assign 2 "CR Team 1"
(or press the prompt's button as Anna — the prompt is the Intake topic's last message:
  PROMPT=$(curl -s '{api}/_sandbox/chats/-1002001/messages?thread_id={intake}' |
           python3 -c 'import json,sys; print(json.load(sys.stdin)["result"][-1]["message_id"])')
  curl -s {api}/_sandbox/users/6001/callbacks -H 'content-type: application/json' \\
       -d '{{"chat_id": -1002001, "message_id": '$PROMPT', "text": "✅ CR Team 1"}}')
Her topics appear in CS, CR and Treatment with her card; she is welcomed:
  curl -s {api}/_sandbox/chats/-1002003/topics
  .venv/bin/switchboard-admin customers show 2
  .venv/bin/switchboard-admin audit --target-id 2

Every Bot API call the services made:  curl -s {api}/_sandbox/calls
The operations API:  .venv/bin/switchboard-admin summary
  curl -s -H "Authorization: Bearer $SWITCHBOARD_ADMIN_KEY" http://127.0.0.1:8083/v1/summary
  the OpenAPI document: http://127.0.0.1:8083/openapi.json
"""

REAL_GUIDE = """
Switchboard is running against Telegram with your bots (logs: var/dev/*.log).
Ingress long-polls each bot; write to the client bot from the demo client's account
(SWITCHBOARD_DEMO_CLIENT_ID) and watch the CS and CR topics; answer in a topic and the
client's chat shows the line as "Name · ROLE". Ctrl-C stops it all.
The operations API (admin key, shown this once):  export SWITCHBOARD_ADMIN_KEY={admin_key}
  switchboard-admin summary          (or: python -m services.admin.cli summary)
"""


def guide(
    *, real: bool, sandbox: str, admin_key: str, intake: int = 0, topics: dict[str, int]
) -> str:
    """The text for this run, with the values it already knows filled in."""
    if real:
        return REAL_GUIDE.format(admin_key=admin_key)
    return SANDBOX_GUIDE.format(
        api=sandbox,
        admin_key=admin_key,
        intake=intake,
        cs_topic=topics.get("cs", 0),
        cr_topic=topics.get("cr", 0),
    )
