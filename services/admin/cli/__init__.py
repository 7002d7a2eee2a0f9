"""switchboard-admin: the operations API from the shell, over its REST API.

    export SWITCHBOARD_ADMIN_KEY=sbk_...
    switchboard-admin customers list --status pending
    switchboard-admin --json jobs failed --lane staff-to-client

Exit codes: 0 done, 1 the API refused or could not be reached, 2 a usage error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from .client import Api, ApiError
from .parser import build


def main(argv: Sequence[str] | None = None) -> int:
    parser = build()
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("no API key: set SWITCHBOARD_ADMIN_KEY (or pass --key)")
    api = Api(args.url, args.key)
    try:
        body, text = args.run(api, args)
    except ApiError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    except OSError as error:
        # Unreachable, refused, timed out, or an unreadable import file.
        print(f"error: {_reason(error, args.url)}", file=sys.stderr)
        return 1
    print(json.dumps(body, indent=2, ensure_ascii=False) if args.json else text)
    return 0


def _reason(error: OSError, url: str) -> str:
    reason = getattr(error, "reason", None)
    if reason is not None:  # urllib's URLError
        return f"cannot reach the admin API at {url}: {reason}"
    return str(error)
