"""`make sandbox`: the Bot API sandbox alone, with the demo scenario, and how to use it.

`make dev` (deploy/local/dev.py) runs the sandbox with the Switchboard services; this is
for trying the Bot API and the driver API by hand."""

from __future__ import annotations

import argparse
import sys
from importlib import resources

from .__main__ import main as serve

GUIDE = """\
The Bot API sandbox with the demo scenario (no Switchboard services: `make dev` runs those).

  Bot API      {base}/bot<token>/<method>   e.g. {base}/bot1001:client-secret/getMe
  Driver API   {base}/_sandbox/...          (see sandbox/README.md)

Demo bots:   1001:client-secret (client), 1002:cs-secret (CS), 1003:cr-secret (CR),
             1004:treatment-secret (Treatment)
Demo people: Ann 5001 (client), Anna 6001 (CS staff), Ravi 6002 (CR staff)
Demo groups: -1002001 CS (topic "Intake"), -1002002 CR Team 1, -1002003 Treatment

Try it from another terminal:
  # Ann writes to the client bot
  curl -s {base}/_sandbox/users/5001/messages -H 'content-type: application/json' \\
       -d '{{"chat_id": "@switchboard_client_bot", "text": "Hello, I need help"}}'
  # the client bot receives it
  curl -s {base}/bot1001:client-secret/getUpdates
  # the CS bot opens a topic for Ann and writes in it
  curl -s {base}/bot1002:cs-secret/createForumTopic -d chat_id=-1002001 -d name='Ann Client'
  curl -s {base}/bot1002:cs-secret/sendMessage -d chat_id=-1002001 \\
       -d message_thread_id=<id from above> -d text='<b>Hi Ann</b>' -d parse_mode=HTML
  # what staff see in the CS group, and every Bot API call so far
  curl -s {base}/_sandbox/chats/-1002001/messages
  curl -s {base}/_sandbox/calls
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.demo")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args(argv)
    scenario = resources.files("sandbox") / "scenarios" / "demo.json"
    print(GUIDE.format(base=f"http://{args.host}:{args.port}"), flush=True)
    with resources.as_file(scenario) as path:
        return serve(["--host", args.host, "--port", str(args.port), "--scenario", str(path)])


if __name__ == "__main__":
    sys.exit(main())
