"""Use cases of the annual plans (年度抽查计划): create, edit, submit, file, publish, adjust,
discard, close, read, diff.

Who may do what (DOMAIN.md §7, issue 12): the department admin of the owning org writes its
plan (a national admin its national org's); the superior it files with (the department admin
of the parent org in the catalogue, or the province's provincial admin) sees it from
submission on and files it; everyone sees what was published. A version the caller may not
see looks exactly like a missing one.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from uuid import UUID

from sqlalchemy.exc import IntegrityError

from shuangsui.contracts.events.base import EventPayload
from shuangsui.contracts.events.planning_plans import (
    PlanAdjusted,
    PlanBatchSummary,
    PlanClosed,
    PlanFieldChange,
    PlanFiled,
    PlanPublished,
)
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role
from shuangsui.kernel.concurrency import check_if_match
from shuangsui.kernel.db import UnitOfWork
from shuangsui.messaging.envelope import Outgoing
from shuangsui.planning.adapters import catalogue
from shuangsui.planning.adapters import plans as repo
from shuangsui.planning.domain import plans as rules
from shuangsui.planning.domain.deadlines import default_deadline
from shuangsui.planning.domain.plans import (
    ContentChanges,
    PlanRuleError,
    PlanStatus,
    PlanVersion,
    Relation,
)
from shuangsui.planning.domain.plans_diff import BatchSummary, PlanDiff, plan_diff
from shuangsui.planning.service import batches
from shuangsui.planning.service.plans_access import (
    Loaded,
    load_version,
    writes_for_own_org,
)

PLAN_TRANSITION = p.problem_type(
    "plan-transition", 409, "Not allowed in the plan's state · 计划当前状态不允许此操作",
    "The annual plan's state machine refuses this step; `detail` names the rule, e.g. "
    "\"publishing needs a filed version\". Published versions never change: adjust the plan.",
)  # fmt: skip
PLAN_CONFLICT = p.problem_type(
    "plan-conflict", 409, "Conflicts with the org's plans · 与已有计划冲突",
    "An org has one plan per year with at most one version on its way: create or adjust "
    "refused because one exists already; `detail` names it.",
)  # fmt: skip
PLAN_CODE_EXHAUSTED = p.problem_type(
    "plan-code-exhausted", 409, "No plan code left · 计划编号已用尽",
    "The region has given out all 9999 plan codes of the year.",
)  # fmt: skip
PLAN_ORG = p.problem_type(
    "plan-org", 422, "The org cannot make a plan · 该机构不能编制计划",
    "The token's org is not in planning's catalogue of orgs (yet), is closed, or is a station "
    "(a station works in its county bureau's plan).",
)  # fmt: skip

_PROBLEMS = {
    "plan-transition": PLAN_TRANSITION,
    "plan-code-exhausted": PLAN_CODE_EXHAUSTED,
    "plan-org": PLAN_ORG,
}


def rule_problem(error: PlanRuleError) -> p.Problem:
    errors = [p.FieldError(error.field, error.reason)] if error.field else None
    return p.Problem(_PROBLEMS.get(error.rule, p.VALIDATION), error.reason, errors=errors)


def _now() -> datetime:
    return datetime.now(UTC)


def province_of(region_code: str) -> str:
    return f"{region_code[:2]}0000"


async def _owned(
    uow: UnitOfWork, plan_id: UUID, version: int, if_match: str | None, by: Principal
) -> Loaded:
    loaded = await load_version(uow, plan_id, version, by, lock=True)
    if loaded.relation is not Relation.owner:
        raise p.Problem(p.FORBIDDEN, "only the department that owns the plan may change it")
    check_if_match(if_match, loaded.plan.revision)
    return loaded


def _working(versions: Sequence[PlanVersion]) -> PlanVersion | None:
    return next((v for v in versions if v.status in rules.WORKING), None)


async def deadline_of(uow: UnitOfWork, region_code: str, year: int) -> tuple[date, bool]:
    configured = await repo.deadline(uow.session, province_of(region_code), year)
    return (configured, True) if configured else (default_deadline(year), False)


def _event(payload: EventPayload, plan: PlanVersion, by: Principal) -> Outgoing:
    return Outgoing(payload, subject=str(plan.plan_id), actor=by.sub)


# ---- commands -----------------------------------------------------------------------------


async def create_plan(
    uow: UnitOfWork,
    year: int,
    changes: ContentChanges,
    by: Principal,
) -> PlanVersion:
    own = writes_for_own_org(by)
    if own is None:
        raise p.Problem(
            p.FORBIDDEN, "a plan is made by the department admin of its org (token org_id)"
        )
    try:
        rules.check_year(year)
        content = rules.changed_content(year, changes, None)
    except PlanRuleError as exc:
        raise rule_problem(exc) from None
    async with uow:
        s = uow.session
        org = await catalogue.org(s, own)
        if org is None:
            raise p.Problem(
                PLAN_ORG, f"org {own} is not in planning's catalogue (yet)",
                errors=[p.FieldError("org_id", "unknown to planning's catalogue")],
            )  # fmt: skip
        try:
            rules.plan_level_of(org)
            # Taken first: its row lock serialises creates in the region and year.
            sequence = await repo.next_sequence(s, org.region_code, year)
            existing = await repo.existing_for(s, org.org_id, year)
            if existing:
                raise p.Problem(
                    PLAN_CONFLICT,
                    f"the org already has plan {existing[0].plan_code} for {year}",
                    plan_id=str(existing[0].plan_id),
                )
            plan = rules.new_plan(
                uuid.uuid4(), rules.plan_code(org.region_code, year, sequence), org, year, content
            )
        except PlanRuleError as exc:
            raise rule_problem(exc) from None
        try:
            await repo.insert_version(s, plan, by.sub)
            await uow.commit()
        except IntegrityError:
            raise p.Problem(PLAN_CONFLICT, f"the org already has a plan for {year}") from None
    return plan


async def _owner_step(
    uow: UnitOfWork,
    plan_id: UUID,
    version: int,
    if_match: str | None,
    by: Principal,
    change: Callable[[Loaded], Awaitable[PlanVersion]],
) -> PlanVersion:
    """A step the owning department takes that changes the version and records nothing."""
    async with uow:
        loaded = await _owned(uow, plan_id, version, if_match, by)
        try:
            plan = await change(loaded)
        except PlanRuleError as exc:
            raise rule_problem(exc) from None
        await repo.save_version(uow.session, plan, by.sub)
        await uow.commit()
    return plan


async def update_plan(
    uow: UnitOfWork,
    plan_id: UUID,
    version: int,
    changes: ContentChanges,
    if_match: str | None,
    by: Principal,
) -> PlanVersion:
    """Changes the content of a draft: the fields sent, the others as they are."""

    async def edit(loaded: Loaded) -> PlanVersion:
        rules.next_status(loaded.plan.status, rules.Action.edit)
        content = rules.changed_content(loaded.plan.year, changes, loaded.plan.content)
        return rules.edited(loaded.plan, content)

    return await _owner_step(uow, plan_id, version, if_match, by, edit)


async def submit_plan(
    uow: UnitOfWork, plan_id: UUID, version: int, if_match: str | None, by: Principal
) -> PlanVersion:
    async def submit(loaded: Loaded) -> PlanVersion:
        deadline, _ = await deadline_of(uow, loaded.plan.region_code, loaded.plan.year)
        plan = rules.submitted(loaded.plan, _now(), deadline)
        await batches.ensure_submittable(uow.session, loaded.plan)
        return plan

    return await _owner_step(uow, plan_id, version, if_match, by, submit)


async def discard_plan(
    uow: UnitOfWork, plan_id: UUID, version: int, if_match: str | None, by: Principal
) -> PlanVersion:
    async def discard(loaded: Loaded) -> PlanVersion:
        plan = rules.discarded(loaded.plan)
        await batches.discard_version_batches(uow.session, plan, by.sub)
        return plan

    return await _owner_step(uow, plan_id, version, if_match, by, discard)


async def file_plan(
    uow: UnitOfWork, plan_id: UUID, version: int, if_match: str | None, by: Principal
) -> PlanVersion:
    """The superior acknowledges (备案): it is informed, it does not approve (Q1)."""
    async with uow:
        loaded = await load_version(uow, plan_id, version, by, lock=True)
        if loaded.relation not in (Relation.superior, Relation.national):
            raise p.Problem(
                p.FORBIDDEN,
                "a plan is filed by its superior: the department admin of the parent org or "
                "the provincial admin",
            )
        check_if_match(if_match, loaded.plan.revision)
        parent = loaded.org.parent_org_id if loaded.org else None
        try:
            plan = rules.filed(loaded.plan, _now(), parent)
        except PlanRuleError as exc:
            raise rule_problem(exc) from None
        await repo.save_version(uow.session, plan, by.sub)
        assert plan.submitted_at is not None
        assert plan.filed_at is not None
        assert plan.deadline is not None
        uow.record(_event(PlanFiled(
            plan_id=plan.plan_id, plan_code=plan.plan_code, org_id=plan.org_id,
            level=plan.level.value, region_code=plan.region_code, year=plan.year,
            version=plan.version, filed_to_org_id=plan.filed_to_org_id,
            submitted_at=plan.submitted_at, filed_at=plan.filed_at, deadline=plan.deadline,
            late=plan.late,
        ), plan, by))  # fmt: skip
        await uow.commit()
    return plan


async def batch_summaries(uow: UnitOfWork, plan: PlanVersion) -> list[BatchSummary]:
    """What a version's batches are, for diffs and the published event."""
    return await batches.summaries(uow.session, plan)


def _summary_out(batch: BatchSummary) -> PlanBatchSummary:
    return PlanBatchSummary.model_validate(
        {
            "batch_id": batch.batch_id, "batch_code": batch.batch_code, "name": batch.name,
            "status": batch.status, "joint_kind": batch.joint_kind,
            "item_ids": list(batch.item_ids),
            "scope": {
                "region_codes": list(batch.region_codes),
                "subject_types": list(batch.subject_types),
                "tag_filters": list(batch.tag_filters),
                "industry_codes": list(batch.industry_codes),
                "risk_classes": list(batch.risk_classes),
            },
            "strata": [
                {"stratum": c, "ratio": None, "count": v} if isinstance(v, int)
                else {"stratum": c, "ratio": v, "count": None}
                for c, v in batch.quantity.items()
            ],
            "window_start": batch.window_start, "window_end": batch.window_end,
        }
    )  # fmt: skip


async def publish_plan(
    uow: UnitOfWork,
    plan_id: UUID,
    version: int,
    necips_ref: str | None,
    if_match: str | None,
    by: Principal,
) -> PlanVersion:
    async with uow:
        s = uow.session
        loaded = await _owned(uow, plan_id, version, if_match, by)
        deadline, _ = await deadline_of(uow, loaded.plan.region_code, loaded.plan.year)
        previous = next((v for v in loaded.versions if v.status is PlanStatus.published), None)
        try:
            plan = rules.published(
                loaded.plan, _now(), deadline, rules.necips_reference(necips_ref)
            )
            # The old version steps down first: one published version per (org, year).
            if previous is not None:
                await repo.save_version(s, rules.superseded(previous), by.sub)
        except PlanRuleError as exc:
            raise rule_problem(exc) from None
        await repo.save_version(s, plan, by.sub)
        assert plan.published_at
        await batches.publish_version_batches(uow, plan, by.sub, plan.published_at)
        summaries = await batch_summaries(uow, plan)
        uow.record(_event(PlanPublished(
            plan_id=plan.plan_id, plan_code=plan.plan_code, org_id=plan.org_id,
            level=plan.level.value, region_code=plan.region_code, year=plan.year,
            version=plan.version, title=plan.content.title,
            period_start=plan.content.period_start, period_end=plan.content.period_end,
            published_at=plan.published_at, late=plan.published_late,
            necips_ref=plan.necips_ref, supersedes_version=plan.supersedes_version,
            batches=[_summary_out(b) for b in summaries],
        ), plan, by))  # fmt: skip
        if previous is not None:
            diff = plan_diff(previous, plan, await batch_summaries(uow, previous), summaries)
            uow.record(_event(_adjusted(diff, plan), plan, by))
        await uow.commit()
    return plan


def _adjusted(diff: PlanDiff, plan: PlanVersion) -> PlanAdjusted:
    assert plan.published_at is not None
    assert diff.reason is not None
    return PlanAdjusted(
        plan_id=plan.plan_id, plan_code=plan.plan_code, org_id=plan.org_id, year=plan.year,
        old_version=diff.from_version, new_version=diff.to_version, reason=diff.reason,
        changed_fields=[
            PlanFieldChange(field=c.field, before=c.before, after=c.after)
            for c in diff.fields
        ],
        added_batch_ids=list(diff.batches.added),
        cancelled_batch_ids=list(diff.batches.cancelled),
        changed_batch_ids=list(diff.batches.changed),
        adjusted_at=plan.published_at,
    )  # fmt: skip


async def adjust_plan(
    uow: UnitOfWork,
    plan_id: UUID,
    version: int,
    reason: str,
    changes: ContentChanges,
    if_match: str | None,
    by: Principal,
) -> PlanVersion:
    """A new draft version of a published plan (R7); `changes` may set its content at once."""
    async with uow:
        loaded = await _owned(uow, plan_id, version, if_match, by)
        working = _working(loaded.versions)
        if working is not None and loaded.plan.status is PlanStatus.published:
            raise p.Problem(
                PLAN_CONFLICT, f"version {working.version} of this plan is already on its way "
                f"({working.status}): finish or discard it first",
            )  # fmt: skip
        try:
            rules.next_status(loaded.plan.status, rules.Action.adjust)
            content = rules.changed_content(loaded.plan.year, changes, loaded.plan.content)
            plan = rules.adjustment(
                loaded.plan, reason, content, latest_version=loaded.versions[-1].version
            )
        except PlanRuleError as exc:
            raise rule_problem(exc) from None
        try:
            await repo.insert_version(uow.session, plan, by.sub)
            await uow.commit()
        except IntegrityError:
            raise p.Problem(PLAN_CONFLICT, "another version is already on its way") from None
    return plan


async def open_batch_count(uow: UnitOfWork, plan: PlanVersion) -> int:
    """How many of the version's batches are not terminal (closing waits for them)."""
    return await batches.open_count(uow.session, plan)


async def close_plan(
    uow: UnitOfWork, plan_id: UUID, version: int, if_match: str | None, by: Principal
) -> PlanVersion:
    """After the plan's year, by the province (or the national admin)."""
    async with uow:
        loaded = await load_version(uow, plan_id, version, by, lock=True)
        allowed = by.is_national or (
            Role.provincial_admin in by.roles and loaded.plan.region_code[:2] == by.province
        )
        if not allowed:
            raise p.Problem(p.FORBIDDEN, "plans are closed by the provincial admin")
        check_if_match(if_match, loaded.plan.revision)
        working = _working(loaded.versions)
        try:
            rules.next_status(loaded.plan.status, rules.Action.close)
            if working is not None:
                raise PlanRuleError(
                    "plan-transition",
                    f"closing needs no adjustment on its way (version {working.version} is "
                    f"{working.status})",
                )
            plan = rules.closed(loaded.plan, _now(), await open_batch_count(uow, loaded.plan))
        except PlanRuleError as exc:
            raise rule_problem(exc) from None
        await repo.save_version(uow.session, plan, by.sub)
        assert plan.closed_at
        uow.record(_event(PlanClosed(
            plan_id=plan.plan_id, plan_code=plan.plan_code, org_id=plan.org_id,
            year=plan.year, version=plan.version, closed_at=plan.closed_at,
        ), plan, by))  # fmt: skip
        await uow.commit()
    return plan


async def publish_batch(
    uow: UnitOfWork, batch_id: UUID, necips_ref: str | None, if_match: str | None, by: Principal
) -> PlanVersion:
    """A batch is published by publishing the filed plan version that holds it (§5.2): the
    version goes public with every batch it adds. `If-Match` is the batch's ETag."""
    async with uow:
        batch = await batches.readable(uow, batch_id, by)
        check_if_match(if_match, batch.revision)
        loaded = await load_version(uow, batch.plan_id, batch.added_in_version, by, lock=False)
        revision = loaded.plan.revision
    return await publish_plan(
        uow, batch.plan_id, batch.added_in_version, necips_ref, f'"{revision}"', by
    )
