"""IDS-1 phase A (3% per stratum, 4 strata) beside the non-verifiable `ORDER BY random()` draw.

Two verifiable paths over the same table in the same run: the PostgreSQL path (the
statements of `shuangsui.drawspec.sql`, one per stratum) and the Python path (ids and weights
streamed from PostgreSQL, keys and selection by `shuangsui.drawspec.phase_a`). Both must
select the same ids; the bench says so loudly if they do not. Every timed figure is the
median of at least three runs.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console

from bench.results import Figure
from shuangsui.devstack.ports import free_port
from shuangsui.devstack.postgres import PostgresServer
from shuangsui.drawspec.model import Ratio, StratumRule
from shuangsui.drawspec.phase_a import StratumSelection, sample_size, select_entries
from shuangsui.drawspec.sql import read_selection, stratum_selection

console = Console(stderr=True)
STRATA = ("A", "B", "C", "D")
RATIO = Ratio("3", "100")
SEED = bytes.fromhex("5eed" * 16)
RUNS = 3
Conn = psycopg.Connection[Any]


def run(quick: bool) -> list[Figure]:
    size = 100_000 if quick else 1_000_000
    label = f"{size // 1000:,}k" if size < 1_000_000 else f"{size // 1_000_000}M"
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="bench-draw-") as tmp:
        postgres = PostgresServer(Path(tmp) / "pg", free_port(), "bench", durable=True)
        postgres.start()
        try:
            with psycopg.connect(postgres.dsn(), autocommit=True) as admin:
                admin.execute("CREATE DATABASE draw")
            with psycopg.connect(postgres.dsn(database="draw"), autocommit=True) as conn:
                figures += _table_figures(conn, "w1", size, label, max_weight=1)
                figures += _table_figures(conn, "w10", size, label, max_weight=10)
                if not quick:
                    conn.execute("DROP TABLE w1, w10")
                    figures += _table_figures(
                        conn, "big", 10_000_000, "10M", max_weight=1, python=False
                    )
        finally:
            postgres.stop()
    return figures


def _table_figures(
    conn: Conn, table: str, size: int, label: str, *, max_weight: int, python: bool = True
) -> list[Figure]:
    _generate(conn, table, size, max_weight)
    sizes = {s: _count(conn, table, s) for s in STRATA}
    weighted = max_weight > 1
    if weighted:
        base_name = "ORDER BY -ln(random())/weight"
        base_sql = f"SELECT subject_id FROM {table} WHERE stratum = %s "
        base_sql += "ORDER BY -ln(random()) / weight LIMIT %s"
    else:
        base_name = "ORDER BY random()"
        base_sql = f"SELECT subject_id FROM {table} WHERE stratum = %s ORDER BY random() LIMIT %s"

    def baseline() -> None:
        for s in STRATA:
            conn.execute(base_sql, (s, sample_size(sizes[s], RATIO))).fetchall()

    kind = f"w1–{max_weight}" if weighted else "w1"
    what = f"draw {label} {kind}, 3% of 4 strata"
    console.print(f"[bold]{what}[/bold]: {base_name} …")
    base_ms = _median_ms(baseline)
    console.print(f"  {base_name}: {base_ms:,.0f} ms; PostgreSQL path …")
    sql_result: list[tuple[StratumSelection, ...]] = []
    sql_ms = _median_ms(lambda: sql_result.append(_sql_path(conn, table, sizes)))
    console.print(f"  PostgreSQL path: {sql_ms:,.0f} ms")
    figures = [Figure(f"{what}: PostgreSQL path", sql_ms, "ms", base_name, base_ms, False)]
    if python:
        py_result: list[tuple[StratumSelection, ...]] = []
        py_ms = _median_ms(lambda: py_result.append(_python_path(conn, table)))
        console.print(f"  Python path: {py_ms:,.0f} ms")
        figures.insert(0, Figure(f"{what}: Python path", py_ms, "ms", base_name, base_ms, False))
        _check_identical(what, sql_result[-1], py_result[-1])
    _check_sizes(what, sql_result[-1], sizes)
    return figures


def _generate(conn: Conn, table: str, size: int, max_weight: int) -> None:
    """An UNLOGGED table of `size` USCC-like ids, 4 strata of about equal size."""
    console.print(f"generating {size:,} subjects into {table} (weights 1–{max_weight}) …")
    started = time.perf_counter()
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(
        f"""CREATE UNLOGGED TABLE {table} (
          subject_id text NOT NULL, stratum text NOT NULL,
          unit text NOT NULL DEFAULT '', weight int NOT NULL DEFAULT 1)"""
    )
    weight = "1" if max_weight == 1 else f"1 + (hashint4(i + 7) & 2147483647) % {max_weight}"
    step = 1_000_000
    for low in range(1, size + 1, step):
        high = min(size, low + step - 1)
        conn.execute(
            f"""INSERT INTO {table} (subject_id, stratum, unit, weight)
            SELECT '91330' || lpad(CAST(i AS text), 12, '0') || 'X',
                   chr(65 + (hashint4(i) & 3)), '', {weight}
            FROM generate_series({low}, {high}) AS i"""
        )
        console.print(f"  {high:,} / {size:,} rows", highlight=False)
    conn.execute(f"VACUUM ANALYZE {table}")
    console.print(f"  generated in {time.perf_counter() - started:,.1f} s")


def _count(conn: Conn, table: str, stratum: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {table} WHERE stratum = %s", (stratum,)).fetchone()
    assert row is not None
    return int(row[0])


def _sql_path(conn: Conn, table: str, sizes: dict[str, int]) -> tuple[StratumSelection, ...]:
    # The stratum sizes are known here (the baseline uses them too), so the statements skip
    # their own counting scan.
    selections = []
    for s in STRATA:
        st = stratum_selection(SEED, StratumRule(s, RATIO), table=table, population=sizes[s])
        selections.append(read_selection(s, conn.execute(st.text, st.params).fetchall()))
    return tuple(selections)


def _python_path(conn: Conn, table: str) -> tuple[StratumSelection, ...]:
    selections = []
    for s in STRATA:
        with conn.cursor() as cur:
            cur.execute(f"SELECT subject_id, weight FROM {table} WHERE stratum = %s", (s,))
            entries = cur.fetchall()
        selections.append(select_entries(SEED, StratumRule(s, RATIO), entries))
    return tuple(selections)


def _median_ms(work: Callable[[], None]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _check_identical(
    what: str, sql: tuple[StratumSelection, ...], python: tuple[StratumSelection, ...]
) -> None:
    if sql != python:
        bad = [a.stratum for a, b in zip(sql, python, strict=True) if a != b]
        console.print(
            f"[bold red]ERROR: {what}: the PostgreSQL and Python selections differ "
            f"in strata {bad}[/bold red]"
        )
    else:
        total = sum(s.sample_size for s in sql)
        console.print(f"  [green]SQL and Python select the same {total:,} ids[/green]")


def _check_sizes(what: str, sql: tuple[StratumSelection, ...], sizes: dict[str, int]) -> None:
    for selection in sql:
        expected = sample_size(sizes[selection.stratum], RATIO)
        if (selection.population, selection.sample_size) != (sizes[selection.stratum], expected):
            console.print(f"[bold red]ERROR: {what}: wrong size for {selection}[/bold red]")
