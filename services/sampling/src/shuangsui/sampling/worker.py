"""Sampling's event consumers (`python -m shuangsui.sampling.worker`).

Beside the plain subscriptions, a read model that starts from the registry's export names how
its consumer gets its starting point (`STARTING_POINTS`: loading the export first when the model
is empty) and how the worker records how far behind it is (`LAG_PROBES`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
import structlog
from nats.aio.client import Client

from shuangsui.kernel import faults
from shuangsui.kernel.db import Database, UnitOfWork
from shuangsui.kernel.observability import configure_logging
from shuangsui.kernel.settings import load_settings
from shuangsui.messaging.broker import connect
from shuangsui.messaging.consumer import EventConsumer, Subscription
from shuangsui.messaging.envelope import nats_subject
from shuangsui.messaging.platform import new_unit_of_work
from shuangsui.messaging.runtime import run_until_signalled
from shuangsui.messaging.snapshots import SnapshotPoint
from shuangsui.sampling import bootstrap
from shuangsui.sampling.domain.subjects import Consumption
from shuangsui.sampling.service import batches, draw_ends, draw_rounds, inspectors, subjects
from shuangsui.sampling.settings import SERVICE, Settings

log = structlog.get_logger("sampling.worker")

SUBSCRIPTIONS = [
    Subscription(
        SERVICE,
        "inspectors",
        "registry",
        {
            "registry.inspector.upserted.v1": inspectors.apply_inspector_upserted,
            "registry.inspector.conflict_declared.v1": inspectors.apply_conflict_declared,
        },
        batched=True,
    ),
    Subscription(
        SERVICE,
        "batches",
        "planning",
        {
            "planning.batch.published.v1": batches.apply_batch_published,
            "planning.batch.cancelled.v1": batches.apply_batch_cancelled,
        },
    ),
    Subscription(
        SERVICE, "orgs", "registry", {"registry.org.upserted.v1": inspectors.apply_org_upserted}
    ),
    # v2 of risk_class_changed only: it holds all of v1, and both would apply each change twice.
    # A fetched batch in one transaction: the registry's bulk changes arrive by the thousand.
    Subscription(
        SERVICE,
        "subjects",
        "registry",
        subjects.HANDLERS,
        batched=True,
        batch_handlers=subjects.BATCH_HANDLERS,
    ),
]

StartingPoint = Callable[
    [Settings, Database, Client, asyncio.Event], Awaitable[SnapshotPoint | None]
]
STARTING_POINTS: dict[str, StartingPoint] = {
    bootstrap.SUBJECTS_CONSUMER: lambda settings, database, nats, stop: bootstrap.subjects_point(
        settings, database, nats, stop=stop
    ),
}
LAG_PROBES: dict[str, Callable[[UnitOfWork, Consumption], Awaitable[None]]] = {
    bootstrap.SUBJECTS_CONSUMER: subjects.record_consumption,
}


async def consumption_of(consumer: EventConsumer) -> Consumption:
    """How many events the consumer has not applied, and when the oldest was published: the
    first message of its subjects after its acknowledgement floor."""
    js = consumer.nats.jetstream()
    info = await js.consumer_info(consumer.stream, consumer.subscription.durable)
    now = datetime.now(UTC)
    unapplied = (info.num_pending or 0) + (info.num_ack_pending or 0)
    if unapplied == 0:
        return Consumption(now, 0, None)
    floor = (info.ack_floor.stream_seq if info.ack_floor else 0) or 0
    oldest: datetime | None = None
    for event_type in consumer.subscription.handlers:
        subject = nats_subject(consumer.province_token, event_type)
        with contextlib.suppress(Exception):  # none of that type after the floor
            message = await js.get_msg(consumer.stream, seq=floor + 1, subject=subject, next=True)
            if message.time is not None and (oldest is None or message.time < oldest):
                oldest = message.time
    return Consumption(now, unapplied, oldest)


async def probe_lag(
    consumer: EventConsumer,
    record: Callable[[UnitOfWork, Consumption], Awaitable[None]],
    new_uow: Callable[[], UnitOfWork],
    every: float,
    stop: asyncio.Event,
) -> None:
    while not stop.is_set():
        try:
            await record(new_uow(), await consumption_of(consumer))
        except Exception as exc:  # the broker or database away: the lag grows meanwhile
            log.warning("lag probe failed", consumer=consumer.subscription.durable, error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def check_reveals(
    new_uow: Callable[[], UnitOfWork], every: float, stop: asyncio.Event
) -> None:
    """Fail every commit-reveal draw past its reveal deadline without all reveals (§5.2), and
    every drand draw past its deadline without an accepted round (§5.1), every `every` seconds.
    Several workers may run it at once: each draw is decided under its lock,
    so it fails once with one `sampling.draw.failed.v1`."""
    while not stop.is_set():
        try:
            for failed in await draw_ends.fail_overdue_draws(new_uow):
                reason = failed.draw.failure.reason if failed.draw.failure else None
                log.info("draw failed", draw_code=failed.draw.draw_code, reason=reason)
        except Exception as exc:  # the database away: the next round catches up
            log.warning("reveal check failed", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def fetch_rounds(
    new_uow: Callable[[], UnitOfWork], relays: list[str], every: float, stop: asyncio.Event
) -> None:
    """Fetch the due rounds of committed drand draws from the relays (DRAND_URLS) every `every`
    seconds; each is accepted only through the push's own checks (§5.1). Not run on an offline
    deployment (no relays): an operator pushes the rounds there."""
    async with httpx.AsyncClient() as client:
        while not stop.is_set():
            try:
                for done in await draw_rounds.fetch_due_rounds(new_uow, relays, client):
                    log.info("drand round accepted", draw_code=done.draw.draw_code,
                             status=done.draw.status)  # fmt: skip
            except Exception as exc:  # the database away: the next round catches up
                log.warning("drand fetch failed", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)


async def consumer_for(
    subscription: Subscription,
    settings: Settings,
    database: Database,
    nats: Client,
    stop: asyncio.Event,
) -> EventConsumer | None:
    """The subscription's consumer. One with a starting point gets it first (which may load an
    export) and skips what the point covers, at every start: a covered event redelivered after
    a restart must not be applied over the export. None if stopped before it had its point."""
    point: SnapshotPoint | None = None
    starting = STARTING_POINTS.get(subscription.durable)
    if starting is not None:
        point = await starting(settings, database, nats, stop)
        if point is None:
            return None

    def new_uow() -> UnitOfWork:
        return new_unit_of_work(database, settings.province_token, SERVICE)

    return EventConsumer(
        subscription,
        nats,
        database,
        settings.province_token,
        new_uow,
        start_at=point.replay_from() if point else None,
        skip=point.skips if point else None,
    )


async def build_consumers(
    settings: Settings, database: Database, nats: Client, stop: asyncio.Event
) -> list[EventConsumer]:
    """Every subscription's consumer, each once it has its starting point."""
    built = [await consumer_for(s, settings, database, nats, stop) for s in SUBSCRIPTIONS]
    return [consumer for consumer in built if consumer is not None]


async def follow(
    subscription: Subscription,
    settings: Settings,
    database: Database,
    nats: Client,
    stop: asyncio.Event,
) -> None:
    """One subscription, from its start (a read model loading its export does not hold up the
    others) until stopped, with its lag probe if it has one."""
    consumer = await consumer_for(subscription, settings, database, nats, stop)
    if consumer is None:
        return
    log.info("consumer started", consumer=subscription.durable)
    tasks = [consumer.run(stop)]
    record = LAG_PROBES.get(subscription.durable)
    if record is not None:
        tasks.append(
            probe_lag(consumer, record, lambda: UnitOfWork(database),
                      settings.read_model_check_seconds, stop)
        )  # fmt: skip
    await asyncio.gather(*tasks)


async def _connect_when_up(url: str, stop: asyncio.Event) -> Client:
    while True:
        try:
            return await connect(url, f"{SERVICE}-worker")
        except Exception as exc:  # the broker may come up after us
            log.warning("waiting for nats", error=repr(exc))
            if stop.is_set():
                raise
            await asyncio.sleep(1)


async def worker_main(settings: Settings, stop: asyncio.Event) -> None:
    nats = await _connect_when_up(settings.nats_url, stop)
    database = Database.from_settings(settings)

    def new_uow() -> UnitOfWork:
        return new_unit_of_work(database, settings.province_token, SERVICE)

    relays = settings.drand_relays
    every = settings.read_model_check_seconds
    try:
        log.info("worker started", service=SERVICE, consumers=[s.durable for s in SUBSCRIPTIONS])
        await asyncio.gather(
            *(follow(s, settings, database, nats, stop) for s in SUBSCRIPTIONS),
            check_reveals(new_uow, every, stop),
            *([fetch_rounds(new_uow, relays, every, stop)] if relays else []),
        )  # fmt: skip
    finally:
        await nats.drain()
        await database.stop()


def main() -> None:
    settings = load_settings(Settings, SERVICE)
    configure_logging(settings.log_level, settings.log_format)
    faults.arm(test_mode=settings.draw_test_mode)
    run_until_signalled(lambda stop: worker_main(settings, stop))


if __name__ == "__main__":
    main()
