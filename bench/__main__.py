"""`make bench` (or `python -m bench [--quick]`): run every benchmark, print, write results.json."""

from __future__ import annotations

import argparse
import asyncio

from bench import draw, messaging, registry_push
from bench.results import report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args()
    figures = asyncio.run(messaging.run(quick=args.quick))
    figures += draw.run(quick=args.quick)
    figures += registry_push.run(quick=args.quick)
    report(figures)


if __name__ == "__main__":
    main()
