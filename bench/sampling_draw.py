"""Issue 13: the sampling service's draw (prepare → commit → compute → bundle) beside
`ORDER BY random() LIMIT n` per stratum on the same read-model tables in the same run (target
≤ 3×), and its subjects read model's load rate beside a raw JetStream pull + ack.

The draw: sampling's read model holds N subjects (1,000,000; 100,000 in the quick run;
SAMPLING_BENCH_SUBJECTS=… for another N, SAMPLING_BENCH_10M=1 adds the 10,000,000 figure) of
one county bureau's item in 4 risk strata of about equal size, and an inspector pool of 100
officers of its station (team size 2, a qualified lead). The bureau's batch is published with
3% of each stratum (planning's `planning.batch.published.v1` applied by sampling's own
`sampling-batches` consumer, the officers by `sampling-inspectors`); the subjects are written
straight into the read model's tables (as the export bootstrap's COPY does), so that N is not
limited by the consumer's rate measured below. What is timed is sampling's API served by
uvicorn as production runs it, through its real code path over HTTP, one request at a time:

- prepare `POST /api/v1/sampling/batches/{batch_id}/draws` (R15 population from the read
  model, manifest, inspector pool, inputs frozen),
- commit `POST …/draws/{code}:commit` with the `fixed` beacon (DRAW_TEST_MODE; the commitment
  document, hashed lists, `sampling.draw.committed.v1`),
- reveal `POST …/draws/{code}:reveal`, which for a fixed beacon computes the draw (IDS-1 phase
  A over every stratum, phase B teams under the workload cap) and completes it,
- bundle `GET …/draws/{code}/bundle`, the whole DRAW_SPEC §10.1 bundle (every manifest entry).

Each run draws a fresh published batch (a completed draw is never re-run); the figures are
medians of three runs. The baseline is the same population question (active, in the region,
in scope of the item, of the stratum's risk class) as `ORDER BY random() LIMIT n` per stratum
on the same tables, with the sizes counted beforehand. The last bundle is verified with
`shuangsui.drawspec.verify_bytes` (not timed) and its sample sizes checked.

The load rate: M subject events (`registry.subject.upserted.v1`, 100,000; 10,000 quick;
SAMPLING_BENCH_EVENTS=…) are in JetStream's registry stream; timed is sampling's
`sampling-subjects` consumer (the worker's subscription and handlers: `batched`, a fetched
batch of up to 256 events in one transaction, docs/events.md) from its start until the read
model holds all M, beside a raw pull consumer `fetch(256)` + ack of the same messages on the
same stream. (Before `batched`: a savepoint per event with its inbox row, 442–614 events/s.)

Printed on 2026-12-06 by a 400k run on the final code of that day
(`SAMPLING_BENCH_SUBJECTS=400000 SAMPLING_BENCH_EVENTS=2000 python -m bench --quick --only
sampling_draw`, the 2-core development machine, otherwise idle): 12,001 subjects are selected,
more than the one completion event could carry before ADR 0023, and the draw completes. The
earlier figures (30.6× at 100k, the 1M refusal) and the speed-ups since are in
docs/sampling.md.

      raw pull + ack: 24,181 events/s; sampling-subjects consumer …
      sampling-subjects: 2,050 events/s (2,000 in 1.0 s)
    publishing 100 officers and 3 batches …
    writing 400,000 subjects into sampling's read model …
      written in 5.1 s
    sampling draw 400k, 3% of 4 strata, teams of 2 from 100: ORDER BY random() …
      ORDER BY random() LIMIT n ×4: 1,110 ms; the service over HTTP …
        prepare 5,764 ms
        commit 1,847 ms
        reveal + compute 8,203 ms
        bundle 1,329 ms
        prepare 5,133 ms
        commit 1,967 ms
        reveal + compute 7,855 ms
        bundle 1,022 ms
        prepare 5,727 ms
        commit 1,891 ms
        reveal + compute 8,023 ms
        bundle 1,120 ms
      the bundle verifies (4.7 s, not timed): 12,001 subjects, each with its team
      prepare+commit+compute+bundle 16,761 ms = 15.1× ORDER BY random(): misses the ≤ 3× target
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from stdnum.cn import uscc as stdnum_uscc

from bench.results import Figure
from bench.stack import console, service_api, throwaway_stack
from shuangsui.contracts.events.planning_batches import BatchPublished
from shuangsui.contracts.events.registry_inspectors import InspectorUpserted
from shuangsui.contracts.events.registry_subjects import SubjectUpserted
from shuangsui.devstack.stack import Stack
from shuangsui.drawspec import verify_bytes
from shuangsui.drawspec.model import Ratio
from shuangsui.drawspec.phase_a import sample_size
from shuangsui.kernel.db import Database, UnitOfWork
from shuangsui.messaging.broker import connect, ensure_stream
from shuangsui.messaging.envelope import Outgoing, nats_subject
from shuangsui.messaging.testkit import running_consumers
from shuangsui.sampling.adapters import subjects as subjects_repo
from shuangsui.sampling.domain.subjects import SUBJECTS
from shuangsui.sampling.worker import SUBSCRIPTIONS

STRATA = ("A", "B", "C", "D")
RATIO = Ratio("3", "100")
INSPECTORS = 100
RUNS = 3
REGION, EVENTS_REGION = "330106", "330108"  # the draw's county; the load-rate events' county
UPSERTED = SubjectUpserted.event_type
FIXED = "ab" * 32
API = "/api/v1/sampling"
CHUNK = 1_000_000


@dataclass(frozen=True)
class Bureau:
    org: uuid.UUID
    org_code: str
    station: str
    item: uuid.UUID


def run(quick: bool) -> list[Figure]:
    sizes = [int(os.environ.get("SAMPLING_BENCH_SUBJECTS", 100_000 if quick else 1_000_000))]
    if os.environ.get("SAMPLING_BENCH_10M") == "1":
        sizes.append(10_000_000)
    events = int(os.environ.get("SAMPLING_BENCH_EVENTS", 10_000 if quick else 100_000))
    with (
        throwaway_stack("bench-sampling-") as stack,
        service_api(stack, "sampling", env={"DRAW_TEST_MODE": "true"}) as url,
    ):
        return asyncio.run(_measure(stack, url, sizes, events))


async def _measure(stack: Stack, url: str, sizes: list[int], events: int) -> list[Figure]:
    nats_url = stack.service_env("sampling")["NATS_URL"]
    dsn = stack.database_url("sampling")
    figures = await _load_rate(nats_url, dsn, events)
    bureau = Bureau(uuid.uuid4(), "330106-BENCH", "330106-BENCH-01", uuid.uuid4())
    batches = await _published_world(nats_url, dsn, bureau, RUNS * len(sizes))
    token = stack.issuer.token_for(roles=["department_admin"], region=REGION,
                                   org=str(bureau.org), sub="bench-admin")  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    conn = await asyncpg.connect(dsn)
    database = Database("postgresql+asyncpg://" + dsn.split("://", 1)[1], pool_size=1)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=3600) as client:
            for k, size in enumerate(sizes):
                runs = batches[k * RUNS : (k + 1) * RUNS]
                figures += await _draw_figures(conn, database, client, headers, bureau, size,
                                               runs)  # fmt: skip
    finally:
        await conn.close()
        await database.stop()
    return figures


# ---- the read model's load rate ------------------------------------------------------------


def _uscc(number: int, region: str) -> str:
    body = f"91{region}{number:09d}"
    return body + stdnum_uscc.calc_check_digit(body)


def _upserted(number: int, item: uuid.UUID) -> Outgoing:
    code = _uscc(number, EVENTS_REGION)
    subject = SubjectUpserted(
        subject_id=uuid.uuid5(uuid.NAMESPACE_OID, code), uscc=code, name=f"滨江{number}号商户",
        subject_type="enterprise", status="active", region_code=EVENTS_REGION,
        unit_code=f"{EVENTS_REGION}-01", industry_code="H6210",
        registered_address="滨江区江南大道1号", business_address=None,
        registered_on=date(2019, 4, 2), tags={"format": ["餐饮服务"]},
        applicable_item_ids=[item], classification=1, version=1, source="zj-aic",
        source_updated_at=datetime(2025, 3, 1, tzinfo=UTC),
    )  # fmt: skip
    return Outgoing(subject, subject=str(subject.subject_id), actor="zj-aic")


async def _load_rate(nats_url: str, dsn: str, count: int) -> list[Figure]:
    subjects = next(s for s in SUBSCRIPTIONS if UPSERTED in s.handlers)
    item = uuid.uuid4()
    async with running_consumers(nats_url=nats_url, database_url=dsn, service="sampling",
                                 subscriptions=[]) as feed:  # fmt: skip
        console.print(f"publishing {count:,} {UPSERTED} events to JetStream …")
        envelopes = [feed.envelope_of(_upserted(i, item), "registry") for i in range(count)]
        js = feed.nats.jetstream()
        await ensure_stream(js, feed.province_token, "registry")
        pending = [
            await js.publish_async(
                nats_subject(e.province, e.type),
                e.model_dump_json().encode(),
                headers={"Nats-Msg-Id": str(e.id)},
            )
            for e in envelopes
        ]
        await asyncio.gather(*pending)
        raw = await _raw_pull_rate(nats_url, nats_subject(feed.province_token, UPSERTED), count)
    console.print(f"  raw pull + ack: {raw:,.0f} events/s; sampling-subjects consumer …")
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        async with running_consumers(nats_url=nats_url, database_url=dsn, service="sampling",
                                     subscriptions=[subjects]):  # fmt: skip
            while await _held(conn, EVENTS_REGION) < count:
                await asyncio.sleep(0.1)  # lightly: the bench must not slow what it measures
            elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    rate = count / elapsed
    console.print(f"  sampling-subjects: {rate:,.0f} events/s ({count:,} in {elapsed:,.1f} s)")
    return [
        Figure(f"sampling read model: {count:,} subject events applied by sampling-subjects",
               rate, "events/s", "raw JetStream pull + ack", raw, higher_is_better=True),
    ]  # fmt: skip


async def _raw_pull_rate(nats_url: str, subject: str, count: int) -> float:
    nc = await connect(nats_url, "bench-raw-pull")
    try:
        pull = await nc.jetstream().pull_subscribe(subject, durable="bench-raw-pull")
        seen = 0
        started = time.perf_counter()
        while seen < count:
            for message in await pull.fetch(256, timeout=10):
                await message.ack()
                seen += 1
        return count / (time.perf_counter() - started)
    finally:
        await nc.close()


async def _held(conn: asyncpg.Connection, region: str) -> int:
    held = await conn.fetchval("SELECT count(*) FROM subjects WHERE region_code = $1", region)
    return int(held)


# ---- the world: officers and published batches, through sampling's consumers ---------------


def _inspector(bureau: Bureau) -> Outgoing:
    upserted = InspectorUpserted(
        inspector_id=uuid.uuid4(), name="张三", org_code=bureau.org_code, region_code=REGION,
        station_code=bureau.station, department_type="market_supervision",
        qualifications=["food_safety"], specialties=["catering"],
        cert_valid_until=date(2030, 12, 31), status="active", version=1,
        changed_at=datetime.now(UTC),
    )  # fmt: skip
    return Outgoing(upserted, subject=str(upserted.inspector_id), actor="system:registry")


def _batch(bureau: Bureau, number: int) -> Outgoing:
    example: Any = BatchPublished.model_config["json_schema_extra"]["examples"][0]  # type: ignore[index]
    today = date.today()
    batch = BatchPublished.model_validate({
        **example, "batch_id": uuid.uuid4(), "org_id": bureau.org, "org_code": bureau.org_code,
        "batch_code": f"{REGION}{today:%Y%m%d}{9000 + number:04d}", "joint_kind": "none",
        "participants": [], "draw_mode": "undirected",
        "items": [{**example["items"][0], "item_id": str(bureau.item)}],
        "risk_ratio_policies": [{**example["risk_ratio_policies"][0],
                                 "item_id": str(bureau.item)}],
        "strata": [{"stratum": s, "ratio": str(RATIO), "count": None} for s in STRATA],
        "station_group": [bureau.station], "team_size": 2, "lead_expertise": "food_safety",
        "window_start": today.isoformat(), "window_end": (today + timedelta(days=120)).isoformat(),
    })  # fmt: skip
    return Outgoing(batch, subject=str(batch.batch_id), actor="system:planning")


async def _published_world(nats_url: str, dsn: str, bureau: Bureau, batches: int) -> list[Any]:
    """`INSPECTORS` officers of the bureau's station and `batches` published batches, applied by
    sampling's own consumers; the batches' payloads."""
    wanted = [s for s in SUBSCRIPTIONS if UPSERTED not in s.handlers]
    console.print(f"publishing {INSPECTORS} officers and {batches} batches …")
    async with running_consumers(nats_url=nats_url, database_url=dsn, service="sampling",
                                 subscriptions=wanted) as feed:  # fmt: skip
        events = [(_inspector(bureau), "registry") for _ in range(INSPECTORS)]
        events += [(_batch(bureau, n), "planning") for n in range(batches)]
        for event, source in events:
            assert await feed.outcome(await feed.publish(event, source)) == "applied"
    return [event.payload for event, source in events if source == "planning"]


# ---- the draw beside ORDER BY random() -----------------------------------------------------


async def _generate(conn: asyncpg.Connection, bureau: Bureau, size: int) -> dict[str, int]:
    """`size` active subjects of the bureau's county in scope of its item, 4 risk classes of
    about equal size; the subjects drawn before are removed first."""
    console.print(f"writing {size:,} subjects into sampling's read model …")
    started = time.perf_counter()
    for table in ("subject_risk_classes", "subject_scopes", "subjects"):
        await conn.execute(f"DELETE FROM {table} WHERE uscc LIKE '91{REGION}%'")
    for low in range(1, size + 1, CHUNK):
        high = min(size, low + CHUNK - 1)
        uscc = f"'91{REGION}' || lpad(CAST(i AS text), 9, '0') || 'X'"
        series = f"FROM generate_series({low}, {high}) AS i"
        await conn.execute(
            f"""INSERT INTO subjects (uscc, subject_id, name, subject_type, status, region_code,
                unit_code, industry_code, registered_on, version, source_updated_at)
            SELECT {uscc}, CAST(md5('s' || i) AS uuid), '西湖' || i || '号商户', 'enterprise',
                   'active', '{REGION}', $1, 'H6210', DATE '2019-04-02', 1, now() {series}""",
            bureau.station,
        )
        await conn.execute(
            f"""INSERT INTO subject_scopes (uscc, tags, item_ids, classification, scoped_at)
            SELECT {uscc}, '{{"format": ["餐饮服务"]}}', ARRAY[CAST($1 AS uuid)], 1, now()
            {series}""",
            bureau.item,
        )
        await conn.execute(
            f"""INSERT INTO subject_risk_classes (uscc, domain, risk_class, as_of, changed_at)
            SELECT {uscc}, 'general', chr(65 + (hashint4(i) & 3)), now(), now() {series}"""
        )
        console.print(f"  {high:,} / {size:,}", highlight=False)
    for table in ("subjects", "subject_scopes", "subject_risk_classes"):
        await conn.execute(f"VACUUM ANALYZE {table}")
    console.print(f"  written in {time.perf_counter() - started:,.1f} s")
    rows = await conn.fetch(
        f"SELECT risk_class, count(*) FROM ({_POPULATION}) AS p GROUP BY risk_class", bureau.item
    )
    return {r["risk_class"]: r["count"] for r in rows}


# R15's question for the bureau's batch (adapters/subjects.py `population`), on the same tables.
_POPULATION = f"""SELECT s.uscc, rc.risk_class FROM subjects s
  JOIN subject_scopes sc ON sc.uscc = s.uscc
  JOIN subject_risk_classes rc ON rc.uscc = s.uscc AND rc.domain = 'general'
  WHERE s.status = 'active' AND s.region_code LIKE '{REGION}%'
    AND sc.item_ids && ARRAY[CAST($1 AS uuid)]"""
_BASELINE = (
    f"SELECT uscc FROM ({_POPULATION}) AS p WHERE risk_class = $2 ORDER BY random() LIMIT $3"
)


async def _baseline_ms(conn: asyncpg.Connection, bureau: Bureau, sizes: dict[str, int]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        for s in STRATA:
            await conn.fetch(_BASELINE, bureau.item, s, sample_size(sizes[s], RATIO))
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def _model_current(database: Database) -> None:
    """The subjects read model as loaded and current to now (what the worker records), so that
    a draw may be prepared from it."""
    at = datetime.now(UTC)
    header = {"type": "header", "format": "shuangsui.registry.export.v1", "snapshot": "bench",
              "taken_at": at.isoformat(), "covers": ["registry.subject."]}  # fmt: skip
    async with UnitOfWork(database) as uow:
        await subjects_repo.save_loaded(uow.session, SUBJECTS, header, 0, at)
        await subjects_repo.save_checked(uow.session, SUBJECTS, at, 0, at)
        await uow.commit()


STAGES = ("prepare", "commit", "reveal + compute", "bundle")


class Refused(Exception):
    """The service answered a stage with an error: the draw did not get through."""

    def __init__(self, stage: str, answer: httpx.Response, ms: float) -> None:
        super().__init__(f"{stage} after {ms:,.0f} ms: {answer.status_code} {answer.text[:500]}")
        self.stage = stage


@dataclass
class Run:
    """One draw's stages as far as it went, in ms; `bundle` once it got through."""

    stages: dict[str, float]
    bundle: bytes = b""
    refused: Refused | None = None


async def _service_draw(
    client: httpx.AsyncClient, database: Database, headers: dict[str, str], batch_id: uuid.UUID
) -> Run:
    await _model_current(database)
    run = Run({})
    started = time.perf_counter()

    def done(answer: httpx.Response, status: int = 200) -> httpx.Response:
        nonlocal started
        stage = STAGES[len(run.stages)]
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code != status:
            raise Refused(stage, answer, elapsed)
        run.stages[stage] = elapsed
        console.print(f"    {stage} {run.stages[stage]:,.0f} ms", highlight=False)
        started = time.perf_counter()
        return answer

    try:
        prepared = done(await client.post(f"{API}/batches/{batch_id}/draws", headers=headers), 201)
        code = prepared.json()["draw_id"]
        done(await client.post(f"{API}/draws/{code}:commit", headers={**headers, "If-Match": '"1"'},
                               json={"beacon": {"source": "fixed", "value": FIXED}}))  # fmt: skip
        revealed = done(
            await client.post(f"{API}/draws/{code}:reveal", headers={**headers, "If-Match": '"2"'})
        )
        assert revealed.json()["status"] == "completed", revealed.text
        run.bundle = done(await client.get(f"{API}/draws/{code}/bundle")).content
    except Refused as refused:
        run.refused = refused
    return run


async def _draw_figures(
    conn: asyncpg.Connection, database: Database, client: httpx.AsyncClient,
    headers: dict[str, str], bureau: Bureau, size: int, batches: list[Any],
) -> list[Figure]:  # fmt: skip
    label = f"{size / 1_000_000:g}M" if size >= 1_000_000 else f"{size // 1000:,}k"
    sizes = await _generate(conn, bureau, size)
    what = f"sampling draw {label}, 3% of 4 strata, teams of 2 from {INSPECTORS}"
    console.print(f"[bold]{what}[/bold]: ORDER BY random() …")
    base_ms = await _baseline_ms(conn, bureau, sizes)
    console.print(f"  ORDER BY random() LIMIT n ×4: {base_ms:,.0f} ms; the service over HTTP …")
    runs: list[Run] = []
    for batch in batches:
        runs.append(await _service_draw(client, database, headers, batch.batch_id))
        if runs[-1].refused is not None:  # each run would be refused alike
            break
    figures = []
    for stage in STAGES:
        times = [r.stages[stage] for r in runs if stage in r.stages]
        if times:
            figures.append(Figure(f"{what}: {stage}" + ("" if len(times) == RUNS else
                                  f" ({len(times)} run)"), statistics.median(times), "ms",
                                  None, None, False))  # fmt: skip
    base_name = "ORDER BY random() LIMIT n ×4"
    refused = runs[-1].refused
    if refused is not None:
        console.print(f"  [bold red]the service refused the draw at {refused} (its log says "
                      "why)[/bold red]")  # fmt: skip
        console.print("  [bold red]no total: the ≤ 3× target is not measured[/bold red]")
        before = " + ".join(runs[-1].stages)
        figures.insert(0, Figure(f"{what}: {before} only (refused at {refused.stage})",
                                 sum(runs[-1].stages.values()), "ms", base_name, base_ms,
                                 higher_is_better=False))  # fmt: skip
        return figures
    total = statistics.median(sum(r.stages.values()) for r in runs)
    _check(what, runs[-1].bundle, sizes)
    ratio = total / base_ms
    verdict = "[green]meets[/green]" if ratio <= 3 else "[bold red]misses[/bold red]"
    console.print(f"  prepare+commit+compute+bundle {total:,.0f} ms = {ratio:.1f}× "
                  f"ORDER BY random(): {verdict} the ≤ 3× target")  # fmt: skip
    total_figure = Figure(f"{what}: prepare+commit+compute+bundle (HTTP)", total, "ms",
                          base_name, base_ms, higher_is_better=False)  # fmt: skip
    return [total_figure, *figures]


def _check(what: str, bundle: bytes, sizes: dict[str, int]) -> None:
    """The last bundle verifies (the library's verifier, as the CLI runs it) and selects 3% of
    each stratum, every selected subject with a full team."""
    started = time.perf_counter()
    result: Any = verify_bytes(bundle)
    drawn = {s["stratum"]: len(s["selected"]) for s in result["strata"]}
    expected = {s: sample_size(sizes[s], RATIO) for s in STRATA}
    teams = [a for a in result["assignments"] if "lead" in a]
    elapsed = time.perf_counter() - started
    if drawn != expected or len(teams) != sum(expected.values()):
        console.print(f"[bold red]ERROR: {what}: drew {drawn} with {len(teams)} teams, "
                      f"expected {expected}[/bold red]")  # fmt: skip
    else:
        console.print(f"  [green]the bundle verifies ({elapsed:,.1f} s, not timed): "
                      f"{sum(drawn.values()):,} subjects, each with its team[/green]")  # fmt: skip
