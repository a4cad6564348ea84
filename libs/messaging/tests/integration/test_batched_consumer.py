"""A subscription that opts in to `batched`: a fetched batch applied in one transaction, with
every guarantee of one by one — each event once, copies skipped inside a batch and across
batches, a poison message dead-lettered while the others are applied once, a redelivery after a
commit whose acks were lost skipped, the order kept.

Real PostgreSQL and a real NATS JetStream server; nothing is mocked. The events are on the stream
before the consumer starts, so that its fetches return them in batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import asyncpg
import sqlalchemy as sa
from nats.aio.msg import Msg

from shuangsui.messaging.broker import connect, ensure_stream
from shuangsui.messaging.consumer import EventConsumer, Subscription
from shuangsui.messaging.envelope import Envelope
from shuangsui.messaging.testing import (
    PROVINCE,
    applied_events,
    probe,
    record_application,
    scalar,
    unit_of_work_factory,
    wait_until,
)

PROBE = "registry.probe.sent.v1"
APPLIED = "SELECT count(*) FROM applied_events"
APPLIED_TWICE = (
    "SELECT count(*) FROM (SELECT event_id FROM applied_events GROUP BY event_id "
    "HAVING count(*) > 1) d"
)
# Rows written by one transaction share its xmin: how many transactions wrote the events.
WRITING_TRANSACTIONS = "SELECT count(DISTINCT xmin::text) FROM applied_events"


def batched_consumer(nc, database, handler=record_application, **options) -> EventConsumer:
    batch_handlers = options.pop("batch_handlers", {})
    subscription = Subscription(
        "planning", "probes", "registry", {PROBE: handler}, batched=True,
        batch_handlers=batch_handlers,
    )  # fmt: skip
    return EventConsumer(
        subscription, nc, database, PROVINCE, unit_of_work_factory(database), **options
    )


async def publish(nc, notes: list[str]) -> list[Envelope]:
    js = nc.jetstream()
    await ensure_stream(js, PROVINCE, "registry")
    envelopes = [probe(note).envelope(PROVINCE, "registry", None) for note in notes]
    for envelope in envelopes:
        await publish_copy(nc, envelope, str(envelope.id))
    return envelopes


async def publish_copy(nc, envelope: Envelope, msg_id: str) -> None:
    """Under its own message id: a copy JetStream's duplicate window cannot catch."""
    body = envelope.model_dump_json().encode()
    await nc.jetstream().publish(envelope.nats_subject, body, headers={"Nats-Msg-Id": msg_id})


@contextlib.asynccontextmanager
async def running(consumer: EventConsumer) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def consumed(consumer: EventConsumer, expected: int) -> None:
    async with running(consumer):
        await wait_until(lambda: _handled(consumer, expected), what=f"{expected} handled")


async def assert_each_applied_once(dsn: str, expected: int) -> None:
    assert await scalar(dsn, APPLIED_TWICE) == 0, "some event was applied more than once"
    assert await scalar(dsn, "SELECT count(DISTINCT event_id) FROM applied_events") == expected


async def test_a_fetched_batch_is_applied_once_in_one_transaction(
    messaging_db, database, nats_server
):
    nc = await connect(nats_server.url, "test")
    try:
        await publish(nc, [f"event-{i}" for i in range(600)])
        consumer = batched_consumer(nc, database)
        await consumed(consumer, 600)
    finally:
        await nc.close()
    await assert_each_applied_once(messaging_db, 600)
    assert consumer.stats.fallbacks == 0
    assert consumer.stats.applied == 600
    # 600 events in batches of up to 256: a transaction per batch, not per event.
    assert await scalar(messaging_db, WRITING_TRANSACTIONS) == consumer.stats.batches
    assert consumer.stats.batches <= 10
    assert await scalar(messaging_db, "SELECT count(*) FROM inbox") == 600


async def test_copies_inside_a_batch_and_across_batches_are_skipped(
    messaging_db, database, nats_server
):
    nc = await connect(nats_server.url, "test")
    try:
        envelopes = await publish(nc, [f"event-{i}" for i in range(20)])
        await publish_copy(nc, envelopes[3], "copy-in-the-batch")
        await publish_copy(nc, envelopes[3], "another-copy-in-the-batch")
        consumer = batched_consumer(nc, database)
        async with running(consumer):
            await wait_until(lambda: _handled(consumer, 22), what="the first batch")
            assert consumer.stats.duplicates == 2
            # Later, in a batch of their own: copies of events an earlier batch applied.
            await publish_copy(nc, envelopes[3], "copy-in-a-later-batch")
            await publish_copy(nc, envelopes[19], "copy-of-the-last")
            await wait_until(lambda: _handled(consumer, 24), what="the later copies")
    finally:
        await nc.close()
    await assert_each_applied_once(messaging_db, 20)
    assert (consumer.stats.applied, consumer.stats.duplicates) == (20, 4)
    assert consumer.stats.fallbacks == 0


async def test_a_poison_message_in_a_batch_is_dead_lettered_and_the_others_applied_once(
    messaging_db, database, nats_server
):
    calls: list[str] = []

    async def refuse_poison(event, uow) -> None:
        calls.append(event.data["note"])
        if event.data["note"] == "event-10":
            raise ValueError("this payload can never be applied")
        await record_application(event, uow)

    nc = await connect(nats_server.url, "test")
    try:
        await publish(nc, [f"event-{i}" for i in range(50)])
        consumer = batched_consumer(nc, database, handler=refuse_poison,
                                    retry_delay=lambda _n: 0.05)  # fmt: skip
        async with running(consumer):
            await wait_until(lambda: _dead_lettered(consumer), what="dead letter")
    finally:
        await nc.close()
    await assert_each_applied_once(messaging_db, 49)
    assert consumer.stats.fallbacks >= 1, "the batch with the poison was applied one by one"
    assert consumer.stats.applied == 49
    assert calls.count("event-10") >= 5, "the poison message had today's five deliveries"
    conn = await asyncpg.connect(messaging_db)
    try:
        letters = await conn.fetch("SELECT * FROM dead_letters")
    finally:
        await conn.close()
    assert len(letters) == 1
    assert letters[0]["deliveries"] == 5
    assert "can never be applied" in letters[0]["last_error"]
    assert json.loads(letters[0]["payload"])["data"]["note"] == "event-10"


async def test_a_redelivery_after_a_commit_whose_acks_were_lost_applies_nothing_twice(
    messaging_db, database, nats_server, monkeypatch
):
    async def lost(_message: Msg) -> None:
        return None  # the worker died between the commit and the acks

    nc = await connect(nats_server.url, "test")
    try:
        await publish(nc, [f"event-{i}" for i in range(300)])
        monkeypatch.setattr(Msg, "ack", lost)
        crashed = batched_consumer(nc, database, ack_wait=2.0)
        await consumed(crashed, 300)
        assert await scalar(messaging_db, APPLIED) == 300
        monkeypatch.undo()
        # The restarted worker: JetStream redelivers every unacknowledged message.
        restarted = batched_consumer(nc, database, ack_wait=2.0)
        await consumed(restarted, 300)
        info = await nc.jetstream().consumer_info("EVT_REGISTRY", "planning-probes")
    finally:
        await nc.close()
    await assert_each_applied_once(messaging_db, 300)
    assert (restarted.stats.applied, restarted.stats.duplicates) == (0, 300)
    assert restarted.stats.batches >= 1
    assert restarted.stats.fallbacks == 0
    assert info.num_ack_pending == 0
    assert info.num_pending == 0


async def test_a_batch_keeps_the_order_of_the_stream(messaging_db, database, nats_server):
    seen: list[str] = []

    async def in_order(event, uow) -> None:
        seen.append(event.data["note"])
        await record_application(event, uow)

    notes = [f"event-{i}" for i in range(400)]
    nc = await connect(nats_server.url, "test")
    try:
        await publish(nc, notes)
        consumer = batched_consumer(nc, database, handler=in_order)
        await consumed(consumer, 400)
    finally:
        await nc.close()
    assert seen == notes
    assert consumer.stats.batches >= 2, "more than one batch, in order across them too"
    assert consumer.stats.fallbacks == 0


async def test_a_batch_handler_gets_runs_in_the_order_of_the_stream(
    messaging_db, database, nats_server
):
    runs: list[list[str]] = []

    async def a_run(events, uow) -> None:
        runs.append([e.data["note"] for e in events])
        async with uow:
            await uow.session.execute(
                sa.insert(applied_events),
                [{"event_id": str(e.id), "probe_note": e.data["note"]} for e in events],
            )
            await uow.commit()

    notes = [f"event-{i}" for i in range(400)]
    nc = await connect(nats_server.url, "test")
    try:
        await publish(nc, notes)
        consumer = batched_consumer(nc, database, batch_handlers={PROBE: a_run})
        await consumed(consumer, 400)
    finally:
        await nc.close()
    assert [note for run in runs for note in run] == notes
    assert len(runs) == consumer.stats.batches < 400, "a run per batch, not an event per call"
    await assert_each_applied_once(messaging_db, 400)


async def test_a_handler_leaving_without_commit_is_undone_as_one_by_one(
    messaging_db, database, nats_server
):
    """What a handler wrote without committing is rolled back, as its savepoint does one by one:
    in a shared transaction that takes the batch's fallback."""

    async def half_done(event, uow) -> None:
        if event.data["note"] != "event-5":
            await record_application(event, uow)
            return
        async with uow:
            await uow.session.execute(
                sa.insert(applied_events).values(event_id=str(event.id), probe_note="undone")
            )  # and leaves without commit()

    nc = await connect(nats_server.url, "test")
    try:
        await publish(nc, [f"event-{i}" for i in range(10)])
        consumer = batched_consumer(nc, database, handler=half_done)
        await consumed(consumer, 10)
    finally:
        await nc.close()
    assert await scalar(messaging_db, "SELECT count(*) FROM applied_events WHERE probe_note = 'undone'") == 0  # fmt: skip
    assert await scalar(messaging_db, APPLIED) == 9
    assert await scalar(messaging_db, "SELECT count(*) FROM inbox") == 10
    assert consumer.stats.fallbacks >= 1


async def _handled(consumer: EventConsumer, expected: int) -> bool:
    return consumer.stats.applied + consumer.stats.duplicates == expected


async def _dead_lettered(consumer: EventConsumer) -> bool:
    return consumer.stats.dead_lettered == 1 and consumer.stats.applied == 49
