"""Work guides (抽查工作指引): the versioned checklist inspectors follow for one item.

R4: every item used in a batch has a published guide whose record form drives result entry.
A guide belongs to the item (its `item_id` is stable across list versions), not to one list
version, so adjusting a list does not orphan the guide. Published guide versions never change:
a result recorded against version 2 can always be read next to the checklist it followed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from shuangsui.registry.domain.items import ItemRuleError


class GuideStatus(StrEnum):
    draft = "draft"
    published = "published"


@dataclass(frozen=True)
class GuideStep:
    title: str  # e.g. 核查营业执照
    checkpoints: tuple[str, ...]  # 检查要点: what the inspector confirms at this step


@dataclass(frozen=True)
class WorkGuide:
    guide_id: UUID
    item_id: UUID
    version: int
    status: GuideStatus
    steps: tuple[GuideStep, ...]
    evidence_requirements: tuple[str, ...] = ()
    # The 检查记录表 as a JSON schema; inspection renders and validates result entry with it.
    record_form_schema: Mapping[str, Any] = field(default_factory=dict)
    published_at: datetime | None = None


# `registry.guide.published.v2` carries the whole guide, and an event must fit the broker's
# message limit (messaging's MAX_EVENT_BYTES, 900 kB): a guide is refused when drafted, well
# below it, rather than at publishing, when it could no longer be fixed.
GUIDE_MAX_BYTES = 256_000


def guide_size_problem(
    steps: Sequence[GuideStep],
    evidence_requirements: Sequence[str],
    record_form_schema: Mapping[str, Any],
) -> str | None:
    written = json.dumps(
        [[(s.title, s.checkpoints) for s in steps], evidence_requirements, record_form_schema],
        ensure_ascii=False,
    )
    size = len(written.encode())
    if size > GUIDE_MAX_BYTES:
        return (
            f"the guide is {size:,} bytes as JSON, over {GUIDE_MAX_BYTES:,}: shorten the record "
            "form or the checkpoints (it is published whole, in one event)"
        )
    return None


def guide_problems(steps: Sequence[GuideStep]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if not steps:
        found.append(("steps", "a guide has at least one step"))
    for n, step in enumerate(steps):
        if not step.title.strip():
            found.append((f"steps[{n}].title", "must not be empty"))
        if not step.checkpoints or any(not c.strip() for c in step.checkpoints):
            found.append((f"steps[{n}].checkpoints", "at least one checkpoint, none empty"))
    return found


def new_guide_version(
    existing: Sequence[WorkGuide],
    *,
    guide_id: UUID,
    item_id: UUID,
    steps: Sequence[GuideStep],
    evidence_requirements: Sequence[str],
    record_form_schema: Mapping[str, Any],
) -> WorkGuide:
    """The next draft version; one draft at a time, so two editors cannot fork the checklist."""
    if any(g.status is GuideStatus.draft for g in existing):
        raise ItemRuleError("draft_exists", "this item's guide already has a draft version")
    problems = guide_problems(steps)
    if problems:
        field_name, reason = problems[0]
        raise ItemRuleError("invalid", reason, field_name)
    too_large = guide_size_problem(steps, evidence_requirements, record_form_schema)
    if too_large:
        raise ItemRuleError("invalid", too_large, "record_form_schema")
    return WorkGuide(
        guide_id=guide_id,
        item_id=item_id,
        version=max((g.version for g in existing), default=0) + 1,
        status=GuideStatus.draft,
        steps=tuple(steps),
        evidence_requirements=tuple(evidence_requirements),
        record_form_schema=dict(record_form_schema),
    )


def publish_guide(guide: WorkGuide, at: datetime) -> WorkGuide:
    if guide.status is not GuideStatus.draft:
        raise ItemRuleError(
            "immutable", f"guide version {guide.version} is published and cannot change"
        )
    return replace(guide, status=GuideStatus.published, published_at=at)
