"""Use cases of work guides (抽查工作指引): draft a version, publish it, read them.

A guide is written by whoever owns its item: the national admin for a national item, the
provincial admins for their province's own items. Published versions are readable by anyone,
like the lists they belong to; drafts only by their writers (and the national admin).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from shuangsui.contracts.events.registry_items import GuidePublished, GuidePublishedV2
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal
from shuangsui.kernel.db import UnitOfWork
from shuangsui.messaging.envelope import Outgoing
from shuangsui.registry.adapters import items as repo
from shuangsui.registry.domain.guides import (
    GuideStatus,
    GuideStep,
    WorkGuide,
    new_guide_version,
    publish_guide,
)
from shuangsui.registry.domain.items import ItemRuleError
from shuangsui.registry.service.items import may_read_draft, may_write, rule_problem


async def _owner(uow: UnitOfWork, item_id: UUID) -> str:
    family = await repo.item_owner(uow.session, item_id)
    if family is None:
        raise p.Problem(p.NOT_FOUND, "no such item")
    return family


async def draft_guide(
    uow: UnitOfWork,
    item_id: UUID,
    steps: Sequence[GuideStep],
    evidence_requirements: Sequence[str],
    record_form_schema: Mapping[str, Any],
    by: Principal,
) -> WorkGuide:
    async with uow:
        family = await _owner(uow, item_id)
        if not may_write(by, family):
            raise p.Problem(p.FORBIDDEN, f"the guide of this item is written by list {family}")
        existing = await repo.guides_of(uow.session, item_id, lock=True)
        try:
            guide = new_guide_version(
                existing,
                guide_id=uuid.uuid4(),
                item_id=item_id,
                steps=steps,
                evidence_requirements=evidence_requirements,
                record_form_schema=record_form_schema,
            )
        except ItemRuleError as exc:
            raise rule_problem(exc) from None
        await repo.insert_guide(uow.session, guide, by.sub)
        await uow.commit()
    return guide


async def publish(uow: UnitOfWork, item_id: UUID, version: int, by: Principal) -> WorkGuide:
    async with uow:
        family = await _owner(uow, item_id)
        guide = _one(await repo.guides_of(uow.session, item_id, lock=True), version, by, family)
        if not may_write(by, family):
            raise p.Problem(p.FORBIDDEN, f"the guide of this item is written by list {family}")
        try:
            published = publish_guide(guide, datetime.now(UTC))
        except ItemRuleError as exc:
            raise rule_problem(exc) from None
        await repo.save_guide_status(uow.session, published)
        assert published.published_at is not None
        for event in guide_events(published):
            uow.record(Outgoing(event, subject=str(published.guide_id), actor=by.sub))
        await uow.commit()
    return published


def guide_events(guide: WorkGuide) -> tuple[GuidePublished, GuidePublishedV2]:
    """v1 for the consumers that read it, v2 carrying the guide itself (docs/events.md)."""
    v1 = GuidePublished(
        guide_id=guide.guide_id,
        item_id=guide.item_id,
        version=guide.version,
        published_at=guide.published_at,
    )
    v2 = GuidePublishedV2.model_validate(
        {
            **dict(v1),
            "steps": [{"title": s.title, "checkpoints": list(s.checkpoints)} for s in guide.steps],
            "evidence_requirements": list(guide.evidence_requirements),
            "record_form_schema": dict(guide.record_form_schema),
        }
    )
    return v1, v2


async def guides(uow: UnitOfWork, item_id: UUID, by: Principal | None) -> list[WorkGuide]:
    async with uow:
        family = await _owner(uow, item_id)
        found = await repo.guides_of(uow.session, item_id)
    drafts_too = may_read_draft(by, family)
    return [g for g in found if drafts_too or g.status is GuideStatus.published]


async def guide(uow: UnitOfWork, item_id: UUID, version: int, by: Principal | None) -> WorkGuide:
    async with uow:
        family = await _owner(uow, item_id)
        return _one(await repo.guides_of(uow.session, item_id), version, by, family)


def _one(found: Sequence[WorkGuide], version: int, by: Principal | None, family: str) -> WorkGuide:
    match = next((g for g in found if g.version == version), None)
    if match is None or (match.status is GuideStatus.draft and not may_read_draft(by, family)):
        raise p.Problem(p.NOT_FOUND, "no such guide version")
    return match
