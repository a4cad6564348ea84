"""Use cases of batches (抽查批次): add to a draft plan version, edit, delete, cancel through an
adjustment, read; and what the plan's own steps do to them (submission checks them, publication
publishes them, discarding an adjustment withdraws its cancellations).

A batch is checked against planning's own read models only — the catalogue's items and orgs and
the risk-ratio policies — inside the transaction that stores it, so what is stored always kept
every rule when it was stored, and publication checks it again against what holds then.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.contracts.events.planning_batches import BatchCancelled
from shuangsui.contracts.workdays import shanghai_date
from shuangsui.drawspec.model import Ratio
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role
from shuangsui.kernel.concurrency import check_if_match
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import PageRequest
from shuangsui.kernel.service_client import ServiceClient
from shuangsui.messaging.envelope import Outgoing
from shuangsui.planning.adapters import batches as repo
from shuangsui.planning.adapters import catalogue as catalogue_repo
from shuangsui.planning.adapters import plans as plans_repo
from shuangsui.planning.domain import batch_records as records
from shuangsui.planning.domain import plans as plan_rules
from shuangsui.planning.domain.batch_events import (
    PolicyFacts,
    Publication,
    cancelled_payload,
    published_payload,
)
from shuangsui.planning.domain.batch_facts import item_facts_of, org_facts_of, partner_types_of
from shuangsui.planning.domain.batch_lifecycle import (
    BatchRuleError,
    BatchStatus,
    batch_code,
)
from shuangsui.planning.domain.batch_overlap import (
    BatchFootprint,
    Overlap,
    footprint_of,
    footprint_of_draft,
    overlapping_pairs,
)
from shuangsui.planning.domain.batch_preview import BatchPreview
from shuangsui.planning.domain.batch_records import Batch, Invitation
from shuangsui.planning.domain.batch_values import (
    BatchDraft,
    BatchRefused,
    Breach,
    ItemFacts,
    OrgFacts,
    PlanFacts,
    RiskClass,
    ValidBatch,
)
from shuangsui.planning.domain.batches import validate_draft
from shuangsui.planning.domain.plans import PlanStatus, PlanVersion, Relation
from shuangsui.planning.domain.plans_diff import BatchSummary
from shuangsui.planning.domain.population import UNCLASSIFIED_DRAWN_AS, parse_ratio
from shuangsui.planning.service.batches_preview import preview_batch
from shuangsui.planning.service.catalogue import items_in_force_in
from shuangsui.planning.service.plans_access import Loaded, load_version, org_uuid
from shuangsui.planning.service.policies import ensure_batch_keeps_policies

BATCH_REFUSED = p.problem_type(
    "batch-refused", 422, "The batch breaks a rule · 批次不符合规则",
    "The batch was not stored: `breaches` lists every rule it breaks with its stable code "
    "(docs/planning.md lists them) and `errors` the fields concerned. Items that need different "
    "lead qualifications come with a `proposed_split`.",
)  # fmt: skip
BATCH_TRANSITION = p.problem_type(
    "batch-transition", 409, "Not allowed in the batch's state · 批次当前状态不允许此操作",
    "Only a draft batch of a draft plan version is edited or deleted; a published batch is "
    "cancelled through a plan adjustment (R7); `detail` names the rule.",
)  # fmt: skip

PUBLIC_STATUSES = tuple(s.value for s in BatchStatus if s is not BatchStatus.draft)


def _now() -> datetime:
    return datetime.now(UTC)


def refused(breaches: Sequence[Breach], batch_id: UUID | None = None) -> p.Problem:
    extras: dict[str, Any] = {"batch_id": str(batch_id)} if batch_id else {}
    return p.Problem(
        BATCH_REFUSED,
        "; ".join(f"{b.field}: {b.reason}" for b in breaches),
        errors=[p.FieldError(b.field, f"{b.reason} ({b.rule})") for b in breaches],
        breaches=[
            {
                "rule": b.rule, "field": b.field, "reason": b.reason,
                "proposed_split": [
                    {"lead_qualification": g.lead_qualification,
                     "item_ids": [str(i) for i in g.item_ids]}
                    for g in b.proposed_split
                ],
            }
            for b in breaches
        ],
        **extras,
    )  # fmt: skip


def rule_problem(error: BatchRuleError) -> p.Problem:
    kind = BATCH_TRANSITION if error.rule == "batch-transition" else p.VALIDATION
    errors = [p.FieldError(error.field, error.reason)] if error.field else None
    return p.Problem(kind, error.reason, errors=errors)


# ---- the facts a batch is checked against --------------------------------------------------


@dataclass(frozen=True)
class Checked:
    valid: ValidBatch
    invitations: tuple[Invitation, ...]
    policies: dict[UUID, PolicyFacts]


async def _lead(s: AsyncSession, org_id: UUID) -> OrgFacts:
    org = await catalogue_repo.org(s, org_id)
    if org is None:
        raise p.Problem(p.VALIDATION, f"org {org_id} is not in planning's catalogue (yet)")
    return org_facts_of(org, await catalogue_repo.station_codes_of(s, org_id))


async def check(
    s: AsyncSession, plan: PlanVersion, draft: BatchDraft, before: Sequence[Invitation] = ()
) -> Checked:
    """Every rule of the batch against the catalogue and the policies as they stand; raises
    `batch-refused` (or the policies' `risk-ratio-policy-breached`) with what is broken."""
    lead = await _lead(s, plan.org_id)
    in_force = await items_in_force_in(
        s, plan.region_code, plan.level.value, draft.window_start, draft.item_ids
    )
    items = {i: item_facts_of(f, lead_department_type=lead.department_type)
             for i, f in in_force.items()}  # fmt: skip
    found = await catalogue_repo.orgs(s, draft.participant_org_ids)
    participants = {i: org_facts_of(o) for i, o in found.items()}
    facts = PlanFacts(plan.plan_id, plan.org_id, plan.year)
    try:
        valid = validate_draft(draft, plan=facts, lead=lead, items=items, participants=participants)
    except BatchRefused as exc:
        raise refused(exc.breaches) from None
    partner_types = {i: partner_types_of(f) for i, f in in_force.items()}
    invitations, breaches = records.invitations_for(
        draft, lead, valid.items, partner_types, valid.participants, before
    )
    if breaches:
        raise refused(breaches)
    applied = await ensure_batch_keeps_policies(
        s,
        province=plan.region_code[:2],
        org_id=plan.org_id,
        year=plan.year,
        item_ids=draft.item_ids,
        quantities_per_class={s.stratum: s.rule for s in valid.strata},
        item_min_ratios=_min_ratios(valid.items),
    )
    policies = {
        item_id: PolicyFacts(
            policy_id=found.record.policy_id if found.record else None,
            source=found.source.value,
            unclassified_drawn_as=_risk_class(found.policy.unclassified_treatment),
        )
        for item_id, found in applied.items()
        if item_id is not None
    }
    return Checked(valid, invitations, policies)


def _min_ratios(items: Sequence[ItemFacts]) -> dict[UUID, Ratio]:
    return {i.item_id: i.min_ratio for i in items if i.min_ratio is not None}


def _risk_class(value: str) -> RiskClass:
    if value not in ("A", "B", "C", "D"):
        raise ValueError(f"{value!r} is not a risk class")  # the policy's own rules refuse it
    return cast(RiskClass, value)


# ---- who the caller is to a batch ------------------------------------------------------------


async def _draft_version(uow: UnitOfWork, plan_id: UUID, version: int, by: Principal) -> Loaded:
    """The plan version a batch is written in: the caller's own, and a draft."""
    loaded = await load_version(uow, plan_id, version, by, lock=True)
    if loaded.relation is not Relation.owner:
        raise p.Problem(p.FORBIDDEN, "only the department that owns the plan writes its batches")
    if loaded.plan.status is not PlanStatus.draft:
        raise p.Problem(
            BATCH_TRANSITION,
            f"plan version {version} is {loaded.plan.status}: batches are added and edited in a "
            "draft version (adjust a published plan first, R7)",
        )
    return loaded


async def _own_batch(
    uow: UnitOfWork, batch_id: UUID, if_match: str | None, by: Principal
) -> tuple[Batch, Loaded]:
    found = await readable(uow, batch_id, by)
    loaded = await load_version(uow, found.plan_id, None, by, lock=True)
    if loaded.relation is not Relation.owner:
        raise p.Problem(p.FORBIDDEN, "only the department that owns the plan writes its batches")
    batch = await repo.get(uow.session, batch_id, lock=True)
    assert batch is not None
    check_if_match(if_match, batch.revision)
    return batch, loaded


async def _may_read(uow: UnitOfWork, batch: Batch, by: Principal | None) -> bool:
    if batch.status is not BatchStatus.draft:
        return True
    if by is None:
        return False
    if by.is_national:
        return True
    own = org_uuid(by)
    if own is not None and (own == batch.org_id or own in batch.invited_org_ids):
        return True
    try:
        await load_version(uow, batch.plan_id, batch.added_in_version, by, lock=False)
    except p.Problem:
        return False
    return True


def _working_of(loaded: Loaded) -> PlanVersion | None:
    return next((v for v in loaded.versions if v.status is PlanStatus.draft), None)


# ---- commands ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    batch: Batch
    overlaps: list[Overlap]


async def _overlaps(
    s: AsyncSession, plan: PlanVersion, batch_id: UUID, footprint: BatchFootprint
) -> list[Overlap]:
    """R10: the org's other live batches of the year that could visit the same subjects while
    both windows are open."""
    others = [b for b in await repo.of_org_year(s, plan.org_id, plan.year)
              if b.batch_id != batch_id and b.cancelled_in_version is None]  # fmt: skip
    prints = [footprint, *(footprint_of_draft(b.batch_id, b.draft, b.batch_code) for b in others)]
    return [
        o for o in overlapping_pairs(prints) if batch_id in (o.first.batch_id, o.second.batch_id)
    ]


async def create_batch(
    uow: UnitOfWork, plan_id: UUID, version: int, draft: BatchDraft, by: Principal
) -> Written:
    async with uow:
        s = uow.session
        loaded = await _draft_version(uow, plan_id, version, by)
        checked = await check(s, loaded.plan, draft)
        batch = Batch(
            batch_id=uuid.uuid4(), plan_id=plan_id, added_in_version=version,
            org_id=loaded.plan.org_id, draft=draft, status=BatchStatus.draft, revision=1,
            invitations=checked.invitations,
        )  # fmt: skip
        await repo.insert(
            s, batch, region_code=loaded.plan.region_code, year=loaded.plan.year, by=by.sub
        )
        overlaps = await _overlaps(
            s, loaded.plan, batch.batch_id, footprint_of(batch.batch_id, checked.valid)
        )
        await uow.commit()
    stored = await get_batch(uow, batch.batch_id, by)
    return Written(stored, overlaps)


async def update_batch(
    uow: UnitOfWork, batch_id: UUID, draft: BatchDraft, if_match: str | None, by: Principal
) -> Written:
    """Replaces a draft batch's content; the partners' answers stand where their items did not
    change."""
    async with uow:
        s = uow.session
        batch, _ = await _own_batch(uow, batch_id, if_match, by)
        loaded = await _draft_version(uow, batch.plan_id, batch.added_in_version, by)
        checked = await check(s, loaded.plan, draft, batch.invitations)
        try:
            changed = records.edited(batch, draft, checked.invitations)
        except BatchRuleError as exc:
            raise rule_problem(exc) from None
        await repo.save(s, changed, by.sub)
        overlaps = await _overlaps(s, loaded.plan, batch_id, footprint_of(batch_id, checked.valid))
        await uow.commit()
    return Written(await get_batch(uow, batch_id, by), overlaps)


async def delete_batch(
    uow: UnitOfWork, batch_id: UUID, if_match: str | None, by: Principal
) -> None:
    """A draft batch was never public: it goes without a trace."""
    async with uow:
        batch, _ = await _own_batch(uow, batch_id, if_match, by)
        if batch.status is not BatchStatus.draft:
            raise p.Problem(
                BATCH_TRANSITION,
                f"a {batch.status} batch is not deleted: cancel it in an adjustment (R7)",
            )
        await _draft_version(uow, batch.plan_id, batch.added_in_version, by)
        await repo.delete(uow.session, batch_id)
        await uow.commit()


async def cancel_batch(
    uow: UnitOfWork, batch_id: UUID, reason: str | None, if_match: str | None, by: Principal
) -> Batch:
    """R7: a published batch is cancelled by a plan adjustment. The cancellation is recorded in
    the plan's draft adjustment and takes effect when that version is published."""
    async with uow:
        batch, loaded = await _own_batch(uow, batch_id, if_match, by)
        working = _working_of(loaded)
        if working is None or working.version <= batch.added_in_version:
            raise p.Problem(
                BATCH_TRANSITION,
                "a published batch is cancelled by an adjustment of its plan (R7): adjust the "
                "plan (planning_plans_adjust), cancel the batch in the new draft version, then "
                "submit, file and publish it",
            )
        try:
            changed = records.cancellation_requested(
                batch, in_version=working.version, reason=reason
            )
        except BatchRuleError as exc:
            raise rule_problem(exc) from None
        await repo.save(uow.session, changed, by.sub)
        await uow.commit()
    return changed


async def respond_to_invitation(
    uow: UnitOfWork,
    batch_id: UUID,
    org_id: UUID,
    *,
    accept: bool,
    item_ids: Sequence[UUID],
    reason: str | None,
    if_match: str | None,
    by: Principal,
) -> Batch:
    """R20: the partner department's admin confirms the items its department checks in the
    batch, or declines; the lead cannot submit its plan until every partner confirmed."""
    if Role.partner_admin not in by.roles or org_uuid(by) != org_id:
        raise p.Problem(
            p.FORBIDDEN, "an invitation is answered by the partner_admin of the invited org"
        )
    async with uow:
        s = uow.session
        found = await repo.get(s, batch_id)
        if found is None or org_id not in found.invited_org_ids:
            raise p.Problem(p.NOT_FOUND, "no such invitation")
        # The plan's rows first, as every batch change takes them: no deadlock with the lead.
        versions = await plans_repo.versions_of(s, found.plan_id, lock=True)
        plan = next(v for v in versions if v.version == found.added_in_version)
        batch = await repo.get(s, batch_id, lock=True)
        assert batch is not None
        invitation = next((i for i in batch.invitations if i.org_id == org_id), None)
        if invitation is None:  # the lead took the org out meanwhile
            raise p.Problem(p.NOT_FOUND, "no such invitation")
        check_if_match(if_match, batch.revision)
        if batch.status is not BatchStatus.draft or plan.status is not PlanStatus.draft:
            raise p.Problem(
                BATCH_TRANSITION,
                "an invitation is answered while the batch is a draft of a draft plan version",
            )
        try:
            answered = records.responded(
                invitation, accept=accept, item_ids=item_ids, reason=reason, by=by.sub,
                at=_now(),
            )  # fmt: skip
        except BatchRuleError as exc:
            raise rule_problem(exc) from None
        changed = records.answered(batch, answered)
        await repo.save(s, changed, by.sub)
        await uow.commit()
    return changed


# ---- reads -----------------------------------------------------------------------------------


async def get_batch(uow: UnitOfWork, batch_id: UUID, by: Principal | None) -> Batch:
    async with uow:
        return await readable(uow, batch_id, by)


async def readable(uow: UnitOfWork, batch_id: UUID, by: Principal | None) -> Batch:
    """The batch if `by` may read it, inside an open unit of work; 404 otherwise."""
    batch = await repo.get(uow.session, batch_id)
    if batch is None or not await _may_read(uow, batch, by):
        raise p.Problem(p.NOT_FOUND, "no such batch")
    return batch


@dataclass(frozen=True)
class BatchFilters:
    plan_id: UUID | None = None
    year: int | None = None
    org_id: UUID | None = None
    status: BatchStatus | None = None
    invited_org_id: UUID | None = None


def _visibility(by: Principal | None) -> sa.ColumnElement[bool]:
    own = org_uuid(by)
    roles = by.roles if by is not None else frozenset()
    return repo.visibility(
        everything=by is not None and by.is_national,
        public=PUBLIC_STATUSES,
        shown_to_superior=[s.value for s in plan_rules.SHOWN_TO_SUPERIOR],
        own_org=own if Role.department_admin in roles or Role.partner_admin in roles else None,
        invited_org=own if Role.partner_admin in roles else None,
        province_prefix=by.province if by is not None and Role.provincial_admin in roles else None,
        subordinates_of=own if Role.department_admin in roles else None,
    )


async def list_batches(
    uow: UnitOfWork, by: Principal | None, filters: BatchFilters, page: PageRequest
) -> tuple[list[Batch], str | None]:
    """Batches in window order: the published ones for everyone; drafts for their department,
    its superiors, and the partners invited to them."""
    c = repo.batches.c
    wanted = [
        clause
        for value, clause in (
            (filters.plan_id, c.plan_id == filters.plan_id),
            (filters.year, c.year == filters.year),
            (filters.org_id, c.org_id == filters.org_id),
            (filters.status, c.status == (filters.status or "")),
            (filters.invited_org_id, sa.any_(c.invited_org_ids) == filters.invited_org_id),
        )
        if value is not None
    ]
    start, last = page.position("window_start", str), page.position("batch_id", str)
    after = (start, last) if start is not None and last is not None else None
    async with uow:
        rows = await repo.list_batches(uow.session, _visibility(by), wanted, after, page.limit + 1)
    return page.page(
        rows, lambda b: {"window_start": b.draft.window_start.isoformat(),
                         "batch_id": str(b.batch_id)},
    )  # fmt: skip


async def preview(
    uow: UnitOfWork, registry: ServiceClient, batch_id: UUID, by: Principal
) -> BatchPreview:
    """R12 before committing: the population per stratum and the expected sample, as the
    registry counts now. The batch is checked again first (a preview of a batch that no longer
    keeps its rules says which); the registry is asked outside any transaction."""
    async with uow:
        batch = await readable(uow, batch_id, by)
        versions = await plans_repo.versions_of(uow.session, batch.plan_id)
        plan = next(v for v in versions if v.version == batch.added_in_version)
        checked = await check(uow.session, plan, batch.draft, batch.invitations)
    treatments = {f.unclassified_drawn_as for f in checked.policies.values()}
    drawn_as = treatments.pop() if len(treatments) == 1 else UNCLASSIFIED_DRAWN_AS
    return await preview_batch(registry, batch.draft, unclassified_drawn_as=drawn_as)


async def overlaps_of(uow: UnitOfWork, batch: Batch) -> list[Overlap]:
    async with uow:
        versions = await plans_repo.versions_of(uow.session, batch.plan_id)
        plan = next(v for v in versions if v.version == batch.added_in_version)
        footprint = footprint_of_draft(batch.batch_id, batch.draft, batch.batch_code)
        return await _overlaps(uow.session, plan, batch.batch_id, footprint)


# ---- what the plan's steps do to its batches ---------------------------------------------------


def version_batches(all_batches: Sequence[Batch], version: int) -> list[Batch]:
    return [b for b in all_batches if b.in_version(version)]


def summary_of(batch: Batch, version: int) -> BatchSummary:
    """The batch as plan version `version` holds it: a batch a later version cancelled was
    still live in this one."""
    draft = batch.draft
    status = batch.status
    if status is BatchStatus.cancelled and batch.cancelled_from and batch.in_version(version):
        status = batch.cancelled_from
    return BatchSummary(
        batch_id=batch.batch_id,
        batch_code=batch.batch_code or "",
        status=status.value,
        window_start=draft.window_start,
        window_end=draft.window_end,
        item_ids=draft.item_ids,
        region_codes=draft.scope.region_codes,
        subject_types=draft.scope.subject_types,
        tag_filters=draft.scope.tag_filters,
        risk_classes=draft.scope.risk_classes,
        quantity={
            c: str(parse_ratio(v)) if isinstance(v, str) else v
            for c, v in sorted(draft.quantity.items())
        },
        name=draft.name,
        joint_kind=draft.joint_kind.value,
        industry_codes=draft.scope.industry_codes,
    )


async def summaries(s: AsyncSession, plan: PlanVersion) -> list[BatchSummary]:
    held = version_batches(await repo.of_plan(s, plan.plan_id), plan.version)
    return [summary_of(b, plan.version) for b in held]


async def open_count(s: AsyncSession, plan: PlanVersion) -> int:
    live = version_batches(await repo.of_plan(s, plan.plan_id), plan.version)
    return sum(1 for b in live if b.status not in (BatchStatus.completed, BatchStatus.cancelled))


async def ensure_submittable(s: AsyncSession, plan: PlanVersion) -> None:
    """§5.1: a plan goes to its superior with at least one batch (an adjustment may cancel the
    last one: a plan can be wound down), every new batch still keeping its rules (items in
    force, R1) and with every partner's confirmation (R20)."""
    live = version_batches(await repo.of_plan(s, plan.plan_id), plan.version)
    if not live and plan.supersedes_version is None:
        raise p.Problem(
            BATCH_TRANSITION,
            "a plan is submitted with at least one batch (§5.1): add one first",
        )
    for batch in live:
        if batch.status is not BatchStatus.draft:
            continue
        await _checked_again(s, plan, batch)
        waiting = records.unconfirmed(batch)
        if waiting:
            raise p.Problem(
                BATCH_TRANSITION,
                f"batch {batch.draft.name!r} waits for its partners' confirmation (R20): "
                + ", ".join(f"{i.org_id} ({i.status})" for i in waiting),
                batch_id=str(batch.batch_id),
            )


async def _checked_again(s: AsyncSession, plan: PlanVersion, batch: Batch) -> Checked:
    try:
        return await check(s, plan, batch.draft, batch.invitations)
    except p.Problem as exc:
        exc.extensions.setdefault("batch_id", str(batch.batch_id))
        raise


async def publish_version_batches(
    uow: UnitOfWork, plan: PlanVersion, actor: str, now: datetime
) -> None:
    """The version's new batches are published (code, event with all a draw needs) and the
    cancellations it carries take effect (event), in the plan's own transaction."""
    s = uow.session
    for batch in await repo.of_plan(s, plan.plan_id, lock=True):
        if batch.added_in_version == plan.version and batch.status is BatchStatus.draft:
            await _publish(uow, plan, batch, actor, now)
        elif batch.cancelled_in_version == plan.version and batch.cancellation_pending:
            await _cancel(uow, batch, actor, now)


async def _publish(
    uow: UnitOfWork, plan: PlanVersion, batch: Batch, actor: str, now: datetime
) -> None:
    s = uow.session
    checked = await _checked_again(s, plan, batch)
    lead = checked.valid.lead
    code = batch_code(lead.region_code, now, await repo.next_code_sequence(s, lead.region_code,
                                                                          shanghai_date(now)))  # fmt: skip
    try:
        payload = published_payload(
            checked.valid,
            Publication(batch.batch_id, code, plan.plan_code, plan.version, checked.policies, now),
        )
    except BatchRefused as exc:
        raise refused(exc.breaches, batch.batch_id) from None
    done = records.published(batch, batch_code=code, plan_version=plan.version, at=now)
    await repo.save(s, done, actor, published=payload.model_dump(mode="json"))
    uow.record(Outgoing(payload, subject=str(batch.batch_id), actor=actor))


async def _cancel(uow: UnitOfWork, batch: Batch, actor: str, now: datetime) -> None:
    done = records.cancelled(batch, at=now)
    assert batch.batch_code is not None
    assert done.cancel_reason is not None
    payload: BatchCancelled = cancelled_payload(
        batch_id=batch.batch_id, batch_code=batch.batch_code, plan_id=batch.plan_id,
        reason=done.cancel_reason, cancelled_from=batch.status, cancelled_at=now,
    )  # fmt: skip
    await repo.save(uow.session, done, actor)
    uow.record(Outgoing(payload, subject=str(batch.batch_id), actor=actor))


async def discard_version_batches(s: AsyncSession, plan: PlanVersion, actor: str) -> None:
    """A discarded version's new batches go; the cancellations it asked for are withdrawn."""
    await repo.delete_drafts_of(s, plan.plan_id, plan.version)
    for batch in await repo.of_plan(s, plan.plan_id, lock=True):
        if batch.cancelled_in_version == plan.version and batch.cancellation_pending:
            await repo.save(s, records.cancellation_withdrawn(batch), actor)
