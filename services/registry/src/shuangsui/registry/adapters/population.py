"""Population counts per item (tables of migration 0007): folded counts plus pending deltas.

Writers only ever append deltas, so concurrent pushes never wait on a shared counter row; the
worker folds deltas into the counts now and then. A count reads both in one statement, so it is
exact at every moment, folded or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.kernel.scope import RegionScope
from shuangsui.registry.adapters.driver import asyncpg_connection
from shuangsui.registry.adapters.subjects import tag_clauses
from shuangsui.registry.domain.population import ALL, CountKey

metadata = sa.MetaData()


def _key() -> list[sa.Column[Any]]:
    return [
        sa.Column("item_key", sa.Integer, nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("tags", ARRAY(sa.Text), nullable=False),
        sa.Column("domain", sa.String(40), nullable=False),
        sa.Column("risk_class", sa.String(1), nullable=False),
    ]


population_counts = sa.Table(
    "population_counts",
    metadata,
    *_key(),
    sa.Column("n", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("item_key", "region_code", "tags", "domain", "risk_class"),
)
# Migration 0009: the same counts summed over tag sets, for counts that name no tag.
population_totals = sa.Table(
    "population_totals",
    metadata,
    sa.Column("item_key", sa.Integer, nullable=False),
    sa.Column("domain", sa.String(40), nullable=False),
    sa.Column("region_code", sa.String(6), nullable=False),
    sa.Column("risk_class", sa.String(1), nullable=False),
    sa.Column("n", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("item_key", "domain", "region_code", "risk_class"),
)
population_deltas = sa.Table(
    "population_deltas", metadata, *_key(), sa.Column("n", sa.Integer, nullable=False)
)
_COLUMNS = ["item_key", "region_code", "tags", "domain", "risk_class", "n"]
_KEY = ", ".join(_COLUMNS[:-1])
_TOTAL_KEY = "item_key, domain, region_code, risk_class"
# One statement: the deltas leave and land in both tables together.
_FOLD = f"""
WITH moved AS (DELETE FROM population_deltas RETURNING {_KEY}, n),
tagged AS (
  INSERT INTO population_counts ({_KEY}, n)
  SELECT {_KEY}, sum(n) FROM moved GROUP BY {_KEY}
  ON CONFLICT ({_KEY}) DO UPDATE SET n = population_counts.n + EXCLUDED.n
)
INSERT INTO population_totals ({_TOTAL_KEY}, n)
SELECT {_TOTAL_KEY}, sum(n) FROM moved GROUP BY {_TOTAL_KEY}
ON CONFLICT ({_TOTAL_KEY}) DO UPDATE SET n = population_totals.n + EXCLUDED.n
"""  # noqa: S608 - column names are ours


async def append_deltas(session: AsyncSession, changes: Sequence[tuple[CountKey, int]]) -> None:
    if not changes:
        return
    driver = await asyncpg_connection(session)
    await driver.copy_records_to_table(
        "population_deltas",
        records=[(*key[:2], list(key[2]), *key[3:], n) for key, n in changes],
        columns=_COLUMNS,
    )


async def fold_deltas(session: AsyncSession) -> int:
    """Fold every committed delta into the counts; returns how many deltas there were."""
    pending = await session.scalar(sa.select(sa.func.count()).select_from(population_deltas))
    if not pending:
        return 0
    await session.execute(sa.text(_FOLD))
    for table in (population_counts, population_totals):  # rows that reached zero go
        await session.execute(sa.delete(table).where(table.c.n == 0))
    return int(pending)


# Counts that name no tag (most of them): one prepared statement, built once. Region codes are
# digits, so a prefix is exactly the range [prefix, prefix with its last digit + 1).
_UNTAGGED = sa.text(
    """
    SELECT domain, risk_class, sum(n) FROM (
      SELECT domain, risk_class, n FROM population_totals
      WHERE item_key = :item_key AND (domain = '*' OR domain = :domain)
        AND region_code >= :low AND region_code < :high
      UNION ALL
      SELECT domain, risk_class, n FROM population_deltas
      WHERE item_key = :item_key AND (domain = '*' OR domain = :domain)
        AND region_code >= :low AND region_code < :high
    ) kept GROUP BY domain, risk_class
    """
)


def narrowest(scope_prefix: str, region_prefix: str | None) -> str | None:
    """The prefix both the caller's scope and the asked region allow; None if they are apart."""
    asked = region_prefix or ""
    if asked.startswith(scope_prefix):
        return asked
    if scope_prefix.startswith(asked):
        return scope_prefix
    return None


async def count_rows(
    session: AsyncSession,
    scope: RegionScope,
    item_key: int,
    region_prefix: str | None,
    tags: Sequence[str],
    domain: str,
) -> list[tuple[str, str, int]]:
    """(domain, risk_class, n) summed over counts and pending deltas for the filters."""
    if not tags:
        prefix = narrowest(scope.prefix, region_prefix)
        if prefix is None:
            return []
        low, high = _range(prefix)
        rows = await session.execute(
            _UNTAGGED, {"item_key": item_key, "domain": domain, "low": low, "high": high}
        )
        return [(r[0], r[1], int(r[2])) for r in rows]
    parts = []
    for table in (population_counts, population_deltas):
        c = table.c
        clauses = [
            c.item_key == item_key,
            sa.or_(c.domain == ALL, c.domain == domain),
            scope.filter(c.region_code),
        ]
        clauses.extend(tag_clauses(c.tags, tags))
        if region_prefix:
            clauses.append(c.region_code.startswith(region_prefix))
        for prefix in (scope.prefix, region_prefix):
            clauses.extend(_code_range(c.region_code, prefix))
        parts.append(sa.select(c.domain, c.risk_class, c.n).where(*clauses))
    both = sa.union_all(*parts).subquery()
    query = sa.select(both.c.domain, both.c.risk_class, sa.func.sum(both.c.n)).group_by(
        both.c.domain, both.c.risk_class
    )
    return [(r[0], r[1], int(r[2])) for r in await session.execute(query)]


def _range(prefix: str) -> tuple[str, str]:
    if not prefix:
        return "", ":"  # every code: digits sort below ':'
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _code_range(column: sa.Column[str], prefix: str | None) -> list[sa.ColumnElement[bool]]:
    """The codes starting with `prefix` once more, as a range. A pooled connection reuses a
    prepared statement's generic plan, which cannot make an index range of `LIKE $1 || '%'`:
    without this every count read all of its item's rows (measured in bench/registry_count.py).
    Region codes are digits, so the range holds exactly the codes the LIKE does."""
    if not prefix:
        return []
    low, high = _range(prefix)
    return [column >= low, column < high]


# What the kept counts must equal: every active subject once per item it falls under (`*`),
# and once per class it holds in a domain.
_RECOUNT = """
CREATE TEMP TABLE recounted ON COMMIT DROP AS
WITH s AS (
  SELECT uscc, region_code, tags, unnest(item_keys) AS item_key FROM subjects
  WHERE status = 'active'
)
SELECT item_key, region_code, tags, '*'::varchar AS domain, '*'::varchar AS risk_class,
       count(*)::bigint AS n
FROM s GROUP BY 1, 2, 3
UNION ALL
SELECT s.item_key, s.region_code, s.tags, rc.domain, rc.risk_class, count(*)::bigint
FROM s JOIN subject_risk_classes rc USING (uscc) GROUP BY 1, 2, 3, 4, 5
"""
_KEPT = f"""
SELECT {_KEY}, sum(n)::bigint AS n FROM (
  SELECT {_KEY}, n FROM population_counts UNION ALL SELECT {_KEY}, n FROM population_deltas
) kept GROUP BY {_KEY} HAVING sum(n) <> 0
"""  # noqa: S608 - column names are ours
_DIFFERENCES = f"""
SELECT count(*) FROM recounted r FULL JOIN ({_KEPT}) k USING ({_KEY})
WHERE r.n IS DISTINCT FROM k.n
"""  # noqa: S608 - column names are ours
_REPLACE = [
    "DELETE FROM population_counts",
    "DELETE FROM population_totals",
    "DELETE FROM population_deltas",
    f"INSERT INTO population_counts ({_KEY}, n) SELECT {_KEY}, n FROM recounted",  # noqa: S608
    f"INSERT INTO population_totals ({_TOTAL_KEY}, n) "  # noqa: S608 - column names are ours
    f"SELECT {_TOTAL_KEY}, sum(n) FROM recounted GROUP BY {_TOTAL_KEY}",
]


async def recount(session: AsyncSession, *, replace: bool) -> int:
    """Count the directory again and compare with what is kept; with `replace`, keep the new
    counts. Returns how many count rows differed. Writers wait meanwhile: a push appends its
    deltas after the recount, relative to what the recount saw."""
    await session.execute(sa.text("LOCK TABLE population_deltas IN SHARE ROW EXCLUSIVE MODE"))
    await session.execute(sa.text(_RECOUNT))
    differing = int(await session.scalar(sa.text(_DIFFERENCES)) or 0)
    if differing and replace:
        for statement in _REPLACE:
            await session.execute(sa.text(statement))
    return differing
