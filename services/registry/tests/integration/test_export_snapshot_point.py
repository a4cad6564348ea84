"""The export's snapshot point, end to end: a read model loaded from an export and continued
with the event stream ends with exactly the registry's state, each change applied once — with
writes committing before, during and after the export, one of them out of outbox order.
And an export its client abandons or stops reading releases its transaction at once.

A registry of its own: its own database (a directory of 40,000 subjects with long addresses
makes the export, ~120 MB, much larger than what the sockets buffer, so it is still being read
while the writes commit), its own NATS
server, a real uvicorn process and the relay; the consumer is the library's EventConsumer.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from shuangsui.contracts.events.registry_subjects import SubjectUpserted
from shuangsui.devstack.nats import NatsServer
from shuangsui.devstack.ports import free_port
from shuangsui.kernel.auth import Principal
from shuangsui.kernel.db import Database, UnitOfWork
from shuangsui.kernel.migrations import upgrade
from shuangsui.kernel.scope import RegionScope
from shuangsui.messaging.broker import connect, ensure_stream
from shuangsui.messaging.consumer import EventConsumer, Subscription
from shuangsui.messaging.envelope import Envelope
from shuangsui.messaging.outbox import outbox_writer
from shuangsui.messaging.relay import OutboxRelay
from shuangsui.messaging.snapshots import SnapshotPoint
from shuangsui.messaging.tables import metadata as messaging_metadata
from shuangsui.messaging.testing import asyncpg_url, wait_until
from shuangsui.registry.adapters.exports import export_transaction
from shuangsui.registry.adapters.subjects import SubjectFilters
from shuangsui.registry.domain.subjects import PushMode
from shuangsui.registry.service import exports as exports_service
from shuangsui.registry.service.exports import (
    Export,
    ExportGate,
    ExportLimits,
    ExportRequest,
)
from shuangsui.registry.service.push import rows_of
from shuangsui.registry.service.subjects import push_subjects

EXPORT = "/api/v1/registry/subjects:export"
FILLER = 40_000
IDLE_SECONDS = 2  # the registry process's EXPORT_IDLE_SECONDS
PUSHER = Principal(
    sub="zj-aic", roles=frozenset({"integrator"}), region_code="330000",
    scopes=frozenset({"registry:subjects:push"}),
)  # fmt: skip

# The read model of a consumer (sampling's, say): one row per subject, and every application of
# a change, from the export or from an event, with no unique key so a double would show.
read_model = sa.MetaData()
held = sa.Table(
    "held_subjects",
    read_model,
    sa.Column("uscc", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
)
applications = sa.Table(
    "applications",
    read_model,
    sa.Column("uscc", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("via", sa.Text, nullable=False),
)


async def apply_subjects(session: AsyncSession, payloads: list[dict[str, Any]], via: str) -> None:
    """The one piece of code that applies a subject, whether from an export line or an event."""
    rows = [{"uscc": p["uscc"], "version": p["version"], "name": p["name"]} for p in payloads]
    await session.execute(sa.insert(applications), [{**r, "via": via} for r in rows])
    upsert = sa.dialects.postgresql.insert(held)
    await session.execute(
        upsert.on_conflict_do_update(
            index_elements=["uscc"],
            set_={"version": upsert.excluded.version, "name": upsert.excluded.name},
            where=held.c.version < upsert.excluded.version,
        ),
        rows,
    )


@dataclass(frozen=True)
class Registry:
    dsn: str
    nats_url: str
    url: str


async def create_database(stack, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(stack.postgres.dsn())
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    return str(stack.postgres.dsn(database=name))


async def drop_database(stack, dsn: str) -> None:
    admin = await asyncpg.connect(stack.postgres.dsn())
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {dsn.rsplit('/', 1)[1]} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def nats_server(tmp_path_factory) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path_factory.mktemp("nats"), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def registry(stack, nats_server) -> AsyncIterator[Registry]:
    dsn = await create_database(stack, "exp")
    await asyncio.to_thread(upgrade, "shuangsui.registry", dsn)
    conn = await asyncpg.connect(dsn)
    try:  # a directory of filler subjects, loaded around the API: they have no events
        await conn.execute(
            """
            INSERT INTO subjects (uscc, subject_id, name, subject_type, status, region_code,
              licences, online_shops, extra, source, source_updated_at, content_hash, version,
              updated_at, tags, item_keys, classification, registered_address)
            SELECT '9133010' || lpad(g::text, 11, '0'), gen_random_uuid(), '填充企业' || g,
              'enterprise', 'active', '330106', '[]', '[]', '{}', 'filler', now(), md5(g::text),
              1, now(), '{}', '{}', 0, repeat('温州市鹿城区', 200)
            FROM generate_series(1, $1) g
            """,
            FILLER,
        )
    finally:
        await conn.close()
    port = free_port()
    env = {
        **os.environ, **stack.service_env("registry"), "DATABASE_URL": dsn,
        "NATS_URL": nats_server.url, "EXPORT_IDLE_SECONDS": str(IDLE_SECONDS),
        "LOG_LEVEL": "WARNING",
    }  # fmt: skip
    argv = [
        sys.executable, "-m", "uvicorn", "--factory", "shuangsui.registry.main:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(argv, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_up(url)
        yield Registry(dsn, nats_server.url, url)
    finally:
        process.terminate()
        process.wait()
        await drop_database(stack, dsn)


async def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{url}/readyz", timeout=2)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("the registry did not start")


@pytest.fixture
def admin(mint_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(roles=['provincial_admin'], region='330000')}"}


@pytest.fixture
async def registry_database(registry) -> AsyncIterator[Database]:
    database = Database(asyncpg_url(registry.dsn))
    yield database
    await database.stop()


@pytest.fixture
async def read_model_db(stack) -> AsyncIterator[str]:
    dsn = await create_database(stack, "rm")
    engine = create_async_engine(asyncpg_url(dsn))
    async with engine.begin() as conn:
        await conn.run_sync(messaging_metadata.create_all)
        await conn.run_sync(read_model.create_all)
    await engine.dispose()
    yield dsn
    await drop_database(stack, dsn)


@pytest.fixture
def subject(uscc) -> Any:
    """`subject(number, version)`: the row a registration system pushes for that version."""

    def row(number: int, version: int) -> dict[str, Any]:
        return {
            "uscc": uscc(number), "name": f"快照测试{number}号 第{version}版",
            "subject_type": "enterprise", "status": "active", "region_code": "330106",
            "source": "zj-aic", "source_updated_at": f"2025-03-0{version}T08:00:00+08:00",
        }  # fmt: skip

    return row


class Writer:
    """Pushes through the registry's own use case, each push one transaction."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.database, event_writer=outbox_writer("p33", "registry"))

    async def push(self, *rows: dict[str, Any], uow: UnitOfWork | None = None) -> None:
        lines = iter(enumerate(rows, start=1))
        report = await push_subjects(uow or self.uow(), rows_of(lines), PushMode.atomic, PUSHER)
        assert report.applied, report


async def export_sessions(dsn: str) -> list[asyncpg.Record]:
    """Sessions of this database in an export's transaction, holding its snapshot."""
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(
            "SELECT pid, state FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_xmin IS NOT NULL AND state <> 'idle' AND query LIKE $1",
            f"%{SubjectUpserted.event_type}%",
        )
    finally:
        await conn.close()


async def test_a_read_model_loaded_from_an_export_continues_with_no_gap_and_no_double(
    registry, registry_database, read_model_db, admin, subject, uscc
):
    writer = Writer(registry_database)
    numbers = list(range(8_600_001, 8_600_007))
    # Before the export: five subjects, the first changed once more.
    await writer.push(*(subject(n, 1) for n in numbers[:5]))
    await writer.push(subject(numbers[0], 2))

    nc = await connect(registry.nats_url, "export-test")
    await ensure_stream(nc.jetstream(), "p33", "registry")
    stop = asyncio.Event()
    relay = asyncio.create_task(OutboxRelay(registry.dsn, nc, batch_size=100).run(stop))
    release_a_on_failure: list[asyncio.Event] = []
    try:
        # A writes its outbox row first and commits last: B, after it in the outbox, commits
        # before the export's snapshot, A after it.
        a_written, a_may_commit = asyncio.Event(), asyncio.Event()

        a_position: list[tuple[int, int]] = []

        async def hold(session: AsyncSession, _events: list[Any]) -> None:
            mine = "SELECT seq, txid::text FROM outbox WHERE txid = pg_current_xact_id()"
            seq, txid = (await session.execute(sa.text(mine))).one()
            a_position.append((seq, int(txid)))
            a_written.set()
            await a_may_commit.wait()

        a = writer.uow()
        a.add_commit_hook(hold)
        a_push = asyncio.create_task(writer.push(subject(numbers[1], 2), uow=a))
        release_a_on_failure.append(a_may_commit)
        await asyncio.wait_for(a_written.wait(), 30)
        await writer.push(subject(numbers[2], 2))
        [(seq_a, txid_a)] = a_position
        seq_b = await _outbox_seq(registry.dsn, uscc(numbers[2]), version=2)
        assert seq_a < seq_b, "A's row comes first in the outbox"

        async with (
            httpx.AsyncClient(base_url=registry.url, timeout=60) as client,
            client.stream("GET", EXPORT, headers=admin) as answer,
        ):
            assert answer.status_code == 200
            lines = answer.aiter_lines()
            header = json.loads(await anext(lines))
            point = SnapshotPoint.from_header(header)
            assert header["last_outbox_seq"] == seq_b, "B is the newest event the export holds"
            assert not point.covers(txid_a), "yet A, before B in the outbox, is not in it"
            # During the export, which is still being read: A commits, then C.
            assert await export_sessions(registry.dsn), "the export's transaction is open"
            a_may_commit.set()
            await a_push
            await writer.push(subject(numbers[3], 2), subject(numbers[5], 1))
            assert await export_sessions(registry.dsn), "the writes committed while it ran"
            exported = [json.loads(line) async for line in lines]
        assert exported[-1]["complete"] is True
        # After the export: D.
        await writer.push(subject(numbers[0], 3), subject(numbers[5], 2))

        # The consumer's side: load the export, then consume from the snapshot point.
        rm_database = Database(asyncpg_url(read_model_db))
        try:
            async with rm_database.sessions() as session, session.begin():
                subjects = [x["data"] for x in exported if x["type"] == SubjectUpserted.event_type]
                for start in range(0, len(subjects), 5_000):
                    await apply_subjects(session, subjects[start : start + 5_000], "export")
            consumer = await _consume(nc, rm_database, point, stop)
            await wait_until(
                lambda: _all_seen(registry.dsn, read_model_db), timeout=60, what="every event"
            )
        finally:
            stop.set()
            await consumer
            await rm_database.stop()
    finally:
        for event in release_a_on_failure:
            event.set()
        stop.set()
        await relay
        await nc.close()

    registry_state = await _rows(registry.dsn, "SELECT uscc, version, name FROM subjects")
    assert await _rows(read_model_db, "SELECT uscc, version, name FROM held_subjects") == (
        registry_state
    ), "the read model ends with exactly the registry's state"
    assert len(registry_state) == FILLER + len(numbers)
    applied = await _rows(read_model_db, "SELECT uscc, version, via FROM applications")
    versions: dict[str, list[int]] = {}
    for code, version, _via in sorted(applied):
        versions.setdefault(code, []).append(version)
    exported_version = {x["data"]["uscc"]: x["data"]["version"] for x in exported[1:-1]}
    for code, version, _name in registry_state:
        start = exported_version.get(code, 1)
        assert versions[code] == list(range(start, version + 1)), (
            f"{code}: each change once, from the export's version on"
        )
    by_event = {(u, v) for u, v, via in applied if via == "event"}
    assert by_event == {
        (uscc(numbers[1]), 2),  # A: not covered although before B in the outbox
        (uscc(numbers[3]), 2),  # C
        (uscc(numbers[5]), 1),
        (uscc(numbers[0]), 3),  # D
        (uscc(numbers[5]), 2),
    }


async def _outbox_seq(dsn: str, uscc: str, version: int) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(
            await conn.fetchval(
                "SELECT seq FROM outbox WHERE envelope->'data'->>'uscc' = $1 "
                "AND (envelope->'data'->>'version')::int = $2",
                uscc,
                version,
            )
        )
    finally:
        await conn.close()


async def _consume(nc, database: Database, point: SnapshotPoint, stop: asyncio.Event):
    async def on_upserted(event: Envelope, uow: UnitOfWork) -> None:
        async with uow:
            await apply_subjects(uow.session, [event.data], "event")
            await uow.commit()

    subscription = Subscription(
        "readmodel", "subjects", "registry", {SubjectUpserted.event_type: on_upserted}
    )
    consumer = EventConsumer(
        subscription, nc, database, "p33", lambda: UnitOfWork(database),
        start_at=point.replay_from(), skip=point.skips,
    )  # fmt: skip
    return asyncio.create_task(consumer.run(stop))


async def _all_seen(registry_dsn: str, read_model_dsn: str) -> bool:
    """Every event the registry wrote is in the consumer's inbox (applied or skipped)."""
    written = await _rows(registry_dsn, "SELECT id::text FROM outbox")
    seen = await _rows(read_model_dsn, "SELECT event_id::text FROM inbox")
    return {r[0] for r in written} == {r[0] for r in seen}


async def _rows(dsn: str, query: str) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(dsn)
    try:
        return sorted(tuple(r) for r in await conn.fetch(query))
    finally:
        await conn.close()


# ---- a client that goes away, or stops reading -------------------------------------------------


async def test_an_export_closed_mid_way_leaves_no_transaction_behind(registry, admin):
    async with (
        httpx.AsyncClient(base_url=registry.url, timeout=60) as client,
        client.stream("GET", EXPORT, headers=admin) as answer,
    ):
        assert answer.status_code == 200
        chunks = answer.aiter_bytes()  # held: a dropped iterator would close the response
        received = 0
        while received < 1_000_000:
            received += len(await anext(chunks))
        assert await export_sessions(registry.dsn), "the export is under way"
    # Leaving the block closed the connection with most of the export unread.
    await wait_until(
        lambda: _none_left(registry.dsn), timeout=5, what="the export's snapshot released"
    )


async def test_a_client_that_stops_reading_loses_its_export_and_its_snapshot(registry, admin):
    async with (
        httpx.AsyncClient(base_url=registry.url, timeout=60) as client,
        client.stream("GET", EXPORT, headers=admin) as answer,
    ):
        lines = answer.aiter_lines()
        assert json.loads(await anext(lines))["type"] == "header"
        assert await export_sessions(registry.dsn), "the export is under way"
        # Reading nothing for longer than EXPORT_IDLE_SECONDS, the connection still open.
        await wait_until(
            lambda: _none_left(registry.dsn), timeout=IDLE_SECONDS + 5,
            what="the idle export's snapshot released",
        )  # fmt: skip
        with pytest.raises(httpx.RemoteProtocolError):
            async for _ in lines:
                pass  # what was already sent, then the export breaks off: no trailer


async def _none_left(dsn: str) -> bool:
    return not await export_sessions(dsn)


# ---- several readers, one snapshot -------------------------------------------------------------

ADMIN = Principal(sub="zj-admin", roles=frozenset({"provincial_admin"}), region_code="330000")
RANGE_PAGES = 64  # the filler's long addresses compress: ~1,500 pages, some twenty ranges


@pytest.fixture
def small_ranges(monkeypatch) -> pytest.MonkeyPatch:
    monkeypatch.setattr(exports_service, "RANGE_PAGES", RANGE_PAGES)
    return monkeypatch


def export_of(parallelism: int) -> Export:
    """The province's whole directory, read by `parallelism` connections (in process)."""
    limits = ExportLimits(idle_seconds=60, max_seconds=600, concurrency=1, parallelism=parallelism)
    return Export(ExportRequest(ADMIN, RegionScope("33"), SubjectFilters()), limits)


async def read_all(database: Database, parallelism: int) -> list[bytes]:
    running = export_of(parallelism)
    await running.open(database, ExportGate(1))
    return [chunk async for chunk in running.stream()]


async def _scalar(dsn: str, query: str) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(query)
    finally:
        await conn.close()


async def test_readers_in_parallel_send_exactly_what_one_reader_sends(
    registry, registry_database, small_ranges
):
    pages = await _scalar(
        registry.dsn, "SELECT pg_relation_size('subjects') / current_setting('block_size')::int"
    )
    assert pages > 4 * RANGE_PAGES, "the directory spans several ranges"
    alone = await read_all(registry_database, parallelism=1)
    together = await read_all(registry_database, parallelism=3)

    # The headers differ by when each export was taken; every other byte is the same.
    assert b"".join(together[1:]) == b"".join(alone[1:])
    lines = b"".join(alone[1:]).split(b"\n")
    assert json.loads(lines[-2]) == {
        "type": "trailer", "subjects": await _scalar(registry.dsn, "SELECT count(*) FROM subjects"),
        "inspectors": None, "complete": True,
    }  # fmt: skip
    # Streamed: many chunks as COPY delivers them, none holding more than a sliver of it.
    assert len(together) > 20
    assert max(len(chunk) for chunk in together) < len(b"".join(together)) / 20


async def test_every_reader_reads_the_first_readers_snapshot(
    registry, registry_database, small_ranges
):
    """A helper's transaction begins after a change commits; it still reads the snapshot the
    export was taken in, so the change is not in it, in any range."""
    started = export_transaction
    may_begin = asyncio.Event()

    @asynccontextmanager
    async def helpers_held_back(database, idle, most, snapshot=None):
        if snapshot is not None:
            await may_begin.wait()
        async with started(database, idle, most, snapshot) as reader:
            yield reader

    small_ranges.setattr(exports_service, "export_transaction", helpers_held_back)
    conn = await asyncpg.connect(registry.dsn)
    changed: list[asyncpg.Record] = []
    try:
        count = await conn.fetchval("SELECT count(*) FROM subjects")
        # A subject from each range but the first, which the first reader reads before any
        # other: the helpers take the next ranges.
        changed = await conn.fetch(
            "SELECT DISTINCT ON ((ctid::text::point)[0]::int / $1) uscc, name, version "
            "FROM subjects WHERE (ctid::text::point)[0] >= $1 "
            "ORDER BY (ctid::text::point)[0]::int / $1, ctid",
            RANGE_PAGES,
        )
        assert len(changed) > 2
        running = export_of(parallelism=3)
        await running.open(registry_database, ExportGate(1))
        stream = running.stream()
        header = json.loads(await anext(stream))
        new_uscc = "91330106NEWROW0001"
        async with conn.transaction():
            await conn.execute(
                "UPDATE subjects SET name = name || '（改）', version = version + 1 "
                "WHERE uscc = ANY($1)",
                [r["uscc"] for r in changed],
            )
            await conn.execute(
                "INSERT INTO subjects SELECT $1, gen_random_uuid(), name, subject_type, status,"
                " region_code, registered_address, business_address, legal_representative,"
                " industry_code, business_scope, licences, online_shops, registered_capital_wan,"
                " employee_band, unit_code, registered_on, registration_no, extra, source,"
                " source_updated_at, content_hash, version, updated_at, tags, item_keys,"
                " classification FROM subjects WHERE uscc = $2",
                new_uscc,
                changed[0]["uscc"],
            )
        may_begin.set()
        body = b"".join([chunk async for chunk in stream]).split(b"\n")
        held = {x["data"]["uscc"]: x["data"] for x in map(json.loads, body[:-2])}
        assert {u: (held[u]["name"], held[u]["version"]) for u in (r["uscc"] for r in changed)} == {
            r["uscc"]: (r["name"], r["version"]) for r in changed
        }, "every reader sees the subjects as they were"
        assert new_uscc not in held
        assert json.loads(body[-2])["subjects"] == len(held) == count
        assert header["type"] == "header"
    finally:
        may_begin.set()
        await conn.execute("DELETE FROM subjects WHERE uscc = '91330106NEWROW0001'")
        await conn.executemany(  # as they were, for whatever runs after
            "UPDATE subjects SET name = $2, version = $3 WHERE uscc = $1",
            [tuple(r) for r in changed],
        )
        await conn.close()
