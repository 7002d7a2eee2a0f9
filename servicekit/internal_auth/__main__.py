"""python -m servicekit.internal_auth — make a service's key pair, or show a key's public half.

    keygen               the private key (PEM) then the public key (one line) on stdout
    keygen --out FILE    the private key into FILE (mode 0600, never overwritten),
                         the public key on stdout
    public FILE          the public key (one line) of the private key in FILE

The private key goes into the calling service's INTERNAL_KEY (a Secret); the public line
into the called services' INTERNAL_TRUSTED_KEYS under the caller's name (a ConfigMap).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .keys import UnusableKey, generate, load_private, public_line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m servicekit.internal_auth")
    commands = parser.add_subparsers(dest="command", required=True)
    keygen = commands.add_parser("keygen", help="make a new P-256 key pair")
    keygen.add_argument("--out", type=Path, help="write the private key here (mode 0600)")
    public = commands.add_parser("public", help="print the public key of a private key file")
    public.add_argument("file", type=Path)
    args = parser.parse_args(argv)

    if args.command == "public":
        try:
            key = load_private(args.file.read_text())
        except (OSError, UnusableKey) as error:
            print(f"{args.file}: {error}", file=sys.stderr)
            return 1
        print(public_line(key.public_key()))
        return 0

    pair = generate()
    if args.out is None:
        print(pair.private_pem, end="")
    else:
        try:
            # O_EXCL: never replace a key in use; 0600 from the start, not chmod'ed after.
            fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as error:
            print(f"{args.out}: {error.strerror}", file=sys.stderr)
            return 1
        with os.fdopen(fd, "w") as file:
            file.write(pair.private_pem)
    print(pair.public)
    return 0


if __name__ == "__main__":
    sys.exit(main())
