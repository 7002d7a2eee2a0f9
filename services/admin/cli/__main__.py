"""python -m services.admin.cli — the same as `switchboard-admin`."""

import sys

from . import main

sys.exit(main())
