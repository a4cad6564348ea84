"""HTTP: risk-ratio policies (风险分类抽查比例与频次, R11) — set, read, list, and the policy
that applies to a department's batches for an item and year."""

from __future__ import annotations

import re
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role, require
from shuangsui.kernel.concurrency import IF_MATCH, etag_of
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import Page, PageRequest, page_request
from shuangsui.kernel.responses import problem_responses
from shuangsui.messaging.platform import unit_of_work
from shuangsui.planning.domain.policies import (
    ClassRule,
    Holder,
    Policy,
    PolicyKey,
    PolicyRecord,
    PolicyViolation,
    Source,
    read_class_rule,
)
from shuangsui.planning.domain.population import RISK_CLASSES
from shuangsui.planning.service import policies as use_cases

router = APIRouter(prefix="/api/v1/planning", tags=["policies · 风险分类抽查比例"])

WRITERS = require(Role.provincial_admin, Role.department_admin)  # national_admin always passes
READERS = require(Role.provincial_admin, Role.department_admin, Role.partner_admin, Role.auditor)

RiskClass = Literal["A", "B", "C", "D"]
_PROVINCE_REGION = re.compile(r"[1-9][0-9]0000")

CLASSES_EXAMPLE: dict[str, Any] = {
    "A": {"min_ratio": "0%", "max_ratio": "5%", "frequency_per_year": 1},
    "B": {"min_ratio": "5%", "max_ratio": "20%", "frequency_per_year": 1},
    "C": {"min_ratio": "20%", "max_ratio": "60%", "frequency_per_year": 2},
    "D": {"min_ratio": "3/5", "max_ratio": "1/1", "frequency_per_year": 2},
}


class ClassRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_ratio: str = Field(
        max_length=40, description="Lowest ratio a batch may draw: `5%`, `2.5%` or a fraction "
        "`1/20` · 最低抽查比例", examples=["5%"],
    )  # fmt: skip
    max_ratio: str = Field(
        max_length=40, description="Highest ratio, as `min_ratio` · 最高抽查比例", examples=["20%"]
    )
    frequency_per_year: int = Field(
        strict=True,
        description="Most batches a year that sample the class for one item (a whole number, "
        "0–52) · 抽查频次",
        examples=[1],
    )


class PolicyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"classes": CLASSES_EXAMPLE, "unclassified_treatment": "B"}]
        },
    )

    classes: dict[str, ClassRuleIn] = Field(
        max_length=8,
        description="Each credit risk class A (lowest risk) … D (highest), all four · 风险分类",
    )
    unclassified_treatment: str = Field(
        "B", max_length=8,
        description="The class unclassified subjects (e.g. new registrations) are drawn as "
        "(Q4: B) · 未分类对象按此类抽取",
    )  # fmt: skip

    def to_policy(self, key: PolicyKey) -> Policy:
        classes: dict[str, ClassRule] = {}
        errors: list[PolicyViolation] = []
        for risk_class, given in self.classes.items():
            rule, problems = read_class_rule(
                risk_class, given.min_ratio, given.max_ratio, given.frequency_per_year
            )
            errors += problems
            if rule is not None:
                classes[risk_class] = rule
        if errors:
            raise use_cases.refuse_invalid(errors)
        return Policy(key, classes, self.unclassified_treatment)


class ClassRuleOut(BaseModel):
    min_ratio: str = Field(description="Reduced fraction (B.4): 5% = `1/20` · 最低抽查比例")
    max_ratio: str = Field(description="Reduced fraction (B.4) · 最高抽查比例")
    frequency_per_year: int = Field(description="Batches a year at most · 抽查频次")

    @classmethod
    def of(cls, rule: ClassRule) -> ClassRuleOut:
        return cls(
            min_ratio=str(rule.min_ratio), max_ratio=str(rule.max_ratio),
            frequency_per_year=rule.frequency_per_year,
        )  # fmt: skip


class PolicyOut(BaseModel):
    policy_id: UUID | None = Field(
        description="Stable id; null for the platform default · 策略标识"
    )
    holder: Holder = Field(description="national 国家默认 / province 省级 / org 部门")
    province: str | None = Field(description="2-digit province code · 省份")
    org_id: UUID | None = Field(description="The department, for an org's policy · 部门")
    effective_year: int = Field(description="The plan year it governs · 年度")
    item_id: UUID | None = Field(description="The item it is specific to (R13) · 抽查事项")
    classes: dict[RiskClass, ClassRuleOut] = Field(description="Per risk class · 风险分类")
    unclassified_treatment: str = Field(description="Unclassified drawn as · 未分类对象按此类抽取")
    version: int | None = Field(description="Version (the ETag); null for the platform default")
    updated_by: str | None = Field(description="Who set it last · 设定人")

    @classmethod
    def of(cls, policy: Policy, record: PolicyRecord | None = None) -> PolicyOut:
        key = policy.key
        return cls(
            policy_id=record.policy_id if record else None, holder=key.holder,
            province=key.province, org_id=key.org_id, effective_year=key.effective_year,
            item_id=key.item_id,
            classes={c: ClassRuleOut.of(policy.rule(c)) for c in RISK_CLASSES},
            unclassified_treatment=policy.unclassified_treatment,
            version=record.version if record else None,
            updated_by=record.updated_by if record else None,
        )  # fmt: skip


class EffectivePolicyOut(BaseModel):
    source: Source = Field(
        description="Which policy applied, most specific first: org_item, province_item, org, "
        "province, national, platform_default · 适用依据"
    )
    policy: PolicyOut


def _key(effective_year: int, holder: str, item_id: UUID | None) -> PolicyKey:
    """`holder` in a path: `national`, a province's region code (`330000`) or an org's id."""
    if holder == Holder.national.value:
        return PolicyKey(Holder.national, effective_year, item_id=item_id)
    if _PROVINCE_REGION.fullmatch(holder):
        return PolicyKey(Holder.province, effective_year, province=holder[:2], item_id=item_id)
    try:
        org_id = UUID(holder)
    except ValueError:
        raise p.Problem(
            p.VALIDATION,
            errors=[p.FieldError("holder", "national, a province's code (330000) or an org id")],
        ) from None
    return PolicyKey(Holder.org, effective_year, province=None, org_id=org_id, item_id=item_id)


def _with_province(key: PolicyKey, by: Principal) -> PolicyKey:
    """An org's policy lives in its department's province: the caller's (a writer of another
    province is refused by the use case, a reader finds nothing)."""
    if key.holder is not Holder.org:
        return key
    return PolicyKey(key.holder, key.effective_year, by.province, key.org_id, key.item_id)


YEAR_PATH = Path(ge=2000, le=2999, description="Plan year · 年度", examples=[2026])
HOLDER_PATH = Path(
    max_length=36,
    description="`national` (国家默认), a province's region code such as `330000` (省级), or "
    "a department's org id (部门)",
    examples=["330000"],
)
ITEM_QUERY = Query(None, description="For this item only, e.g. a key-supervision item · 抽查事项")


def path_key(
    effective_year: int = YEAR_PATH, holder: str = HOLDER_PATH, item_id: UUID | None = ITEM_QUERY
) -> PolicyKey:
    """The policy a path names (its province, for an org's, is the caller's: `_with_province`)."""
    return _key(effective_year, holder, item_id)


def _one(policy: Policy, record: PolicyRecord, response: Response) -> PolicyOut:
    response.headers["ETag"] = etag_of(record.version)
    return PolicyOut.of(policy, record)


@router.put(
    "/policies/{effective_year}/{holder}",
    operation_id="planning_policies_upsert",
    response_model=PolicyOut,
    summary="设定风险分类抽查比例 · Create or replace a risk-ratio policy",
    description="Sets, for one plan year, each credit risk class's range of ratios (抽查比例) "
    "and most batches a year (抽查频次): the national default (`holder=national`, national "
    "admin), a province's (`330000`, provincial admin; with `item_id` for one item, e.g. a "
    "key-supervision item), or a department's (its org id, that department's admin). Creates "
    "(201) or replaces (200): replacing needs `If-Match` with the ETag last read (428 without "
    "it, 412 when stale); sending the stored policy again changes nothing. Ratios are `5%` or "
    "`1/20`, stored as reduced fractions (B.4). Refused with `risk-ratio-policy-not-valid` "
    "naming the rule and class: a ratio outside 0–100%, `min_ratio` above `max_ratio`, a "
    "riskier class with a lower minimum, maximum or frequency than a safer one. Each change is "
    "announced as `planning.policy.upserted.v1` with the state before it.",
    responses={
        201: {"model": PolicyOut, "description": "Created · 已创建"},
        **problem_responses(
            p.FORBIDDEN,
            p.PRECONDITION_FAILED,
            p.PRECONDITION_REQUIRED,
            use_cases.POLICY_NOT_VALID,
            p.VALIDATION,
        ),
    },
)
async def upsert(
    body: PolicyIn,
    response: Response,
    named: PolicyKey = Depends(path_key),
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(WRITERS),
) -> PolicyOut:
    key = _with_province(named, by)
    record, created = await use_cases.upsert_policy(uow, body.to_policy(key), if_match, by)
    response.status_code = 201 if created else 200
    return _one(record.policy, record, response)


@router.get(
    "/policies",
    operation_id="planning_policies_list",
    response_model=Page[PolicyOut],
    summary="风险分类抽查比例列表 · List risk-ratio policies",
    description="The policies you may see, in key order (year, holder, item): the national "
    "defaults, your province's, and the departments' within your region (and your own). "
    "Another province's are never listed.",
)
async def list_policies(
    year: int | None = Query(None, ge=2000, le=2999, description="Plan year · 年度"),
    holder: Holder | None = Query(None, description="national / province / org · 设定层级"),
    org_id: UUID | None = Query(None, description="One department's · 部门"),
    item_id: UUID | None = Query(None, description="One item's · 抽查事项"),
    page: PageRequest = Depends(page_request),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(READERS),
) -> Page[PolicyOut]:
    asked = use_cases.PolicyQuery(year=year, holder=holder, org_id=org_id, item_id=item_id)
    rows = await use_cases.list_policies(uow, by, asked, page.position("key", str), page.limit + 1)
    items, cursor = page.page(rows, lambda r: {"key": r.policy.key.text})
    return Page[PolicyOut](items=[PolicyOut.of(r.policy, r) for r in items], next_cursor=cursor)


@router.get(
    "/policies:effective",
    operation_id="planning_policies_effective",
    response_model=EffectivePolicyOut,
    summary="适用的风险分类抽查比例 · The policy that applies",
    description="The policy a batch of a department (`org_id`, default yours) for an item "
    "(`item_id`, optional) in a plan year must keep, and which one it is (`source`), most "
    "specific first: the department's for that item, the province's for that item, the "
    "department's, the province's, the national default, and the platform default of DOMAIN.md "
    "Q3 (A 0–5%, B 5–20%, C 20–60%, D 60–100%; 1, 1, 2, 2 batches a year) when none is set.",
    responses=problem_responses(descriptions={404: "No such org in your region · 未找到"}),
)
async def effective(
    year: int = Query(ge=2000, le=2999, description="Plan year · 年度"),
    org_id: UUID | None = Query(None, description="The department; default yours · 部门"),
    item_id: UUID | None = ITEM_QUERY,
    province: str | None = Query(
        None,
        pattern="^[1-6][0-9]$",
        description="2-digit province code, for national callers; default the org's, else "
        "yours · 省份",
        examples=["33"],
    ),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(READERS),
) -> EffectivePolicyOut:
    found = await use_cases.effective_policy_for(
        uow, by, year=year, org_id=org_id, item_id=item_id, province=province
    )
    return EffectivePolicyOut(source=found.source, policy=PolicyOut.of(found.policy, found.record))


@router.delete(
    "/policies/{effective_year}/{holder}",
    operation_id="planning_policies_delete",
    status_code=204,
    summary="撤销风险分类抽查比例 · Withdraw a risk-ratio policy",
    description="Withdraws a stored policy (If-Match required): the batches it governed fall "
    "back to the next, less specific policy (an item's to the general one, a department's to "
    "its province's, down to the platform default). Whoever may set it may withdraw it. "
    "Announced as `planning.policy.deleted.v1` with the classes it held.",
    responses=problem_responses(
        p.FORBIDDEN,
        p.PRECONDITION_FAILED,
        p.PRECONDITION_REQUIRED,
        descriptions={404: "No such policy · 未找到"},
    ),
)
async def delete(
    named: PolicyKey = Depends(path_key),
    if_match: str | None = IF_MATCH,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(WRITERS),
) -> Response:
    key = _with_province(named, by)
    await use_cases.delete_policy(uow, key, if_match, by)
    return Response(status_code=204)


@router.get(
    "/policies/{effective_year}/{holder}",
    operation_id="planning_policies_get",
    response_model=PolicyOut,
    summary="查看风险分类抽查比例 · Get a risk-ratio policy",
    description="One stored policy, with its `ETag` (send it as `If-Match` to replace it).",
    responses=problem_responses(p.VALIDATION, descriptions={404: "No such policy · 未找到"}),
)
async def get_policy(
    response: Response,
    named: PolicyKey = Depends(path_key),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(READERS),
) -> PolicyOut:
    key = _with_province(named, by)
    record = await use_cases.get_policy(uow, key, by)
    return _one(record.policy, record, response)
