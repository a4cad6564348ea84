"""What an adjusted plan version changed (R7): its fields, before and after, and its batches
added, cancelled and changed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from shuangsui.planning.domain.plans import PlanContent, PlanVersion

FIELD_LABELS: Mapping[str, str] = {
    "title": "标题",
    "description": "说明",
    "period_start": "计划期间起",
    "period_end": "计划期间止",
}


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class BatchSummary:
    """What a plan version says of one of its batches (DOMAIN.md §3.2: id, items, scope,
    quantity, window). `quantity` per class: a ratio as its reduced B.4 fraction, or a count."""

    batch_id: UUID
    batch_code: str
    status: str
    window_start: date
    window_end: date
    item_ids: tuple[UUID, ...] = ()
    region_codes: tuple[str, ...] = ()
    subject_types: tuple[str, ...] = ()
    tag_filters: tuple[str, ...] = ()
    risk_classes: tuple[str, ...] = ()
    quantity: Mapping[str, str | int] = field(default_factory=dict)
    name: str = ""
    joint_kind: str = "none"
    industry_codes: tuple[str, ...] = ()

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"


@dataclass(frozen=True)
class BatchChanges:
    added: tuple[UUID, ...] = ()
    cancelled: tuple[UUID, ...] = ()
    changed: tuple[UUID, ...] = ()


@dataclass(frozen=True)
class PlanDiff:
    plan_id: UUID
    from_version: int
    to_version: int
    reason: str | None
    fields: tuple[FieldChange, ...]
    batches: BatchChanges


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def field_changes(before: PlanContent, after: PlanContent) -> tuple[FieldChange, ...]:
    changes = []
    for name, label in FIELD_LABELS.items():
        old, new = _text(getattr(before, name)), _text(getattr(after, name))
        if old != new:
            changes.append(FieldChange(name, label, old, new))
    return tuple(changes)


def batch_changes(before: Sequence[BatchSummary], after: Sequence[BatchSummary]) -> BatchChanges:
    """The seam for batches (R7): added = new in `after`; cancelled = gone from `after` or
    cancelled there while it was not before; changed = in both, live, and different."""
    old = {b.batch_id: b for b in before}
    new = {b.batch_id: b for b in after}
    added = [i for i, b in new.items() if i not in old and not b.cancelled]
    cancelled = [
        i for i, b in old.items()
        if not b.cancelled and (i not in new or new[i].cancelled)
    ]  # fmt: skip
    changed = [
        i for i, b in new.items()
        if i in old and not b.cancelled and not old[i].cancelled and old[i] != b
    ]  # fmt: skip
    return BatchChanges(tuple(added), tuple(cancelled), tuple(changed))


def plan_diff(
    before: PlanVersion,
    after: PlanVersion,
    before_batches: Sequence[BatchSummary] = (),
    after_batches: Sequence[BatchSummary] = (),
) -> PlanDiff:
    if before.plan_id != after.plan_id or before.version >= after.version:
        raise ValueError("a difference runs from an earlier version of the same plan")
    return PlanDiff(
        plan_id=after.plan_id,
        from_version=before.version,
        to_version=after.version,
        reason=after.adjustment_reason,
        fields=field_changes(before.content, after.content),
        batches=batch_changes(before_batches, after_batches),
    )
