"""Tag rules, item numbers and classifications (tables of migration 0007), and the lock that
keeps pushes and re-classification consistent.

A push classifies under the newest classification while holding a shared advisory lock; issuing
a new classification takes the lock exclusively. So when a new number is committed, no push is
still writing under an older one, and one background pass over the older rows completes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.registry.adapters.driver import asyncpg_connection
from shuangsui.registry.adapters.subjects import subjects
from shuangsui.registry.adapters.tag_corrections import corrections_in_force
from shuangsui.registry.domain.classification import Classifier, ItemScope
from shuangsui.registry.domain.tags import TagRules, rules_from_json

metadata = sa.MetaData()

tag_rule_sets = sa.Table(
    "tag_rule_sets",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("rules", JSONB, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
)
index_items = sa.Table(
    "index_items",
    metadata,
    sa.Column("item_id", sa.Uuid, primary_key=True),
    sa.Column("item_key", sa.Integer, sa.Identity(), nullable=False, unique=True),
)
classifications = sa.Table(
    "classifications",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("rules_version", sa.Integer, nullable=False),
    sa.Column("items", JSONB, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("total", sa.BigInteger, nullable=False),
    sa.Column("done", sa.BigInteger, nullable=False),
    sa.Column("changed", sa.BigInteger, nullable=False),
    sa.Column("cursor", sa.Text),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
)

# An arbitrary, fixed key of the registry database's advisory locks: "classification".
_LOCK = 0x5353_434C_4153_53
_LOCK_NOT_AVAILABLE = "55P03"


class ClassificationBusy(Exception):
    """Pushes are writing under the current classification; a new one must wait for them."""


async def share_classification(session: AsyncSession) -> None:
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock_shared(_LOCK)))


async def own_classification(session: AsyncSession, wait_ms: int) -> None:
    """Exclusive until commit; ClassificationBusy if pushes hold it longer than `wait_ms`."""
    await session.execute(sa.text(f"SET LOCAL lock_timeout = {int(wait_ms)}"))
    try:
        async with session.begin_nested():
            await session.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK)))
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            raise ClassificationBusy from None
        raise
    await session.execute(sa.text("SET LOCAL lock_timeout = 0"))


@dataclass(frozen=True)
class StoredRules:
    rules: TagRules
    note: str
    created_at: datetime | None
    created_by: str | None


async def latest_rules(session: AsyncSession) -> StoredRules:
    row = (
        await session.execute(
            sa.select(tag_rule_sets).order_by(tag_rule_sets.c.version.desc()).limit(1)
        )
    ).one_or_none()
    if row is None:
        return StoredRules(TagRules(version=0), "", None, None)
    return StoredRules(
        rules_from_json(row.version, row.rules), row.note, row.created_at, row.created_by
    )


async def rules_at(session: AsyncSession, version: int) -> TagRules:
    if version == 0:
        return TagRules(version=0)
    rules = await session.scalar(
        sa.select(tag_rule_sets.c.rules).where(tag_rule_sets.c.version == version)
    )
    return rules_from_json(version, rules or [])


async def insert_rules(
    session: AsyncSession, rules: TagRules, rules_json: list[dict[str, Any]], note: str, by: str,
    now: datetime,
) -> None:  # fmt: skip
    await session.execute(
        sa.insert(tag_rule_sets).values(
            version=rules.version, rules=rules_json, note=note, created_at=now, created_by=by
        )
    )


async def item_keys_for(session: AsyncSession, item_ids: Iterable[UUID]) -> dict[UUID, int]:
    """The index's number for each item, given on first sight and kept for good."""
    wanted = sorted(set(item_ids))
    if not wanted:
        return {}
    await session.execute(
        insert(index_items)
        .values([{"item_id": item_id} for item_id in wanted])
        .on_conflict_do_nothing()
    )
    rows = await session.execute(
        sa.select(index_items.c.item_id, index_items.c.item_key).where(
            index_items.c.item_id.in_(wanted)
        )
    )
    return {r.item_id: r.item_key for r in rows}


async def item_key_of(session: AsyncSession, item_id: UUID) -> int | None:
    return await session.scalar(
        sa.select(index_items.c.item_key).where(index_items.c.item_id == item_id)
    )


async def item_ids_of(session: AsyncSession, keys: Iterable[int]) -> dict[int, UUID]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = await session.execute(
        sa.select(index_items.c.item_key, index_items.c.item_id).where(
            index_items.c.item_key.in_(wanted)
        )
    )
    return {r.item_key: r.item_id for r in rows}


_STATE_AND_KEY = sa.text(
    """
    SELECT c.version, c.status,
           (SELECT item_key FROM index_items WHERE item_id = CAST(:item_id AS uuid))
    FROM (SELECT 1) one
    LEFT JOIN LATERAL (
      SELECT version, status FROM classifications ORDER BY version DESC LIMIT 1
    ) c ON true
    """
)


async def state_and_key(session: AsyncSession, item_id: UUID | None) -> tuple[int, str, int | None]:
    """The newest classification's number and status and the item's key, in one round trip
    (a count asks for all three)."""
    row = (
        await session.execute(
            _STATE_AND_KEY, {"item_id": str(item_id) if item_id is not None else None}
        )
    ).one()
    return (row[0] or 0, row[1] or "done", row[2])


async def latest_classification(session: AsyncSession) -> dict[str, Any] | None:
    row = (
        await session.execute(
            sa.select(classifications).order_by(classifications.c.version.desc()).limit(1)
        )
    ).one_or_none()
    return dict(row._mapping) if row is not None else None


async def get_classification(session: AsyncSession, version: int) -> dict[str, Any] | None:
    row = (
        await session.execute(
            sa.select(classifications).where(classifications.c.version == version)
        )
    ).one_or_none()
    return dict(row._mapping) if row is not None else None


async def page_classifications(
    session: AsyncSession, before: int | None, limit: int
) -> list[dict[str, Any]]:
    query = sa.select(classifications).order_by(classifications.c.version.desc()).limit(limit)
    if before is not None:
        query = query.where(classifications.c.version < before)
    return [dict(r._mapping) for r in await session.execute(query)]


async def classifier_of(session: AsyncSession, row: dict[str, Any] | None) -> Classifier:
    """The classifier a classification row describes (the empty one before the first), with
    the tag corrections in force now."""
    corrections = await corrections_in_force(session)
    if row is None:
        return Classifier(version=0, rules=TagRules(version=0), corrections=corrections)
    items = tuple(ItemScope.from_snapshot(item) for item in row["items"])
    return Classifier(
        version=row["version"],
        rules=await rules_at(session, row["rules_version"]),
        items=items,
        item_keys=await item_keys_for(session, (item.item_id for item in items)),
        corrections=corrections,
    )


async def insert_classification(
    session: AsyncSession,
    *,
    version: int,
    rules_version: int,
    items: Sequence[ItemScope],
    reason: str,
    by: str,
    now: datetime,
) -> None:
    total = await session.scalar(
        sa.select(sa.func.count()).select_from(subjects).where(subjects.c.classification < version)
    )
    # An unfinished older pass is overtaken: the new pass re-classifies everything older.
    await session.execute(
        sa.update(classifications)
        .where(classifications.c.status.in_(["pending", "running"]))
        .values(status="superseded", finished_at=now)
    )
    await session.execute(
        sa.insert(classifications).values(
            version=version,
            rules_version=rules_version,
            items=[item.snapshot() for item in items],
            reason=reason,
            created_at=now,
            created_by=by,
            status="pending",
            total=total or 0,
            done=0,
            changed=0,
        )
    )


async def claim_pass(session: AsyncSession) -> dict[str, Any] | None:
    """The unfinished classification, locked so that one worker at a time runs its pass."""
    row = (
        await session.execute(
            sa.select(classifications)
            .where(classifications.c.status.in_(["pending", "running"]))
            .order_by(classifications.c.version.desc())
            .limit(1)
            .with_for_update(skip_locked=True)
        )
    ).one_or_none()
    return dict(row._mapping) if row is not None else None


async def save_pass(session: AsyncSession, version: int, **values: Any) -> None:
    await session.execute(
        sa.update(classifications).where(classifications.c.version == version).values(**values)
    )


_RECLASSIFY_COLUMNS = (
    "uscc", "subject_id", "subject_type", "status", "region_code", "industry_code", "licences",
    "business_scope", "online_shops", "registered_capital_wan", "employee_band", "tags",
    "item_keys",
)  # fmt: skip


async def subjects_behind(
    session: AsyncSession, version: int, after: str | None, limit: int
) -> list[Any]:
    """The next subjects classified under an older number, in USCC order, locked; a row a
    push holds is skipped now and met on the next pass."""
    query = (
        sa.select(*(subjects.c[name] for name in _RECLASSIFY_COLUMNS))
        .where(subjects.c.classification < version)
        .order_by(subjects.c.uscc)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if after is not None:
        query = query.where(subjects.c.uscc > after)
    return list(await session.execute(query))


async def subject_to_reclassify(session: AsyncSession, uscc: str) -> Any | None:
    """One subject as a pass reads it, locked until commit: a push or a pass writing it
    meanwhile waits, then sees what was written."""
    return (
        await session.execute(
            sa.select(*(subjects.c[name] for name in _RECLASSIFY_COLUMNS))
            .where(subjects.c.uscc == uscc)
            .with_for_update()
        )
    ).one_or_none()


async def count_behind(session: AsyncSession, version: int) -> int:
    count = await session.scalar(
        sa.select(sa.func.count()).select_from(subjects).where(subjects.c.classification < version)
    )
    return int(count or 0)


async def write_verdicts(
    session: AsyncSession, rows: Sequence[tuple[str, Sequence[str], Sequence[int]]], version: int
) -> None:
    """Set (uscc, tags, item_keys) and the classification number, through one COPY."""
    driver = await asyncpg_connection(session)
    await driver.execute(
        "CREATE TEMP TABLE IF NOT EXISTS verdict_stage "
        "(uscc varchar(18), tags text[], item_keys integer[]) ON COMMIT DELETE ROWS"
    )
    await driver.copy_records_to_table(
        "verdict_stage",
        records=[(uscc, list(tags), list(keys)) for uscc, tags, keys in rows],
        columns=["uscc", "tags", "item_keys"],
    )
    await driver.execute(
        "UPDATE subjects s SET tags = v.tags, item_keys = v.item_keys, classification = $1 "
        "FROM verdict_stage v WHERE s.uscc = v.uscc",
        version,
    )
    await driver.execute("TRUNCATE verdict_stage")
