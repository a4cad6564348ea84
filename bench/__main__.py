"""`make bench` (or `python -m bench [--quick] [--only NAME]`): run the benchmarks, print, write
results.json."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable

from bench import (
    draw,
    messaging,
    planning_batch_preview,
    registry_count,
    registry_export,
    registry_push,
    sampling_draw,
)
from bench.results import Figure, report

BENCHMARKS: dict[str, Callable[[bool], list[Figure]]] = {
    "messaging": lambda quick: asyncio.run(messaging.run(quick=quick)),
    "draw": lambda quick: draw.run(quick=quick),
    "registry_push": lambda quick: registry_push.run(quick=quick),
    "registry_count": lambda quick: registry_count.run(quick=quick),
    "registry_export": lambda quick: registry_export.run(quick=quick),
    "planning_batch_preview": lambda quick: planning_batch_preview.run(quick=quick),
    "sampling_draw": lambda quick: sampling_draw.run(quick=quick),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--only", choices=list(BENCHMARKS), help="run just this benchmark")
    args = parser.parse_args()
    figures: list[Figure] = []
    for name, bench in BENCHMARKS.items():
        if args.only in (None, name):
            figures += bench(args.quick)
    report(figures)


if __name__ == "__main__":
    main()
