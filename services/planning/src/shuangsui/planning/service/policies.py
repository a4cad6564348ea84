"""Risk-ratio policy use cases (R11, R13): set one, read and list them, find the one that
applies, and the refusal a batch gets when it breaks its policy.

Who writes what (DOMAIN.md §7): the national admin the national defaults; a provincial admin
its province's policies, general and item-specific; a department admin its own org's. Another
province's caller is refused every write (403) and sees none of that province's policies.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.contracts.events.planning_policies import (
    PolicyClassRule,
    PolicyDeleted,
    PolicyUpserted,
)
from shuangsui.drawspec.model import Ratio
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role, deployment_region
from shuangsui.kernel.concurrency import check_if_match
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.scope import RegionScope
from shuangsui.messaging.envelope import Outgoing
from shuangsui.planning.adapters import catalogue
from shuangsui.planning.adapters import policies as repo
from shuangsui.planning.domain.policies import (
    ClassRule,
    Holder,
    Policy,
    PolicyBreach,
    PolicyKey,
    PolicyRecord,
    PolicyViolation,
    Source,
    check_batch_quantities,
    check_batch_ratios,
    check_frequency,
    resolve,
    validate_policy,
)

POLICY_NOT_VALID = p.problem_type(
    "risk-ratio-policy-not-valid", 422, "Risk-ratio policy not valid · 风险分类抽查比例设置有误",
    "The policy breaks a rule of R11; `violations` names each rule and risk class, `errors` "
    "the fields. Nothing was stored.",
)  # fmt: skip
POLICY_BREACHED = p.problem_type(
    "risk-ratio-policy-breached", 422, "Batch breaks its risk-ratio policy · 批次不符合风险分类抽查比例",
    "A batch's ratios, counts or frequency lie outside the policy that applies to it (R11); "
    "`breaches` names each rule and class with the numbers, `policy_source` which policy "
    "applied. Nothing was stored.",
)  # fmt: skip


def refuse_invalid(violations: Sequence[PolicyViolation]) -> p.Problem:
    return p.Problem(
        POLICY_NOT_VALID,
        "; ".join(v.detail for v in violations),
        errors=[p.FieldError(v.field, f"{v.rule}: {v.detail}") for v in violations],
        violations=[{"rule": v.rule, "risk_class": v.risk_class, "field": v.field}
                    for v in violations],
    )  # fmt: skip


def refuse_breaches(breaches: Sequence[PolicyBreach], source: Source) -> p.Problem:
    """The problem a batch use case raises when `check_batch_*` or `check_frequency` found
    breaches: it names every rule and class with the numbers."""
    return p.Problem(
        POLICY_BREACHED,
        "; ".join(b.detail for b in breaches),
        breaches=[
            {
                "rule": b.rule.value, "risk_class": b.risk_class, "actual": b.actual,
                "limit": b.limit, "safer_class": b.safer_class,
                "item_id": str(b.item_id) if b.item_id else None, "population": b.population,
            }
            for b in breaches
        ],
        policy_source=source.value,
    )  # fmt: skip


def _may_write(key: PolicyKey, by: Principal) -> str:
    """The region a policy of `key` belongs to, if `by` may write it; 403 otherwise."""
    if key.holder is Holder.national:
        if by.is_national:
            return deployment_region("national")
        raise p.Problem(p.FORBIDDEN, "national default policies are set by the national admin")
    if by.is_national:
        raise p.Problem(
            p.FORBIDDEN, "the national admin sets national defaults; provinces and departments "
            "set their own policies",
        )  # fmt: skip
    if key.province != by.province:
        raise p.Problem(p.FORBIDDEN, f"province {key.province}'s policies are not yours to set")
    if key.holder is Holder.province:
        if by.has_any_role(Role.provincial_admin):
            return deployment_region(by.province)
        raise p.Problem(p.FORBIDDEN, "a province's policies are set by its provincial admin")
    if by.has_any_role(Role.department_admin) and _uuid_or_none(by.org_id) == key.org_id:
        return by.region_code
    raise p.Problem(p.FORBIDDEN, "a department's policy is set by that department's admin")


def _held(record: PolicyRecord) -> dict[str, Any]:
    key = record.policy.key
    return {
        "policy_id": record.policy_id, "holder": key.holder.value, "province": key.province,
        "org_id": key.org_id, "region_code": record.region_code,
        "effective_year": key.effective_year, "item_id": key.item_id,
    }  # fmt: skip


def _upserted(record: PolicyRecord, before: PolicyRecord | None, by: Principal) -> Outgoing:
    policy = record.policy
    payload = PolicyUpserted(
        **_held(record), classes=_classes_out(policy.classes),
        unclassified_treatment=policy.unclassified_treatment, version=record.version,
        previous=_classes_out(before.policy.classes) if before else None,
        previous_unclassified_treatment=before.policy.unclassified_treatment if before else None,
        changed_at=record.updated_at,
    )  # fmt: skip
    return Outgoing(payload, subject=str(record.policy_id), actor=by.sub)


def _deleted(record: PolicyRecord, by: Principal) -> Outgoing:
    payload = PolicyDeleted(
        **_held(record), version=record.version, previous=_classes_out(record.policy.classes),
        previous_unclassified_treatment=record.policy.unclassified_treatment,
        deleted_at=datetime.now(UTC),
    )  # fmt: skip
    return Outgoing(payload, subject=str(record.policy_id), actor=by.sub)


def _classes_out(classes: Mapping[str, ClassRule]) -> dict[str, PolicyClassRule]:
    return {
        c: PolicyClassRule(
            min_ratio=str(r.min_ratio),
            max_ratio=str(r.max_ratio),
            frequency_per_year=r.frequency_per_year,
        )
        for c, r in classes.items()
    }


async def upsert_policy(
    uow: UnitOfWork, policy: Policy, if_match: str | None, by: Principal
) -> tuple[PolicyRecord, bool]:
    """Create the policy, or replace it under If-Match; (the stored policy, whether created).

    The caller's right is checked before the policy's rules, so another province learns
    nothing of them. Sending the stored policy again changes nothing and needs no If-Match."""
    region = _may_write(policy.key, by)
    violations = validate_policy(policy)
    if violations:
        raise refuse_invalid(violations)
    async with uow:
        current = await repo.get(uow.session, policy.key, for_update=True)
        if current is None and if_match is not None:
            raise p.Problem(
                p.PRECONDITION_FAILED, "no such policy yet: send no If-Match to create it"
            )
        if current is not None:
            if if_match is None and current.policy == policy:
                return current, False
            check_if_match(if_match, current.version)
        record = PolicyRecord(
            policy_id=current.policy_id if current else uuid.uuid4(), policy=policy,
            region_code=region, version=current.version + 1 if current else 1,
            updated_by=by.sub, updated_at=datetime.now(UTC),
        )  # fmt: skip
        if current is None:
            if not await repo.insert_new(uow.session, record):
                raise p.Problem(
                    p.PRECONDITION_FAILED, "the policy was created meanwhile: read it and retry"
                )
        else:
            await repo.replace(uow.session, record)
        uow.record(_upserted(record, current, by))
        await uow.commit()
    return record, current is None


async def delete_policy(
    uow: UnitOfWork, key: PolicyKey, if_match: str | None, by: Principal
) -> None:
    """Withdraw a policy under If-Match: batches fall back to the next, less specific policy.
    Whoever may set it may withdraw it; the caller's right is checked before its existence."""
    _may_write(key, by)
    async with uow:
        current = await repo.get(uow.session, key, for_update=True)
        if current is None:
            raise p.Problem(p.NOT_FOUND, "no such policy")
        check_if_match(if_match, current.version)
        await repo.delete(uow.session, current.policy_id)
        uow.record(_deleted(current, by))
        await uow.commit()


def _filter_for(by: Principal) -> repo.PolicyFilter:
    scope = RegionScope.of(by)
    own = _uuid_or_none(by.org_id)
    return repo.PolicyFilter(province=None if by.is_national else by.province,
                             region_prefix=scope.prefix, own_org=own)  # fmt: skip


def _uuid_or_none(text: str | None) -> UUID | None:
    try:
        return UUID(text) if text else None
    except ValueError:
        return None  # a token naming its org by code holds no department policy


@dataclass(frozen=True)
class PolicyQuery:
    year: int | None = None
    holder: Holder | None = None
    org_id: UUID | None = None
    item_id: UUID | None = None


async def list_policies(
    uow: UnitOfWork, by: Principal, asked: PolicyQuery, after: str | None, limit: int
) -> list[PolicyRecord]:
    base = _filter_for(by)
    where = repo.PolicyFilter(
        base.province, base.region_prefix, base.own_org, year=asked.year, holder=asked.holder,
        org_id=asked.org_id, item_id=asked.item_id,
    )  # fmt: skip
    async with uow:
        return await repo.search(uow.session, where, after, limit)


def _visible(record: PolicyRecord, by: Principal) -> bool:
    key = record.policy.key
    if by.is_national or key.holder is Holder.national:
        return True
    if key.province != by.province:
        return False
    if key.holder is Holder.province:
        return True
    return RegionScope.of(by).allows(record.region_code) or _uuid_or_none(by.org_id) == key.org_id


async def get_policy(uow: UnitOfWork, key: PolicyKey, by: Principal) -> PolicyRecord:
    async with uow:
        found = await repo.get(uow.session, key)
    if found is None or not _visible(found, by):
        raise p.Problem(p.NOT_FOUND, "no such policy")
    return found


@dataclass(frozen=True)
class EffectivePolicy:
    policy: Policy
    source: Source
    record: PolicyRecord | None  # None: the platform default


async def effective_policy(
    session: AsyncSession, *, province: str, org_id: UUID | None, year: int, item_id: UUID | None
) -> EffectivePolicy:
    """The policy that applies to a batch, inside the caller's own transaction (a batch use
    case checks its batch with it before storing anything)."""
    stored = await repo.candidates(
        session, province=province, org_id=org_id, year=year, item_id=item_id
    )
    policy, source = resolve(
        [r.policy for r in stored], province=province, org_id=org_id, year=year, item_id=item_id
    )
    record = next((r for r in stored if r.policy is policy), None)
    return EffectivePolicy(policy, source, record)


async def effective_policy_for(
    uow: UnitOfWork,
    by: Principal,
    *,
    year: int,
    org_id: UUID | None,
    item_id: UUID | None,
    province: str | None = None,
) -> EffectivePolicy:
    """What applies to a batch of `org_id` (default: the caller's own org) for `item_id` in
    `year`, in `province` (default: the org's, else the caller's; only a national caller may
    name another). An org outside the caller's region is answered as a missing one (404)."""
    if province is not None and province != by.province and not by.is_national:
        raise p.Problem(p.FORBIDDEN, f"province {province}'s policies are not yours to read")
    org = org_id if org_id is not None else _uuid_or_none(by.org_id)
    async with uow:
        province = province or by.province
        if org is not None:
            known = await catalogue.org(uow.session, org)
            region = known.region_code if known is not None else None
            if region is None and org == _uuid_or_none(by.org_id):
                region = by.region_code
            if region is not None:
                RegionScope.of(by).ensure_visible(region, "org")
                province = region[:2]
        found = await effective_policy(
            uow.session, province=province, org_id=org, year=year, item_id=item_id
        )
    if found.record is not None and not _visible(found.record, by):
        raise p.Problem(p.NOT_FOUND, "no such org")
    return found


async def ensure_batch_keeps_policies(
    session: AsyncSession,
    *,
    province: str,
    org_id: UUID | None,
    year: int,
    item_ids: Sequence[UUID],
    quantities_per_class: Mapping[str, Ratio | int],
    item_min_ratios: Mapping[UUID, Ratio],
    stratum_sizes: Mapping[str, int] | None = None,
    batches_already_this_year: Mapping[str, int] | None = None,
) -> dict[UUID | None, EffectivePolicy]:
    """What a batch use case calls before it stores or publishes a batch: the batch keeps the
    policy of each of its items (a joint or multi-item batch keeps all of them), each item's
    floor, and, when given how many batches already sample each class for these items this
    year, the frequency. Raises `risk-ratio-policy-breached` at the first item whose policy
    is broken; answers the policy per item otherwise (None: a batch without items).

    Without `stratum_sizes` only ratios can be judged: a fixed count is judged once the
    population per stratum is known (the preview, or publishing)."""
    applied: dict[UUID | None, EffectivePolicy] = {}
    asked: list[UUID | None] = [*item_ids] or [None]
    for item_id in asked:
        found = await effective_policy(
            session, province=province, org_id=org_id, year=year, item_id=item_id
        )
        if stratum_sizes is None:
            ratios = {c: q for c, q in quantities_per_class.items() if isinstance(q, Ratio)}
            breaches = check_batch_ratios(found.policy, ratios, item_min_ratios)
        else:
            breaches = check_batch_quantities(
                found.policy, quantities_per_class, stratum_sizes, item_min_ratios
            )
        for risk_class, already in sorted((batches_already_this_year or {}).items()):
            if risk_class in quantities_per_class:
                frequency = check_frequency(found.policy, risk_class, already)
                breaches += [frequency] if frequency is not None else []
        if breaches:
            raise refuse_breaches(breaches, found.source)
        applied[item_id] = found
    return applied
