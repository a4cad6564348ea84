"""Long-running messaging processes (relay, consumers): start, run until SIGTERM, stop cleanly."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Sequence

import structlog
from nats.aio.client import Client

from shuangsui.kernel.db import Database, UnitOfWork
from shuangsui.kernel.observability import configure_logging
from shuangsui.kernel.settings import DatabaseSettings
from shuangsui.messaging.broker import connect, ensure_stream
from shuangsui.messaging.consumer import EventConsumer, Subscription
from shuangsui.messaging.housekeeping import run_housekeeping
from shuangsui.messaging.relay import OutboxRelay

log = structlog.get_logger("runtime")


def run_until_signalled(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    asyncio.run(runner())


async def _connect_when_up(url: str, name: str, stop: asyncio.Event) -> Client:
    while True:
        try:
            return await connect(url, name)
        except Exception as exc:  # the broker may come up after us
            log.warning("waiting for nats", error=repr(exc))
            if stop.is_set():
                raise
            await asyncio.sleep(1)


async def relay_main(
    settings: DatabaseSettings, service: str, stop: asyncio.Event, batch_size: int = 1000
) -> None:
    nc = await _connect_when_up(settings.nats_url, f"{service}-relay", stop)
    try:
        await ensure_stream(nc.jetstream(), settings.province_token, service)
        relay = OutboxRelay(settings.database_url, nc, batch_size=batch_size)
        log.info("relay started", service=service)
        await asyncio.gather(relay.run(stop), run_housekeeping(settings.database_url, stop))
        log.info("relay stopped", service=service, published=relay.stats.published)
    finally:
        await nc.drain()


async def consumers_main(
    settings: DatabaseSettings,
    service: str,
    subscriptions: Sequence[Subscription],
    uow_factory: Callable[[Database], UnitOfWork],
    stop: asyncio.Event,
) -> None:
    nc = await _connect_when_up(settings.nats_url, f"{service}-worker", stop)
    database = Database.from_settings(settings)
    consumers = [
        EventConsumer(s, nc, database, settings.province_token, lambda: uow_factory(database))
        for s in subscriptions
    ]
    log.info("worker started", service=service, consumers=[s.durable for s in subscriptions])
    try:
        await asyncio.gather(*(c.run(stop) for c in consumers))
    finally:
        await nc.drain()
        await database.stop()


def run_relay(settings: DatabaseSettings, service: str, batch_size: int = 1000) -> None:
    configure_logging(settings.log_level, settings.log_format)
    run_until_signalled(lambda stop: relay_main(settings, service, stop, batch_size))


def run_consumers(
    settings: DatabaseSettings,
    service: str,
    subscriptions: Sequence[Subscription],
    uow_factory: Callable[[Database], UnitOfWork],
) -> None:
    configure_logging(settings.log_level, settings.log_format)
    run_until_signalled(
        lambda stop: consumers_main(settings, service, subscriptions, uow_factory, stop)
    )
