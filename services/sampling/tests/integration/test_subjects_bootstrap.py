"""A fresh sampling database loads the subjects from the registry's export, then follows the
registry's events from the export's snapshot point: events whose change the export holds are
skipped, every other one is applied once — with writes committing before the export, while it
is read (one of them opened before its snapshot and committed after), and after it.

The real registry, served on the port sampling calls, with its real relay publishing to a NATS
server of the test's own; sampling's worker builds its consumer the way it runs in production.
"""

import asyncio
import json
import os
import sys
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from shuangsui.kernel.auth import Principal
from shuangsui.kernel.db import Database, UnitOfWork
from shuangsui.messaging.broker import connect, ensure_stream
from shuangsui.messaging.consumer import Subscription
from shuangsui.messaging.outbox import outbox_writer
from shuangsui.messaging.relay import OutboxRelay
from shuangsui.messaging.testing import asyncpg_url, wait_until
from shuangsui.registry.domain.subjects import PushMode
from shuangsui.registry.service.push import rows_of
from shuangsui.registry.service.subjects import push_subjects
from shuangsui.sampling import worker
from shuangsui.sampling.service import subjects
from shuangsui.sampling.worker import consumption_of

BASE = "/api/v1/registry"
NDJSON = {"content-type": "application/x-ndjson"}
CONSUMER = "sampling-subjects"
TYPES = ("registry.subject.upserted.v1", "registry.subject.risk_class_changed.v2")
PUSHER = Principal(
    sub="zj-aic", roles=frozenset({"integrator"}), region_code="330000",
    scopes=frozenset({"registry:subjects:push"}),
)  # fmt: skip


def ndjson(*rows: dict[str, Any]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


@pytest.fixture
def pusher(bearer):
    return bearer(
        "integrator", sub="zj-aic",
        scopes=["registry:subjects:push", "registry:risk-classes:push"],
    )  # fmt: skip


@pytest.fixture
def subject(uscc):
    def row(number: int, version: int, **fields: Any) -> dict[str, Any]:
        return {
            "uscc": uscc(number), "name": f"导出测试{number}号 第{version}版",
            "subject_type": "enterprise", "status": "active", "region_code": "330106",
            "unit_code": "330106-XH01", "industry_code": "H6210",
            "source": "zj-aic", "source_updated_at": f"2025-03-{version:02d}T08:00:00+08:00",
            **fields,
        }  # fmt: skip

    return row


class Registry:
    """Pushes to the registry: through its API, or through its use case with a transaction the
    test holds open before it commits."""

    def __init__(self, client, pusher, database: Database, dsn: str) -> None:
        self.client, self.pusher, self.database, self.dsn = client, pusher, database, dsn

    async def push(self, *rows: dict[str, Any]) -> None:
        answer = await self.client.post(
            f"{BASE}/subjects:bulk", content=ndjson(*rows), headers={**self.pusher, **NDJSON}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["rejected"] == 0, answer.text

    async def classify(self, *classes: dict[str, Any]) -> None:
        answer = await self.client.post(
            f"{BASE}/risk-classes:bulk", content=ndjson(*classes), headers={**self.pusher, **NDJSON}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["rejected"] == 0, answer.text

    def held_open(self, *rows: dict[str, Any]) -> tuple[asyncio.Task, asyncio.Event, asyncio.Event]:
        """A push whose transaction has written everything and waits for `commit` to be set."""
        written, commit = asyncio.Event(), asyncio.Event()

        async def hold(_session, _events) -> None:
            written.set()
            await commit.wait()

        uow = UnitOfWork(self.database, [hold], event_writer=outbox_writer("p33", "registry"))
        lines = iter(enumerate(rows, start=1))
        task = asyncio.create_task(push_subjects(uow, rows_of(lines), PushMode.atomic, PUSHER))
        return task, written, commit


def risk(code: str, risk_class: str, day: int) -> dict[str, Any]:
    return {"uscc": code, "risk_class": risk_class, "domain": "general", "source": "zj-credit",
            "as_of": f"2025-04-{day:02d}T00:00:00+08:00"}  # fmt: skip


@pytest.fixture
async def registry(stack, registry_serving, service_client, pusher):
    client = await service_client("registry")
    url = stack.database_url("registry").replace("postgresql://", "postgresql+asyncpg://", 1)
    database = Database(url, pool_size=2)
    yield Registry(client, pusher, database, stack.database_url("registry"))
    await database.stop()


async def rows(dsn: str, query: str, *args: Any) -> list[tuple]:
    conn = await asyncpg.connect(dsn)
    try:
        return sorted(tuple(r) for r in await conn.fetch(query, *args))
    finally:
        await conn.close()


async def test_a_fresh_read_model_loads_the_export_and_continues_with_no_gap_and_no_double(
    stack, registry, nats_server, fresh_sampling, sampling_settings, subject, uscc, monkeypatch
):
    settings = sampling_settings(
        DATABASE_URL=fresh_sampling, NATS_URL=nats_server.url, BOOTSTRAP_BATCH_SIZE="2"
    )
    registry_dsn = stack.database_url("registry")
    base = 8_800_000 + datetime.now(UTC).microsecond * 10
    n = [base + i for i in range(7)]
    codes = [uscc(x) for x in n]

    # Before the export: four subjects, one changed again, two classified.
    await registry.push(*(subject(x, 1) for x in n[:4]))
    await registry.push(subject(n[0], 2))
    await registry.classify(risk(codes[0], "B", 1), risk(codes[1], "C", 1))
    # A: written before the export's snapshot, committed while the export is read.
    a_push, a_written, a_commit = registry.held_open(subject(n[1], 2))
    await asyncio.wait_for(a_written.wait(), 30)

    nats = await connect(nats_server.url, "bootstrap-test")
    await ensure_stream(nats.jetstream(), "p33", "registry")
    stop = asyncio.Event()
    relay = asyncio.create_task(OutboxRelay(registry_dsn, nats, batch_size=100).run(stop))
    database = Database(asyncpg_url(fresh_sampling), pool_size=4)
    applications: Counter[tuple[str, str, Any]] = Counter()
    during: list[int] = []

    async def while_reading(loaded: int) -> None:
        if during:
            return
        during.append(loaded)
        a_commit.set()
        await a_push
        # C: committed after the snapshot, while the export is being loaded.
        await registry.push(subject(n[2], 2), subject(n[4], 1))
        await registry.classify(risk(codes[0], "D", 2))

    def recording(event_type, handler):
        async def apply(event, uow):
            key = (
                event.data.get("uscc"),
                event_type,
                event.data.get("version", event.data.get("new_class")),
            )
            applications[key] += 1
            await handler(event, uow)

        return apply

    watched = Subscription(
        "sampling", "subjects", "registry",
        {t: recording(t, h) for t, h in subjects.HANDLERS.items()},
    )  # fmt: skip
    monkeypatch.setattr(worker, "SUBSCRIPTIONS", [watched])
    monkeypatch.setitem(
        worker.STARTING_POINTS,
        CONSUMER,
        lambda s, d, c, st: worker.bootstrap.subjects_point(
            s, d, c, progress=while_reading, stop=st
        ),
    )
    try:
        [consumer] = await worker.build_consumers(settings, database, nats, stop)
        assert during, "the test's writes happened while the export was loaded"
        assert a_push.done()
        # D: after the export.
        await registry.push(subject(n[0], 3), subject(n[4], 2), subject(n[5], 1))
        running = asyncio.create_task(consumer.run(stop))
        mine = await _event_ids(registry_dsn, codes)
        await wait_until(
            lambda: _all_seen(fresh_sampling, mine), timeout=60, what="every event of the test"
        )
        caught_up = await consumption_of(consumer)
    finally:
        a_commit.set()
        stop.set()
        await asyncio.gather(relay, *([running] if "running" in locals() else []))
        await nats.close()

    in_registry = await rows(
        registry_dsn, "SELECT uscc, version, name, status FROM subjects WHERE uscc = ANY($1)", codes
    )
    assert await rows(
        fresh_sampling, "SELECT uscc, version, name, status FROM subjects WHERE uscc = ANY($1)",
        codes,
    ) == in_registry, "the read model holds the registry's subjects as they are"  # fmt: skip
    assert len(in_registry) == 6
    assert await rows(
        fresh_sampling,
        "SELECT uscc, risk_class FROM subject_risk_classes WHERE uscc = ANY($1)", codes,
    ) == sorted([(codes[0], "D"), (codes[1], "C")])  # fmt: skip
    everything = "SELECT uscc, version FROM subjects"
    assert await rows(fresh_sampling, everything) == await rows(registry_dsn, everything), (
        "and every other subject of the registry, from the export"
    )

    by_event = {key: count for key, count in applications.items() if key[0] in codes}
    upserted, reclassed = TYPES
    assert by_event == {
        (codes[1], upserted, 2): 1,  # A: in the outbox before the snapshot, committed after it
        (codes[2], upserted, 2): 1,  # C
        (codes[4], upserted, 1): 1,
        (codes[0], reclassed, "D"): 1,
        (codes[0], upserted, 3): 1,  # D
        (codes[4], upserted, 2): 1,
        (codes[5], upserted, 1): 1,
    }, "each change the export does not hold applied once; none it holds applied again"
    assert consumer.stats.covered >= 7, "the events before the export were replayed, skipped"
    assert caught_up.unapplied == 0

    # How far behind: current once the worker has looked.
    await subjects.record_consumption(UnitOfWork(database), caught_up)
    lag = await subjects.subjects_lag(UnitOfWork(database), settings.read_model_max_lag_seconds)
    await database.stop()
    assert lag.loaded
    assert lag.seconds is not None
    assert lag.seconds < 5
    assert lag.within_bound


async def _event_ids(dsn: str, codes: list[str]) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        found = await conn.fetch(
            "SELECT envelope->>'id' AS id FROM outbox WHERE event_type = ANY($1) "
            "AND envelope->'data'->>'uscc' = ANY($2)",
            list(TYPES),
            codes,
        )
    finally:
        await conn.close()
    return {r["id"] for r in found}


async def _all_seen(dsn: str, event_ids: set[str]) -> bool:
    conn = await asyncpg.connect(dsn)
    try:
        seen = await conn.fetchval(
            "SELECT count(*) FROM inbox WHERE consumer = $1 AND event_id::text = ANY($2)",
            CONSUMER,
            list(event_ids),
        )
    finally:
        await conn.close()
    return seen == len(event_ids)


HEADER = {
    "type": "header", "format": "shuangsui.registry.export.v1", "snapshot": "900:905:902",
    "taken_at": "2026-03-01T00:00:00+00:00", "last_outbox_seq": 1, "last_event_id": None,
    "region_scope": "33", "includes": ["subjects"], "covers": ["registry.subject."],
    "filters": {},
}  # fmt: skip


async def lines_of(*lines: dict[str, Any]):
    for line in lines:
        yield line


async def test_an_export_that_breaks_off_loads_nothing_and_a_whole_one_loads_once(
    fresh_sampling, subject_events, uscc
):
    database = Database(asyncpg_url(fresh_sampling), pool_size=2)
    subject_lines = [
        {"type": "registry.subject.upserted.v1",
         "data": subject_events.upserted(uscc(9_500_000 + k)).payload.model_dump(mode="json"),
         "risk_classes": {"general": "A"} if k == 0 else {}}
        for k in range(3)
    ]  # fmt: skip
    trailer = {"type": "trailer", "subjects": 3, "inspectors": None, "complete": True}
    try:
        with pytest.raises(subjects.ExportBroken, match="trailer"):
            await subjects.load_export(
                UnitOfWork(database), lines_of(HEADER, *subject_lines), batch_size=2
            )
        assert await rows(fresh_sampling, "SELECT uscc FROM subjects") == []
        assert await rows(fresh_sampling, "SELECT model FROM read_models") == []

        point = await subjects.load_export(
            UnitOfWork(database), lines_of(HEADER, *subject_lines, trailer), batch_size=2
        )
        assert (point.xmin, point.xmax, point.xip) == (900, 905, frozenset({902}))
        assert await subjects.snapshot_point(UnitOfWork(database)) == point
        assert len(await rows(fresh_sampling, "SELECT uscc FROM subjects")) == 3
        assert await rows(fresh_sampling, "SELECT risk_class FROM subject_risk_classes") == [("A",)]
        with pytest.raises(subjects.AlreadyLoaded):
            await subjects.load_export(
                UnitOfWork(database), lines_of(HEADER, *subject_lines, trailer), batch_size=2
            )
    finally:
        await database.stop()


async def test_the_bootstrap_command_loads_a_fresh_database_and_says_where_events_continue(
    registry, subject, nats_server, fresh_sampling, service_env
):
    await registry.push(subject(9_600_001, 1), subject(9_600_002, 1))
    env = {**os.environ, **service_env("sampling"), "DATABASE_URL": fresh_sampling,
           "NATS_URL": nats_server.url, "LOG_LEVEL": "WARNING"}  # fmt: skip
    command = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shuangsui.sampling.bootstrap", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(command.communicate(), 120)
    said = err.decode()
    assert command.returncode == 0, said
    [(loaded, header)] = await rows(fresh_sampling, "SELECT loaded_rows, snapshot FROM read_models")
    assert loaded == len(await rows(registry.dsn, "SELECT uscc FROM subjects"))
    assert f"{loaded:,} subjects loaded" in said
    assert f"continue from snapshot {json.loads(header)['snapshot']}" in said
