"""Issue 11: the population export (`GET /subjects:export`) of 1M subjects over HTTP — a real
uvicorn registry, NDJSON from one snapshot — beside `COPY (<the export's own SELECT>) TO STDOUT`
of the same lines, and beside a COPY of the plain subject rows (what PostgreSQL reads without
writing JSON), measured in the same run.

Subjects are COPYed straight into the registry's tables (bench/registry_count.py's directory),
with tags and items as a classification would have given them. `BENCH_EXPORT_ROWS=200000`
sets the size. Both cores are shared with whatever else runs on the machine: the figures say
what one export costs next to COPY on the same machine at the same time, not an absolute rate.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import psutil
import psycopg
from sqlalchemy.dialects import postgresql

from bench.registry_count import _load
from bench.results import Figure
from bench.stack import console, registry_api, throwaway_stack
from shuangsui.contracts.regions import regions_within
from shuangsui.devstack.stack import Stack
from shuangsui.kernel.scope import RegionScope
from shuangsui.registry.adapters.exports import subject_lines_query
from shuangsui.registry.adapters.subjects import SubjectFilters, filter_clauses

EXPORT = "/api/v1/registry/subjects:export"
ITEMS = 40
TAGS = ["format:餐饮服务", "format:零售", "format:批发", "category:食品", "category:药品",
        "carrier:实体", "carrier:网络", "scale:小微", "scale:中型"]  # fmt: skip
INDUSTRY = 9  # position of industry_code in a subjects row


def run(quick: bool) -> list[Figure]:
    size = int(os.environ.get("BENCH_EXPORT_ROWS", 50_000 if quick else 1_000_000))
    rounds = 1 if quick else 2
    with throwaway_stack("bench-export-") as stack, registry_api(stack) as url:
        return asyncio.run(_measure(stack, url, size, rounds))


async def _measure(stack: Stack, url: str, size: int, rounds: int) -> list[Figure]:
    label = f"{size // 1000:,}k" if size < 1_000_000 else f"{size // 1_000_000}M"
    dsn = stack.database_url("registry")
    await _index_items(dsn)
    counties = [r for r in regions_within("330000") if r.name != "市辖区"]
    await _load(dsn, size, counties, shape=_classified())
    token = stack.issuer.token_for(roles=["provincial_admin"], region="330000")
    lines_sql = _export_select()
    export, copy_lines, copy_rows = 0.0, 0.0, 0.0
    for n in range(1, rounds + 1):
        # Each round measures the three one after the other, so that a burst of load from
        # elsewhere on the machine hits one of them, not a whole series; the best round counts.
        console.print(f"round {n}: the export over HTTP …")
        export = max(export, await _export_rate(url, token, size))
        console.print(f"round {n}: COPY of the export's SELECT …")
        copy_lines = max(copy_lines, _copy_rate(dsn, lines_sql, size))
        console.print(f"round {n}: COPY of the plain rows …")
        copy_rows = max(copy_rows, _copy_rate(dsn, "SELECT * FROM subjects", size))
    console.print(
        f"export {export:,.0f} rows/s, COPY of the same lines {copy_lines:,.0f}/s, "
        f"COPY of the plain rows {copy_rows:,.0f}/s"
    )
    return [
        Figure(
            f"registry: population export over HTTP, {label} subjects (NDJSON, one snapshot)",
            export, "rows/s", "COPY (the export's SELECT) TO STDOUT", copy_lines,
            higher_is_better=True,
        ),
        Figure(
            f"registry: the same export beside COPY of the plain rows, {label} subjects",
            export, "rows/s", "COPY (SELECT * FROM subjects) TO STDOUT", copy_rows,
            higher_is_better=True,
        ),
    ]  # fmt: skip


async def _index_items(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "INSERT INTO index_items (item_id) SELECT gen_random_uuid() FROM generate_series(1, $1)",
            ITEMS,
        )
    finally:
        await conn.close()


def _classified() -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """Tags and item numbers by industry, as rules and items in force give them: subjects of a
    trade share a handful of verdicts, a province a few hundred."""
    rng = random.Random(11)
    verdicts: dict[tuple[str, int], tuple[list[str], list[int]]] = {}

    def shape(row: tuple[Any, ...]) -> tuple[Any, ...]:
        key = (row[INDUSTRY], sum(row[0].encode()) % 3)  # deterministic, unlike hash()
        if key not in verdicts:
            tags = sorted(rng.sample(TAGS, 3))
            verdicts[key] = (tags, sorted(rng.sample(range(1, ITEMS + 1), rng.randrange(3, 12))))
        tags, items = verdicts[key]
        return (*row[:-3], tags, items, 1)

    return shape


def _export_select() -> str:
    """The SQL of a provincial administrator's export, values written in (a COPY takes none)."""
    query = subject_lines_query(filter_clauses(RegionScope("33"), SubjectFilters()))
    dialect = postgresql.asyncpg.dialect()  # writes % as it is (psycopg2's doubles it)
    compiled = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    return f"SELECT line FROM ({compiled}) export"


async def _export_rate(url: str, token: str, size: int) -> float:
    """Rows per second of one export read to its end; checks it is complete."""
    watch = _PeakMemory()
    lines, last = 0, b""
    started = time.perf_counter()
    async with (
        httpx.AsyncClient(base_url=url, timeout=120) as client,
        client.stream("GET", EXPORT, headers={"Authorization": f"Bearer {token}"}) as answer,
    ):
        assert answer.status_code == 200, await answer.aread()
        async for data in answer.aiter_raw(1 << 20):
            lines += data.count(b"\n")
            last = (last + data)[-200:]
    elapsed = time.perf_counter() - started
    growth = watch.stop()
    assert b'"complete":true' in last, f"the export ended without its trailer: {last!r}"
    assert lines == size + 2, f"{lines} lines for {size:,} subjects"
    console.print(
        f"  {size:,} subjects in {elapsed:.1f} s; the registry process grew by at most "
        f"{growth / 1e6:.0f} MB while it streamed"
    )
    return size / elapsed


def _copy_rate(dsn: str, sql: str, size: int) -> float:
    started = time.perf_counter()
    rows = 0
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
        with cur.copy(f"COPY ({sql}) TO STDOUT") as copy:
            for data in copy:
                rows += bytes(data).count(b"\n")
    elapsed = time.perf_counter() - started
    assert rows == size, f"COPY gave {rows} rows"
    return size / elapsed


class _PeakMemory:
    """The uvicorn child's resident memory, sampled while an export streams: it must stay
    flat however many subjects there are."""

    def __init__(self) -> None:
        [self.process] = [
            p
            for p in psutil.Process().children(recursive=True)
            if "uvicorn" in " ".join(p.cmdline())
        ]
        self.start = self.process.memory_info().rss
        self.peak = self.start
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(0.1):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def stop(self) -> int:
        self._done.set()
        self._thread.join()
        return self.peak - self.start
