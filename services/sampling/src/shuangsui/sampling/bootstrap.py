"""Load a fresh subjects read model from the registry's export (`python -m
shuangsui.sampling.bootstrap`); the worker does the same at start-up when the model is empty.

A read model loaded from an export continues from the export's snapshot point (ADR 0012): its
durable consumer is created anew at the snapshot's time, so one left from an earlier database is
deleted first (it would continue from where that database stood).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

import structlog
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from shuangsui.kernel.db import Database, UnitOfWork
from shuangsui.kernel.observability import configure_logging
from shuangsui.kernel.service_client import ServiceCallError
from shuangsui.kernel.settings import load_settings
from shuangsui.messaging.broker import connect, ensure_stream
from shuangsui.messaging.envelope import consumer_name, stream_name
from shuangsui.messaging.snapshots import SnapshotPoint
from shuangsui.sampling.adapters.subjects import RegistryExports
from shuangsui.sampling.domain.subjects import ExportBroken
from shuangsui.sampling.service import subjects
from shuangsui.sampling.service.subjects import Progress
from shuangsui.sampling.settings import SERVICE, Settings

log = structlog.get_logger("sampling.bootstrap")

SUBJECTS_CONSUMER = consumer_name(SERVICE, "subjects")
RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)


def registry_exports(settings: Settings) -> RegistryExports:
    return RegistryExports.of(settings, SERVICE, settings.registry_url)


async def forget_consumer(nats: Client, province_token: str, durable: str) -> None:
    js = nats.jetstream()
    await ensure_stream(js, province_token, "registry")
    with contextlib.suppress(NotFoundError):
        await js.delete_consumer(stream_name("registry"), durable)


async def subjects_point(
    settings: Settings,
    database: Database,
    nats: Client,
    progress: Progress | None = None,
    stop: asyncio.Event | None = None,
) -> SnapshotPoint | None:
    """The point `sampling-subjects` continues from, loading the export first if the model was
    never loaded (retried while the registry cannot answer). None only when stopped first."""

    def new_uow() -> UnitOfWork:
        return UnitOfWork(database)

    point = await subjects.snapshot_point(new_uow())
    if point is not None:
        return point
    registry = registry_exports(settings)
    attempt = 0
    try:
        while stop is None or not stop.is_set():
            try:
                await forget_consumer(nats, settings.province_token, SUBJECTS_CONSUMER)
                return await subjects.load_from_registry(
                    new_uow(), registry, batch_size=settings.bootstrap_batch_size,
                    progress=progress,
                )  # fmt: skip
            except subjects.AlreadyLoaded:
                raise
            except (ServiceCallError, ExportBroken, OSError) as exc:
                wait = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
                log.warning("loading the export failed; again", error=str(exc), wait=wait)
                attempt += 1
                await asyncio.sleep(wait)
    finally:
        await registry.stop()
    return None


def _print_progress(loaded: int) -> None:
    print(f"\r{loaded:,} subjects loaded", end="", file=sys.stderr, flush=True)


async def _main(settings: Settings) -> None:
    database = Database.from_settings(settings)
    nats = await connect(settings.nats_url, f"{SERVICE}-bootstrap")
    try:
        point = await subjects_point(settings, database, nats, progress=_print_progress)
        print(f"\nsubjects continue from snapshot {point}", file=sys.stderr)
    finally:
        await nats.drain()
        await database.stop()


def main() -> None:
    settings = load_settings(Settings, SERVICE)
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(_main(settings))


if __name__ == "__main__":
    main()
