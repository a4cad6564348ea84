"""`python -m shuangsui.registry.recount [--replace]`: count every item's population again from
the directory and compare it with the counts kept incrementally (ADR 0009).

Exit status 0 when they agree (or were replaced), 1 when they differ. Pushes wait while it runs
(seconds for a million subjects)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from shuangsui.kernel.db import Database
from shuangsui.kernel.settings import load_settings
from shuangsui.messaging.platform import new_unit_of_work
from shuangsui.registry.service.classification import recount_population
from shuangsui.registry.settings import SERVICE, Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shuangsui.registry.recount", description=__doc__
    )
    parser.add_argument("--replace", action="store_true", help="keep the recounted figures")
    args = parser.parse_args(argv)
    settings = load_settings(Settings, SERVICE)
    return asyncio.run(_run(settings, args.replace))


async def _run(settings: Settings, replace: bool) -> int:
    database = Database.from_settings(settings)
    try:
        differing = await recount_population(
            new_unit_of_work(database, settings.province_token, SERVICE), replace=replace
        )
    finally:
        await database.stop()
    if not differing:
        print("population counts agree with the directory")
        return 0
    verb = "replaced" if replace else "differ (run with --replace to keep the recount)"
    print(f"{differing} population count row(s) {verb}")
    return 0 if replace else 1


if __name__ == "__main__":
    sys.exit(main())
