"""`python -m shuangsui.drawspec compute|verify|commitment|party-secret|bundle ...`."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
