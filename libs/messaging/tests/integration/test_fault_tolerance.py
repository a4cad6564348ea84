"""The event path survives crashes: relay killed, broker restarted, poison messages, two relays.

Real PostgreSQL and a real NATS JetStream server; nothing is mocked.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys

import asyncpg
import pytest

from shuangsui.messaging.broker import connect, ensure_stream
from shuangsui.messaging.consumer import EventConsumer, Subscription
from shuangsui.messaging.relay import OutboxRelay
from shuangsui.messaging.testing import (
    PROVINCE,
    fill_outbox,
    probe,
    record_application,
    scalar,
    unit_of_work_factory,
    wait_until,
)

PROBE = "registry.probe.sent.v1"
UNPUBLISHED = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
PUBLISHED = "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL"
APPLIED = "SELECT count(*) FROM applied_events"
APPLIED_TWICE = "SELECT count(*) FROM (SELECT event_id FROM applied_events GROUP BY event_id HAVING count(*) > 1) d"


def probe_consumer(nc, database, handler=record_application, **options) -> EventConsumer:
    subscription = Subscription("planning", "probes", "registry", {PROBE: handler})
    return EventConsumer(
        subscription, nc, database, PROVINCE, unit_of_work_factory(database), **options
    )


def relay_process(dsn: str, nats_url: str, batch_size: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "NATS_URL": nats_url,
        "PROVINCE": "33",
        "SERVICE_NAME": "registry",
        "AUTH_ISSUER": "unused-by-the-relay",
        "RELAY_BATCH_SIZE": str(batch_size),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "shuangsui.messaging.relay_main"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def assert_each_applied_once(dsn: str, expected: int) -> None:
    assert await scalar(dsn, APPLIED_TWICE) == 0, "some event was applied more than once"
    assert await scalar(dsn, "SELECT count(DISTINCT event_id) FROM applied_events") == expected


@pytest.mark.slow
async def test_relay_killed_mid_publish_then_restarted_delivers_every_event_once(
    messaging_db, database, nats_server
):
    total = 5000
    await fill_outbox(messaging_db, total)
    relay = relay_process(messaging_db, nats_server.url, batch_size=50)
    watcher = await asyncpg.connect(messaging_db)
    try:
        while await watcher.fetchval(PUBLISHED) == 0:
            await asyncio.sleep(0.005)
        relay.send_signal(signal.SIGKILL)
        relay.wait()
        published_when_killed = await watcher.fetchval(PUBLISHED)
    finally:
        await watcher.close()
    assert 0 < published_when_killed < total, "the relay must die in the middle of the outbox"

    restarted = relay_process(messaging_db, nats_server.url, batch_size=500)
    nc = await connect(nats_server.url, "test-consumer")
    consumer = probe_consumer(nc, database)
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    try:
        await wait_until(lambda: _equals(messaging_db, APPLIED, total), what="all events applied")
        await wait_until(lambda: _equals(messaging_db, UNPUBLISHED, 0), what="outbox drained")
    finally:
        stop.set()
        await running
        restarted.terminate()
        restarted.wait()
        await nc.close()
    await assert_each_applied_once(messaging_db, total)


@pytest.mark.slow
async def test_broker_restart_mid_stream_consumers_and_relay_resume_on_their_own(
    messaging_db, database, nats_server
):
    producer_nc = await connect(nats_server.url, "test-relay")
    consumer_nc = await connect(nats_server.url, "test-consumer")
    await ensure_stream(producer_nc.jetstream(), PROVINCE, "registry")
    relay = OutboxRelay(messaging_db, producer_nc, batch_size=100, idle_poll=0.1)
    consumer = probe_consumer(consumer_nc, database, stall_after=2.0)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(relay.run(stop)), asyncio.create_task(consumer.run(stop))]
    try:
        await fill_outbox(messaging_db, 1000, "before")
        await wait_until(lambda: _at_least(messaging_db, APPLIED, 200), what="first events applied")
        nats_server.stop()
        await fill_outbox(messaging_db, 1000, "during")
        await asyncio.sleep(1.0)
        nats_server.start()
        await fill_outbox(messaging_db, 500, "after")
        await wait_until(lambda: _equals(messaging_db, APPLIED, 2500), what="every event applied")
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await producer_nc.close()
        await consumer_nc.close()
    await assert_each_applied_once(messaging_db, 2500)


async def test_poison_message_goes_to_dead_letters_while_the_rest_keep_flowing(
    messaging_db, database, nats_server
):
    async def refuse_poison(event, uow) -> None:
        if event.data["note"] == "event-10":
            raise ValueError("this payload can never be applied")
        await record_application(event, uow)

    nc = await connect(nats_server.url, "test")
    await ensure_stream(nc.jetstream(), PROVINCE, "registry")
    relay = OutboxRelay(messaging_db, nc, idle_poll=0.1)
    consumer = probe_consumer(nc, database, handler=refuse_poison, retry_delay=lambda _n: 0.05)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(relay.run(stop)), asyncio.create_task(consumer.run(stop))]
    try:
        await fill_outbox(messaging_db, 50)
        await wait_until(lambda: _equals(messaging_db, APPLIED, 49), what="healthy events applied")
        await wait_until(
            lambda: _equals(messaging_db, "SELECT count(*) FROM dead_letters", 1),
            what="dead letter",
        )
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await nc.close()
    conn = await asyncpg.connect(messaging_db)
    try:
        letter = await conn.fetchrow("SELECT * FROM dead_letters")
    finally:
        await conn.close()
    assert letter["consumer"] == "planning-probes"
    assert letter["deliveries"] == 5
    assert "can never be applied" in letter["last_error"]
    assert json.loads(letter["payload"])["data"]["note"] == "event-10"
    assert consumer.stats.dead_lettered == 1


async def test_two_relays_at_once_publish_nothing_twice(messaging_db, nats_server):
    total = 5000
    await fill_outbox(messaging_db, total)
    first_nc = await connect(nats_server.url, "relay-1")
    second_nc = await connect(nats_server.url, "relay-2")
    await ensure_stream(first_nc.jetstream(), PROVINCE, "registry")
    relays = [
        OutboxRelay(messaging_db, first_nc, batch_size=100, idle_poll=0.05),
        OutboxRelay(messaging_db, second_nc, batch_size=100, idle_poll=0.05),
    ]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(r.run(stop)) for r in relays]
    try:
        await wait_until(lambda: _equals(messaging_db, UNPUBLISHED, 0), what="outbox drained")
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    stream = await first_nc.jetstream().stream_info("EVT_REGISTRY")
    await first_nc.close()
    await second_nc.close()
    assert sum(r.stats.published for r in relays) == total
    assert sum(r.stats.duplicates for r in relays) == 0
    assert stream.state.messages == total


async def test_a_redelivered_event_is_applied_once(messaging_db, database, nats_server):
    nc = await connect(nats_server.url, "test")
    js = nc.jetstream()
    await ensure_stream(js, PROVINCE, "registry")
    envelope = probe("twice").envelope(PROVINCE, "registry", None)
    body = envelope.model_dump_json().encode()
    # Two copies under different message ids: JetStream's own dedup cannot catch this one.
    await js.publish(envelope.nats_subject, body, headers={"Nats-Msg-Id": "copy-1"})
    await js.publish(envelope.nats_subject, body, headers={"Nats-Msg-Id": "copy-2"})
    consumer = probe_consumer(nc, database)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await wait_until(lambda: _handled(consumer, 2), what="both copies handled")
    finally:
        stop.set()
        await task
        await nc.close()
    await assert_each_applied_once(messaging_db, 1)
    assert consumer.stats.duplicates == 1


async def test_watchdog_recreates_a_consumer_deleted_on_the_broker(
    messaging_db, database, nats_server
):
    nc = await connect(nats_server.url, "test")
    js = nc.jetstream()
    await ensure_stream(js, PROVINCE, "registry")
    consumer = probe_consumer(nc, database, stall_after=1.0)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    relay = OutboxRelay(messaging_db, nc, idle_poll=0.1)
    relay_task = asyncio.create_task(relay.run(stop))
    try:
        await wait_until(lambda: _consumer_exists(js), what="consumer created")
        await js.delete_consumer("EVT_REGISTRY", "planning-probes")
        await wait_until(lambda: _resubscribed(consumer), what="consumer re-created")
        await fill_outbox(messaging_db, 20)
        await wait_until(
            lambda: _equals(messaging_db, APPLIED, 20), what="events after re-creation"
        )
    finally:
        stop.set()
        await asyncio.gather(task, relay_task)
        await nc.close()


async def _equals(dsn: str, query: str, expected: int) -> bool:
    return await scalar(dsn, query) == expected


async def _at_least(dsn: str, query: str, expected: int) -> bool:
    return await scalar(dsn, query) >= expected


async def _handled(consumer: EventConsumer, expected: int) -> bool:
    return consumer.stats.applied + consumer.stats.duplicates == expected


async def _resubscribed(consumer: EventConsumer) -> bool:
    return consumer.stats.resubscribed > 0


async def _consumer_exists(js) -> bool:
    try:
        await js.consumer_info("EVT_REGISTRY", "planning-probes")
    except Exception:
        return False
    return True
