"""The subject directory's tables and set-based reads and writes (COPY + one merge per chunk)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.contracts.regions import scope_prefix
from shuangsui.kernel.scope import RegionScope
from shuangsui.registry.adapters.driver import asyncpg_connection
from shuangsui.registry.adapters.risk_class_tables import held_classes, in_risk_stratum
from shuangsui.registry.domain.classification import Verdict
from shuangsui.registry.domain.conflicts import ChangedMeanwhile
from shuangsui.registry.domain.population import Placement
from shuangsui.registry.domain.subjects import Change, Stored, Subject, SubjectStatus

metadata = sa.MetaData()

# Migrations 0002 (content) and 0007 (classification) made these tables.
subjects = sa.Table(
    "subjects",
    metadata,
    sa.Column("uscc", sa.String(18), primary_key=True),
    sa.Column("subject_id", UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("subject_type", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("region_code", sa.String(6), nullable=False),
    sa.Column("registered_address", sa.Text),
    sa.Column("business_address", sa.Text),
    sa.Column("legal_representative", sa.Text),
    sa.Column("industry_code", sa.Text),
    sa.Column("business_scope", sa.Text),
    sa.Column("licences", JSONB, nullable=False),
    sa.Column("online_shops", JSONB, nullable=False),
    sa.Column("registered_capital_wan", sa.Numeric),
    sa.Column("employee_band", sa.Text),
    sa.Column("unit_code", sa.Text),
    sa.Column("registered_on", sa.Date),
    sa.Column("registration_no", sa.Text),
    sa.Column("extra", JSONB, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("tags", ARRAY(sa.Text), nullable=False),
    sa.Column("item_keys", ARRAY(sa.Integer), nullable=False),
    sa.Column("classification", sa.Integer, nullable=False),
)
subject_history = sa.Table(
    "subject_history",
    metadata,
    sa.Column("uscc", sa.String(18), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("content", JSONB, nullable=False),
)

# A push stages each subject's canonical content (the JSON its hash is taken over) once; the
# merge spreads it over the columns and history keeps it as it is. The API process encodes nine
# values per row instead of the table's twenty-seven plus a history row, and PostgreSQL, which
# waits for the API during a bulk push, does the spreading.
_STAGE = "pushed_subjects"
_STAGE_COLUMNS = [
    "uscc", "subject_id", "version", "content", "source", "source_updated_at", "content_hash",
    "tags", "item_keys",
]  # fmt: skip
_CREATE_STAGE = f"""
CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (
    uscc text, subject_id uuid, version integer, content jsonb, source text,
    source_updated_at timestamptz, content_hash text, tags text[], item_keys integer[]
) ON COMMIT DELETE ROWS
"""
# Content fields by how they come out of the JSON (text, JSON, or cast); `extra` is JSON too.
_CONTENT_TEXT = (
    "name", "subject_type", "status", "region_code", "registered_address", "business_address",
    "legal_representative", "industry_code", "business_scope", "employee_band", "unit_code",
    "registration_no",
)  # fmt: skip
_CONTENT_CAST = {"registered_capital_wan": "numeric", "registered_on": "date"}
_CONTENT_JSON = ("licences", "online_shops", "extra")
_MERGED = {
    "uscc": "uscc",
    "subject_id": "subject_id",
    **{c: f"content->>'{c}'" for c in _CONTENT_TEXT},
    **{c: f"(content->>'{c}')::{kind}" for c, kind in _CONTENT_CAST.items()},
    **{c: f"content->'{c}'" for c in _CONTENT_JSON},
    "source": "source",
    "source_updated_at": "source_updated_at",
    "content_hash": "content_hash",
    "version": "version",
    "updated_at": "$1::timestamptz",
    "tags": "tags",
    "item_keys": "item_keys",
    "classification": "$2::integer",
}
_UPDATE_COLUMNS = [c for c in _MERGED if c not in ("uscc", "subject_id")]
# A row planned as created (version 1) or as the successor of version v updates only what is
# still at version v - 1: a subject another push created meanwhile is left alone and missing from
# RETURNING, which tells us the plan is stale.
_MERGE = f"""
INSERT INTO subjects ({", ".join(_MERGED)})
SELECT {", ".join(_MERGED.values())} FROM {_STAGE}
ON CONFLICT (uscc) DO UPDATE SET {", ".join(f"{c} = EXCLUDED.{c}" for c in _UPDATE_COLUMNS)}
WHERE subjects.version = EXCLUDED.version - 1
RETURNING uscc, subject_id
"""  # noqa: S608 - column names are ours, never input
_HISTORY = f"""
INSERT INTO subject_history (uscc, version, changed_at, source, source_updated_at, actor, content)
SELECT uscc, version, $1::timestamptz, source, source_updated_at, $2::text, content FROM {_STAGE}
"""  # noqa: S608 - the stage's name is ours


@dataclass(frozen=True)
class StoredSubject:
    """What a push needs of a stored subject: its version, and where the counts place it."""

    stored: Stored
    placement: Placement


async def stored_versions(session: AsyncSession, usccs: Sequence[str]) -> dict[str, StoredSubject]:
    rows = await session.execute(
        sa.select(
            subjects.c.uscc,
            subjects.c.source_updated_at,
            subjects.c.content_hash,
            subjects.c.version,
            subjects.c.status,
            subjects.c.region_code,
            subjects.c.tags,
            subjects.c.item_keys,
        )
        # One array parameter, not one bind parameter per USCC (5,000 per chunk).
        .where(subjects.c.uscc == sa.any_(sa.bindparam("usccs", list(usccs), ARRAY(sa.String))))
        # Locked until commit: a concurrent push of the same subject waits, then sees our version.
        .with_for_update()
    )
    return {
        r.uscc: StoredSubject(
            Stored(r.source_updated_at, r.content_hash, r.version),
            placement_of(r.status, r.region_code, r.tags, r.item_keys),
        )
        for r in rows
    }


def placement_of(
    status: str, region_code: str, tags: Sequence[str], item_keys: Sequence[int]
) -> Placement:
    return Placement(status == SubjectStatus.active, region_code, tuple(tags), tuple(item_keys))


async def apply_changes(
    session: AsyncSession,
    changes: Sequence[Change],
    verdicts: Sequence[Verdict],
    classification: int,
    actor: str,
    now: datetime,
) -> dict[str, uuid.UUID]:
    """Write created/updated subjects; returns each one's subject_id. Their history follows
    with `record_history`, in the same transaction."""
    if not changes:
        return {}
    driver = await asyncpg_connection(session)
    await driver.execute(_CREATE_STAGE)
    await driver.execute(f"TRUNCATE {_STAGE}")
    await driver.copy_records_to_table(
        _STAGE,
        records=list(map(_stage_record, changes, _new_ids(len(changes)), verdicts)),
        columns=_STAGE_COLUMNS,
    )
    ids = {r["uscc"]: r["subject_id"] for r in await driver.fetch(_MERGE, now, classification)}
    if len(ids) != len(changes):
        raise ChangedMeanwhile(f"{len(changes) - len(ids)} subject(s) were written by another push")
    return ids


async def record_history(session: AsyncSession, now: datetime, actor: str) -> None:
    """One history version for every subject `apply_changes` just wrote (from its stage)."""
    driver = await asyncpg_connection(session)
    await driver.execute(_HISTORY, now, actor)


def _stage_record(change: Change, subject_id: uuid.UUID, verdict: Verdict) -> tuple[Any, ...]:
    """One staged row, in `_STAGE_COLUMNS` order (a test holds the two together)."""
    s: Subject = change.subject
    return (
        s.uscc,
        subject_id,  # kept by the merge for existing subjects
        change.version,
        s.content_json,
        s.source,
        s.source_updated_at,
        s.content_hash,
        list(verdict.tags),
        list(verdict.item_keys),
    )


def _new_ids(count: int) -> list[uuid.UUID]:
    """`count` random (version 4) UUIDs from one read of the OS's random source."""
    pool = os.urandom(16 * count)
    return [uuid.UUID(bytes=pool[i : i + 16], version=4) for i in range(0, 16 * count, 16)]


@dataclass(frozen=True)
class SubjectFilters:
    region_code: str | None = None
    subject_type: str | None = None
    status: str | None = None
    industry_code: str | None = None
    unit_code: str | None = None
    tags: tuple[str, ...] = ()  # format:餐饮服务 …; any within a dimension, all dimensions
    item_key: int | None = None  # the item's number in the index (事项-对象)
    risk_class: str | None = None  # A–D, or "unclassified": no class in `risk_domain`
    risk_domain: str = "general"


async def read_subject(session: AsyncSession, uscc: str) -> dict[str, Any] | None:
    row = (await session.execute(sa.select(subjects).where(subjects.c.uscc == uscc))).one_or_none()
    return dict(row._mapping) if row is not None else None


def filter_clauses(scope: RegionScope, filters: SubjectFilters) -> list[Any]:
    """The WHERE clauses of a subject query: the caller's region, then the filters."""
    clauses: list[Any] = [scope.filter(subjects.c.region_code)]
    if filters.region_code:
        clauses.append(subjects.c.region_code.startswith(scope_prefix(filters.region_code)))
    for name in ("subject_type", "status", "unit_code"):
        value = getattr(filters, name)
        if value:
            clauses.append(subjects.c[name] == value)
    if filters.industry_code:
        clauses.append(subjects.c.industry_code.startswith(filters.industry_code, autoescape=True))
    if filters.item_key is not None:
        clauses.append(subjects.c.item_keys.contains([filters.item_key]))
    clauses.extend(tag_clauses(subjects.c.tags, filters.tags))
    if filters.risk_class is not None:
        clauses.append(in_risk_stratum(subjects.c.uscc, filters.risk_domain, filters.risk_class))
    return clauses


def tag_clauses(column: Any, tags: Sequence[str]) -> list[Any]:
    """Tags within one dimension are alternatives; every dimension named must match."""
    groups: dict[str, list[str]] = {}
    for tag in tags:
        groups.setdefault(tag.partition(":")[0], []).append(tag)
    return [column.overlap(group) for _, group in sorted(groups.items())]


async def find_subjects(
    session: AsyncSession,
    scope: RegionScope,
    filters: SubjectFilters,
    after: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """A page of subjects by USCC, each with the risk classes it holds, in one query."""
    classes = held_classes(subjects.c.uscc).label("risk_classes")
    query = sa.select(subjects, classes).where(*filter_clauses(scope, filters))
    if after is not None:
        query = query.where(subjects.c.uscc > after)
    rows = await session.execute(query.order_by(subjects.c.uscc).limit(limit))
    return [dict(row._mapping) for row in rows]


async def read_history(session: AsyncSession, uscc: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        sa.select(subject_history)
        .where(subject_history.c.uscc == uscc)
        .order_by(subject_history.c.version.desc())
    )
    return [dict(row._mapping) for row in rows]
