"""Events carry the transaction that wrote them, and a consumer that loaded an export skips the
ones its snapshot covers (ADR 0012). Real PostgreSQL and JetStream."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
import sqlalchemy as sa

from shuangsui.kernel.db import UnitOfWork
from shuangsui.messaging.broker import connect, ensure_stream
from shuangsui.messaging.consumer import EventConsumer, Subscription
from shuangsui.messaging.outbox import COPY_THRESHOLD, outbox_writer
from shuangsui.messaging.relay import OutboxRelay
from shuangsui.messaging.snapshots import SEQ_HEADER, TXID_HEADER, SnapshotPoint
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


async def write_events(database, count: int, prefix: str = "tx") -> int:
    """`count` probes in one unit of work (COPY from COPY_THRESHOLD on); its transaction id."""
    seen: list[int] = []

    async def own_txid(session, _events) -> None:
        seen.append(int(await session.scalar(sa.text("SELECT pg_current_xact_id()::text"))))

    uow = UnitOfWork(database, [own_txid], event_writer=outbox_writer(PROVINCE, "registry"))
    async with uow:
        for n in range(count):
            uow.record(probe(f"{prefix}-{n}"))
        await uow.commit()
    return seen[0]


async def txids_by_note(dsn: str) -> dict[str, str | None]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT envelope->'data'->>'note' AS note, txid::text FROM outbox")
    finally:
        await conn.close()
    return {r["note"]: r["txid"] for r in rows}


async def test_both_outbox_paths_record_the_writing_transaction(messaging_db, database):
    few = await write_events(database, 3, "few")  # one INSERT
    many = await write_events(database, COPY_THRESHOLD, "many")  # binary COPY naming columns
    await fill_outbox(messaging_db, 2, note_prefix="filled")  # the test helper's own COPY
    txids = await txids_by_note(messaging_db)
    assert len(txids) == 3 + COPY_THRESHOLD + 2
    assert {txids[f"few-{n}"] for n in range(3)} == {str(few)}
    assert {txids[f"many-{n}"] for n in range(COPY_THRESHOLD)} == {str(many)}
    assert all(txids[f"filled-{n}"] is not None for n in range(2))


async def test_covers_agrees_with_postgresql(messaging_db):
    """A snapshot taken while one transaction is open and after another committed: for every
    transaction id around it, `covers` answers as `pg_visible_in_snapshot`."""
    open_one, committed, reader = [await asyncpg.connect(messaging_db) for _ in range(3)]
    try:
        running = open_one.transaction()
        await running.start()
        in_progress = int(await open_one.fetchval("SELECT pg_current_xact_id()::text"))
        done = int(await committed.fetchval("SELECT pg_current_xact_id()::text"))  # autocommit
        snapshot, taken_at = await reader.fetchrow("SELECT pg_current_snapshot()::text, now()")
        point = SnapshotPoint.parse(snapshot, taken_at)
        assert not point.covers(in_progress)
        assert point.covers(done)
        for txid in range(max(point.xmin - 3, 1), point.xmax + 3):
            visible = await reader.fetchval(
                "SELECT pg_visible_in_snapshot($1::text::xid8, $2::text::pg_snapshot)",
                str(txid),
                snapshot,
            )
            assert point.covers(txid) is visible, txid
        await running.rollback()
    finally:
        for conn in (open_one, committed, reader):
            await conn.close()


async def test_the_relay_publishes_each_events_transaction_and_outbox_position(
    messaging_db, database, nats_server
):
    txid = await write_events(database, 2)
    nc = await connect(nats_server.url, "test")
    pool = await asyncpg.create_pool(messaging_db)
    try:
        js = nc.jetstream()
        await ensure_stream(js, PROVINCE, "registry")
        await OutboxRelay(messaging_db, nc).publish_available(pool)
        sub = await js.pull_subscribe(f"evt.{PROVINCE}.registry.>", durable="headers-test")
        messages = await sub.fetch(2, timeout=5)
    finally:
        await pool.close()
        await nc.close()
    seqs = await scalar(messaging_db, "SELECT max(seq) FROM outbox")
    assert [m.headers[TXID_HEADER] for m in messages] == [str(txid)] * 2
    assert [int(m.headers[SEQ_HEADER]) for m in messages] == [seqs - 1, seqs]


async def test_a_consumer_skips_the_events_a_snapshot_covers_and_applies_the_others(
    messaging_db, database, nats_server
):
    before = await write_events(database, 5, "before")
    reader = await asyncpg.connect(messaging_db)
    try:
        snapshot, taken_at = await reader.fetchrow("SELECT pg_current_snapshot()::text, now()")
    finally:
        await reader.close()
    point = SnapshotPoint.parse(snapshot, taken_at, ("registry.probe.",))
    after = await write_events(database, 3, "after")
    assert point.covers(before)
    assert not point.covers(after)

    nc = await connect(nats_server.url, "test")
    stop = asyncio.Event()
    subscription = Subscription("planning", "probes", "registry", {PROBE: record_application})
    consumer = EventConsumer(
        subscription, nc, database, PROVINCE, unit_of_work_factory(database),
        start_at=point.replay_from(), skip=point.skips,
    )  # fmt: skip
    try:
        await ensure_stream(nc.jetstream(), PROVINCE, "registry")
        relay = asyncio.create_task(OutboxRelay(messaging_db, nc).run(stop))
        running = asyncio.create_task(consumer.run(stop))
        await wait_until(lambda: _inbox_holds(messaging_db, 8), timeout=30, what="every event seen")
    finally:
        stop.set()
        await asyncio.gather(relay, running, return_exceptions=True)
        await nc.close()
    assert await scalar(messaging_db, "SELECT count(*) FROM applied_events") == 3
    applied = await scalar(
        messaging_db, "SELECT count(*) FROM applied_events WHERE probe_note LIKE 'after-%'"
    )
    assert applied == 3, "exactly the events written after the snapshot"
    assert (consumer.stats.applied, consumer.stats.covered) == (3, 5)


async def test_a_consumer_created_with_a_start_time_reads_from_there(
    messaging_db, database, nats_server
):
    nc = await connect(nats_server.url, "test")
    stop = asyncio.Event()
    try:
        js = nc.jetstream()
        await ensure_stream(js, PROVINCE, "registry")
        pool = await asyncpg.create_pool(messaging_db)
        await fill_outbox(messaging_db, 4, note_prefix="old")
        await OutboxRelay(messaging_db, nc).publish_available(pool)
        await asyncio.sleep(0.05)
        start = datetime.now(UTC)
        await asyncio.sleep(0.05)
        await fill_outbox(messaging_db, 2, note_prefix="new")
        await OutboxRelay(messaging_db, nc).publish_available(pool)
        await pool.close()
        subscription = Subscription(
            "planning", "from-time", "registry", {PROBE: record_application}
        )
        consumer = EventConsumer(
            subscription, nc, database, PROVINCE, unit_of_work_factory(database), start_at=start
        )
        running = asyncio.create_task(consumer.run(stop))
        await wait_until(lambda: _applied(messaging_db, 2), timeout=30, what="the new events")
        await asyncio.sleep(0.5)  # an old event delivered late would show now
    finally:
        stop.set()
        await asyncio.gather(running, return_exceptions=True)
        await nc.close()
    notes = await scalar(
        messaging_db, "SELECT count(*) FROM applied_events WHERE probe_note LIKE 'new-%'"
    )
    assert (notes, await scalar(messaging_db, "SELECT count(*) FROM applied_events")) == (2, 2)


async def _inbox_holds(dsn: str, count: int) -> bool:
    return await scalar(dsn, "SELECT count(*) FROM inbox") >= count


async def _applied(dsn: str, count: int) -> bool:
    return await scalar(dsn, "SELECT count(*) FROM applied_events") >= count
