"""The registry's background work (`python -m shuangsui.registry.worker`): follow the items in
force, re-classify subjects after a rule or item change, fold the population counts."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from shuangsui.contracts.workdays import shanghai_date
from shuangsui.kernel.db import Database, UnitOfWork
from shuangsui.kernel.observability import configure_logging
from shuangsui.kernel.problems import Problem
from shuangsui.kernel.settings import load_settings
from shuangsui.messaging.platform import new_unit_of_work
from shuangsui.messaging.runtime import run_until_signalled
from shuangsui.registry.service.classification import (
    CLASSIFICATION_BUSY,
    families_of,
    fold_counts,
    follow_items_in_force,
    run_pass_step,
)
from shuangsui.registry.settings import SERVICE, Settings

log = structlog.get_logger("registry-worker")
IDLE_SECONDS = 0.5
ERROR_BACKOFF_SECONDS = 5.0


class Chores:
    """One round of the worker's chores; each runs when due. Tests call `round()` directly."""

    def __init__(self, settings: Settings, new_uow: Callable[[], UnitOfWork]) -> None:
        self.settings = settings
        self.new_uow = new_uow
        self.families = families_of(settings.province)
        self._items_checked = -float("inf")
        self._folded = -float("inf")

    async def round(self) -> bool:
        """True when a re-classification step did work (so the next round should not wait)."""
        now = time.monotonic()
        if now - self._items_checked >= self.settings.items_check_seconds:
            self._items_checked = now
            try:
                started = await follow_items_in_force(
                    self.new_uow(), self.families, shanghai_date(datetime.now(UTC))
                )
            except Problem as refused:
                if refused.kind is not CLASSIFICATION_BUSY:
                    raise
                self._items_checked = -float("inf")  # pushes hold the rules: look again soon
                log.info("items in force changed; waiting for pushes to finish")
            else:
                if started is not None:
                    log.info("items in force changed; re-classifying", classification=started)
        busy = await run_pass_step(self.new_uow())
        if now - self._folded >= self.settings.fold_seconds:
            self._folded = now
            folded = await fold_counts(self.new_uow())
            if folded:
                log.debug("population deltas folded", deltas=folded)
        return busy


async def work(settings: Settings, stop: asyncio.Event) -> None:
    database = Database.from_settings(settings)
    chores = Chores(settings, lambda: new_unit_of_work(database, settings.province_token, SERVICE))
    log.info("worker started", service=SERVICE)
    try:
        while not stop.is_set():
            try:
                busy = await chores.round()
            except Exception:  # a database restart must not end the worker; it retries
                log.exception("worker round failed; retrying")
                busy = False
                await _sleep(stop, ERROR_BACKOFF_SECONDS)
            if not busy:
                await _sleep(stop, IDLE_SECONDS)
    finally:
        await database.stop()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def main() -> None:
    settings = load_settings(Settings, SERVICE)
    configure_logging(settings.log_level, settings.log_format)
    run_until_signalled(lambda stop: work(settings, stop))


if __name__ == "__main__":
    main()
