"""Appendix A on a real PostgreSQL: the SQL path gives byte-identical results to phase A.

The statements of `shuangsui.drawspec.sql` run against PostgreSQL 18 (the devstack's
embedded server, database encoding UTF8). For every public vector with a phase A and for a
generated 100,000-subject population (weights 1-50, non-ASCII ids, ratios that round up) the
database must return the same manifest hash, every ticket key, the same selected ids in the
same order, and the same sample sizes, cutoff and next keys as the Python reference.
Nothing here reads the clock: seeds and populations are fixed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
import pytest

from shuangsui.drawspec import lists
from shuangsui.drawspec.jsontext import parse_json
from shuangsui.drawspec.model import Ratio, StratumRule, Subject
from shuangsui.drawspec.phase_a import (
    StratumSelection,
    ranked,
    select_entries,
    select_stratum,
    select_subjects,
)
from shuangsui.drawspec.sql import ParamStyle, manifest_hash, read_selection, stratum_selection
from shuangsui.drawspec.verification import read_bundle

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
ALL = (1 << 53) - 1  # a count rule that selects the whole stratum: every key comes back
DDL = """CREATE TABLE manifest (
  subject_id text NOT NULL, stratum text NOT NULL,
  unit text NOT NULL DEFAULT '', weight int NOT NULL DEFAULT 1)"""


def phase_a_vectors() -> list[tuple[str, dict[str, Any]]]:
    """Every local vector whose expected outcome is a result (it has a phase A)."""
    found = []
    for path in sorted(VECTORS.glob("TV*.json")):
        tree = parse_json(path.read_bytes())
        assert isinstance(tree, dict)
        if "strata" in tree["expected"]:
            found.append((path.stem, tree))
    return found


VECTOR_CASES = phase_a_vectors()


def as_json(selection: StratumSelection) -> dict[str, Any]:
    return {
        "stratum": selection.stratum,
        "population": selection.population,
        "sample_size": selection.sample_size,
        "selected": list(selection.selected),
        "cutoff_key": selection.cutoff_key,
        "next_key": selection.next_key,
    }


@pytest.fixture
def db(fresh_database: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        encoding = conn.execute("SHOW server_encoding").fetchone()
        assert encoding == ("UTF8",)
        conn.execute(DDL)
        yield conn


def stage(conn: psycopg.Connection[Any], manifest: Sequence[Subject]) -> None:
    conn.execute("TRUNCATE manifest")
    with conn.cursor().copy("COPY manifest (subject_id, stratum, unit, weight) FROM STDIN") as cp:
        for s in manifest:
            cp.write_row((s.subject_id, s.stratum, s.unit, s.weight))
    conn.execute("ANALYZE manifest")


def sql_selection(
    conn: psycopg.Connection[Any], seed: bytes, rule: StratumRule
) -> tuple[StratumSelection, list[str]]:
    """The database's selection for one stratum, and the key of every row it returned.

    The statement runs twice, counting the stratum itself and with the population passed in;
    both must return the same rows.
    """
    st = stratum_selection(seed, rule)
    rows = conn.execute(st.text, st.params).fetchall()
    count = conn.execute(
        "SELECT count(*) FROM manifest WHERE stratum = %s", (rule.stratum,)
    ).fetchone()
    assert count is not None
    known = stratum_selection(seed, rule, population=int(count[0]))
    assert conn.execute(known.text, known.params).fetchall() == rows
    return read_selection(rule.stratum, rows), [row[1] for row in rows]


def sql_manifest_hash(conn: psycopg.Connection[Any]) -> str:
    st = manifest_hash()
    row = conn.execute(st.text, st.params).fetchone()
    assert row is not None
    return str(row[0])


def assert_same_path(
    conn: psycopg.Connection[Any],
    seed: bytes,
    strata: Sequence[StratumRule],
    manifest: list[Subject],
) -> tuple[StratumSelection, ...]:
    """SQL and Python agree on the manifest hash, every key, and each stratum's selection."""
    assert sql_manifest_hash(conn) == lists.manifest_hash(manifest)
    python = select_subjects(seed, strata, manifest)
    for rule, expected in zip(strata, python, strict=True):
        got, _ = sql_selection(conn, seed, rule)
        assert got == expected, rule
        entries = [(s.subject_id, s.weight) for s in manifest if s.stratum == rule.stratum]
        assert select_entries(seed, rule, entries) == expected, rule
        # The whole ranking, key by key: a count rule larger than any stratum returns it all.
        members = [s for s in manifest if s.stratum == rule.stratum]
        order = ranked(seed, members)
        everything, keys = sql_selection(conn, seed, StratumRule(rule.stratum, ALL))
        assert everything.selected == tuple(subject_id for _, _, subject_id in order)
        assert keys == [key.hex() for key, _, _ in order]
    return python


@pytest.mark.parametrize(("name", "tree"), VECTOR_CASES, ids=[n for n, _ in VECTOR_CASES])
def test_public_vectors_give_identical_results_in_postgres(
    db: psycopg.Connection[Any], name: str, tree: dict[str, Any]
) -> None:
    bundle = read_bundle(tree["bundle"])
    stage(db, bundle.manifest)
    assert sql_manifest_hash(db) == bundle.commitment.manifest_sha256
    seed = bytes.fromhex(tree["expected"]["seed"])
    python = assert_same_path(db, seed, bundle.commitment.strata, list(bundle.manifest))
    assert [as_json(s) for s in python] == tree["expected"]["strata"]


def test_at_least_five_public_vectors_have_a_phase_a() -> None:
    names = {name.split("-")[0] for name, _ in VECTOR_CASES}
    assert {"TV1", "TV2", "TV3", "TV4", "TV6"} <= names


@pytest.mark.parametrize("style", ["numeric", "named"])
async def test_other_placeholder_styles_bind_the_same_values(
    fresh_database: str, style: ParamStyle
) -> None:
    """asyncpg (`$n`) and SQLAlchemy `text()` (`:name`) run the same statement."""
    name, tree = next(v for v in VECTOR_CASES if v[0].startswith("TV4"))
    bundle = read_bundle(tree["bundle"])
    seed = bytes.fromhex(tree["expected"]["seed"])
    conn = await asyncpg.connect(fresh_database)
    try:
        await conn.execute(DDL)
        await conn.copy_records_to_table(
            "manifest",
            records=[(s.subject_id, s.stratum, s.unit, s.weight) for s in bundle.manifest],
            columns=["subject_id", "stratum", "unit", "weight"],
        )
        for rule in bundle.commitment.strata:
            expected = select_stratum(
                seed, rule, [s for s in bundle.manifest if s.stratum == rule.stratum]
            )
            st = stratum_selection(seed, rule, paramstyle=style)
            if style == "numeric":
                assert isinstance(st.params, tuple)
                rows = [tuple(r) for r in await conn.fetch(st.text, *st.params)]
            else:
                rows = _run_named(fresh_database, st.text, st.params)
            assert read_selection(rule.stratum, rows) == expected, (name, rule)
    finally:
        await conn.close()


def _run_named(dsn: str, text: str, params: object) -> list[tuple[Any, ...]]:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    engine = sqlalchemy.create_engine("postgresql+psycopg://" + dsn.split("://", 1)[1])
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sqlalchemy.text(text), params).all()]
    finally:
        engine.dispose()


# --- a generated population -------------------------------------------------------------

# Ratios whose n_s = ceil(N·a/b) is not an exact multiple (rounding up matters), a count,
# a ratio with more digits than any fixed-width integer, 0/1, and a named empty stratum.
GENERATED_STRATA = (
    StratumRule("A", Ratio("3", "100")),
    StratumRule("B", Ratio("1", "3")),
    StratumRule("C", Ratio("2", "7")),
    StratumRule("D", 17),
    StratumRule("E-empty", 5),
    StratumRule("Z", Ratio("0", "1")),
    StratumRule("中风险", Ratio("1" + "0" * 40, "3" + "0" * 40 + "1")),
    StratumRule("😀", Ratio("9007199254740993", "9007199254740993")),
)
# Uneven shares so that no population is a round number.
SHARES = ("A",) * 7 + ("B",) * 5 + ("C",) * 3 + ("D", "Z", "中风险", "中风险", "😀")
SUFFIXES = ("", "", "", "-分店", "\U0001f600", "\uff21", "é", "e\u0301", "\t\\")


def generated_population(size: int) -> list[Subject]:
    """A deterministic manifest: ids mixing ASCII, CJK, astral and combining characters
    (some ids are prefixes of others), weights 1..50, sorted by UTF-8 bytes like a bundle."""
    subjects = []
    for i in range(size):
        digest = hashlib.sha256(i.to_bytes(4, "big")).digest()
        subject_id = f"91330{i:012d}X{SUFFIXES[digest[0] % len(SUFFIXES)]}"
        subjects.append(
            Subject(
                subject_id=subject_id,
                stratum=SHARES[digest[1] % len(SHARES)],
                unit=("", "海淀区市场监管所", "U-7")[digest[2] % 3],
                weight=1 + digest[3] % 50 if digest[4] % 4 else 1,
            )
        )
    subjects.sort(key=lambda s: s.subject_id.encode())
    return subjects


def test_generated_population_of_100000_gives_identical_results(
    db: psycopg.Connection[Any],
) -> None:
    manifest = generated_population(100_000)
    assert {s.weight for s in manifest} == set(range(1, 51))
    stage(db, manifest)
    seed = hashlib.sha256(b"IDS-1 postgres path test seed").digest()
    python = assert_same_path(db, seed, GENERATED_STRATA, manifest)
    sizes = {s.stratum: (s.population, s.sample_size) for s in python}
    assert sizes["E-empty"] == (0, 0)
    assert sizes["Z"][1] == 0 < sizes["Z"][0]
    assert sizes["😀"][0] == sizes["😀"][1] > 0
    for rule in GENERATED_STRATA[:3]:
        population, n = sizes[rule.stratum]
        assert isinstance(rule.rule, Ratio)
        assert population * int(rule.rule.numerator) % int(rule.rule.denominator) != 0, (
            "the population should make the ratio round up"
        )
        assert 0 < n < population
