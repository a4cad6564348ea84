"""Risk classes per subject and domain, with their history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.registry.adapters.risk_class_tables import (
    UNCLASSIFIED,
    risk_class_history,
    risk_classes,
)
from shuangsui.registry.adapters.subjects import placement_of, subjects
from shuangsui.registry.domain.population import Placement
from shuangsui.registry.domain.risk_classes import ClassChange, RiskClass, StoredClass


@dataclass(frozen=True)
class KnownSubject:
    subject_id: Any
    unit_code: str | None  # the supervising station, which risk-class events carry
    placement: Placement  # its region_code is the one the events carry too


async def subjects_by_uscc(session: AsyncSession, usccs: Sequence[str]) -> dict[str, KnownSubject]:
    """The subjects that exist, with what their class change counts and announces, locked
    against a concurrent push or re-classification moving them while their class changes."""
    rows = await session.execute(
        sa.select(
            subjects.c.uscc,
            subjects.c.subject_id,
            subjects.c.status,
            subjects.c.region_code,
            subjects.c.unit_code,
            subjects.c.tags,
            subjects.c.item_keys,
        )
        .where(subjects.c.uscc == sa.any_(sa.bindparam("usccs", list(usccs), ARRAY(sa.String))))
        .with_for_update(key_share=True)
    )
    return {
        r.uscc: KnownSubject(
            r.subject_id, r.unit_code, placement_of(r.status, r.region_code, r.tags, r.item_keys)
        )
        for r in rows
    }


async def classes_by_uscc(session: AsyncSession, usccs: Sequence[str]) -> dict[str, dict[str, str]]:
    """Every class each subject holds, by domain."""
    rows = await session.execute(
        sa.select(risk_classes.c.uscc, risk_classes.c.domain, risk_classes.c.risk_class).where(
            risk_classes.c.uscc == sa.any_(sa.bindparam("usccs", list(usccs), ARRAY(sa.String)))
        )
    )
    held: dict[str, dict[str, str]] = {}
    for r in rows:
        held.setdefault(r.uscc, {})[r.domain] = r.risk_class
    return held


async def stored_classes(session: AsyncSession, usccs: Sequence[str]) -> dict[str, StoredClass]:
    rows = await session.execute(
        sa.select(risk_classes).where(risk_classes.c.uscc.in_(usccs)).with_for_update()
    )
    return {f"{r.uscc}/{r.domain}": StoredClass(RiskClass(r.risk_class), r.as_of) for r in rows}


async def apply_classes(
    session: AsyncSession, changes: Sequence[ClassChange], actor: str, now: datetime
) -> None:
    if not changes:
        return
    values = [
        {
            "uscc": c.classification.uscc,
            "domain": c.classification.domain,
            "risk_class": c.classification.risk_class.value,
            "source": c.classification.source,
            "as_of": c.classification.as_of,
            "updated_at": now,
        }
        for c in changes
    ]
    statement = insert(risk_classes).values(values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["uscc", "domain"],
            set_={
                k: statement.excluded[k] for k in ("risk_class", "source", "as_of", "updated_at")
            },
        )
    )
    await session.execute(
        sa.insert(risk_class_history),
        [
            {
                "uscc": c.classification.uscc,
                "domain": c.classification.domain,
                "old_class": c.previous.value if c.previous else None,
                "new_class": c.classification.risk_class.value,
                "source": c.classification.source,
                "as_of": c.classification.as_of,
                "changed_at": now,
                "actor": actor,
            }
            for c in changes
        ],
    )


async def classes_of(session: AsyncSession, uscc: str) -> dict[str, dict[str, Any]]:
    rows = await session.execute(sa.select(risk_classes).where(risk_classes.c.uscc == uscc))
    return {
        r.domain: {"risk_class": r.risk_class, "source": r.source, "as_of": r.as_of} for r in rows
    }


async def read_class_history(
    session: AsyncSession, uscc: str, domain: str | None, before: int | None, limit: int
) -> list[dict[str, Any]]:
    """A subject's class changes, newest first: ids follow the order changes were recorded."""
    query = sa.select(
        risk_class_history.c.id,
        risk_class_history.c.domain,
        risk_class_history.c.old_class,
        risk_class_history.c.new_class,
        risk_class_history.c.source,
        risk_class_history.c.as_of,
        risk_class_history.c.changed_at.label("recorded_at"),
        risk_class_history.c.actor,
    ).where(risk_class_history.c.uscc == uscc)
    if domain is not None:
        query = query.where(risk_class_history.c.domain == domain)
    if before is not None:
        query = query.where(risk_class_history.c.id < before)
    rows = await session.execute(query.order_by(risk_class_history.c.id.desc()).limit(limit))
    return [dict(row._mapping) for row in rows]


async def count_population(
    session: AsyncSession, clauses: list[Any], domain: str
) -> dict[str, int]:
    """Subjects matching the filters, by risk class in `domain` ("unclassified" when none)."""
    joined = subjects.outerjoin(
        risk_classes,
        sa.and_(risk_classes.c.uscc == subjects.c.uscc, risk_classes.c.domain == domain),
    )
    label = sa.func.coalesce(risk_classes.c.risk_class, UNCLASSIFIED).label("risk_class")
    query = sa.select(label, sa.func.count()).select_from(joined).where(*clauses)
    rows = await session.execute(query.group_by(label))
    return {row[0]: int(row[1]) for row in rows}
