"""HTTP: station staff's tag corrections (标签纠正) and their review."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role, require
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.idempotency import IdempotencyKey, idempotency_key
from shuangsui.kernel.pagination import Page, PageRequest, page_request
from shuangsui.kernel.param_types import UsccFilter, UsccPath
from shuangsui.kernel.responses import problem_responses
from shuangsui.messaging.platform import unit_of_work
from shuangsui.registry.adapters.tag_corrections import Found
from shuangsui.registry.domain.tag_corrections import (
    MAX_NOTE_LENGTH,
    MAX_REASON_LENGTH,
    MAX_TAGS,
    CorrectionStatus,
    Decision,
)
from shuangsui.registry.service.tag_corrections import (
    CORRECTION_DECIDED,
    CORRECTION_PENDING,
    REVIEWERS,
    decide_correction,
    get_correction,
    list_corrections,
    propose_correction,
)

router = APIRouter(prefix="/api/v1/registry", tags=["tag corrections · 标签纠正"])

READERS = (*REVIEWERS, Role.station_staff, Role.auditor)
TAG = "`dimension:value`, dimension one of format 业态 / category 品类 / carrier 载体 / scale 规模"
_PROBLEMS = problem_responses(
    p.FORBIDDEN,
    p.NOT_FOUND,
    p.IDEMPOTENCY_IN_PROGRESS,
    CORRECTION_PENDING,
    CORRECTION_DECIDED,
    descriptions={
        403: "Not your station, not a reviewer, or your own proposal · 无权操作",
        404: "No such subject or correction in your region · 未找到",
        409: "Not awaiting review, or one already awaits review · 状态冲突",
    },
)

PROPOSAL_EXAMPLE: dict[str, Any] = {
    "add": ["format:餐饮服务"],
    "remove": ["format:食品销售"],
    "reason": "现场核查：该店以堂食为主，预包装食品仅少量代售",
}


class TagCorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [PROPOSAL_EXAMPLE]})

    add: list[str] = Field(
        default_factory=list, max_length=MAX_TAGS, description=f"Tags to add · 增加的标签: {TAG}"
    )
    remove: list[str] = Field(
        default_factory=list,
        max_length=MAX_TAGS,
        description=f"Tags to remove · 去除的标签: {TAG}. Nothing to add or remove lifts the "
        "correction in force (back to the rules' tags).",
    )
    reason: str = Field(
        max_length=MAX_REASON_LENGTH, description="Why the rules' tags are wrong · 纠正理由 (必填)"
    )


class DecisionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"note": "经核实，同意纠正"}]}
    )

    note: str = Field(default="", max_length=MAX_NOTE_LENGTH, description="审核意见 · Review note")


class RejectionIn(DecisionIn):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"note": "营业执照经营范围不含餐饮"}]}
    )

    note: str = Field(
        min_length=1,
        max_length=MAX_NOTE_LENGTH,
        description="Why not, for the proposer · 驳回理由 (必填)",
    )


class TagCorrectionOut(BaseModel):
    correction_id: UUID = Field(description="标签纠正编号")
    uscc: str = Field(description="统一社会信用代码")
    subject_name: str = Field(description="检查对象名称")
    region_code: str = Field(description="The subject's region now · 行政区划代码")
    unit_code: str | None = Field(description="The subject's station now · 监管所")
    status: CorrectionStatus = Field(
        description="proposed 待审核 / approved 已通过 / rejected 已驳回 / withdrawn 已撤回"
    )
    add: list[str] = Field(description="增加的标签", examples=[["format:餐饮服务"]])
    remove: list[str] = Field(description="去除的标签", examples=[["format:食品销售"]])
    reason: str = Field(description="纠正理由")
    proposed_by: str = Field(description="Proposer (token subject) · 提出人")
    proposed_at: datetime
    decided_by: str | None = Field(description="Reviewer, or the proposer who withdrew · 处理人")
    decided_at: datetime | None
    decision_note: str = Field(description="审核意见")
    in_force: bool = Field(
        description="The subject's tags follow it now; a later approved correction replaces it "
        "· 是否生效"
    )
    replaced_by: UUID | None = Field(description="The approved correction that replaced it")

    @classmethod
    def of(cls, found: Found) -> TagCorrectionOut:
        c, place = found.correction, found.place
        return cls(
            correction_id=c.correction_id, uscc=c.uscc, subject_name=place.name,
            region_code=place.region_code, unit_code=place.unit_code, status=c.status,
            add=list(c.add), remove=list(c.remove), reason=c.reason, proposed_by=c.proposed_by,
            proposed_at=c.proposed_at, decided_by=c.decided_by, decided_at=c.decided_at,
            decision_note=c.decision_note, in_force=c.in_force, replaced_by=c.replaced_by,
        )  # fmt: skip


@router.post(
    "/subjects/{uscc}/tag-corrections",
    operation_id="registry_tag_corrections_propose",
    status_code=201,
    response_model=TagCorrectionOut,
    summary="提出标签纠正 · Propose a tag correction",
    description="Station staff (站所工作人员) propose, for a subject their station supervises (its "
    "`unit_code` is the token's `station_code`, or `org_code` without one), tags to add and "
    "to remove, with a reason. Nothing changes until a department or provincial admin "
    "approves it. One proposal per subject awaits review at a time (409 "
    "`/problems/tag-correction-pending`). Bad tags are 422 naming `add[i]` / `remove[i]`. "
    "Send `Idempotency-Key` to make a retry harmless.",
    responses=_PROBLEMS,
)
async def propose(
    uscc: UsccPath,
    body: TagCorrectionIn,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(Role.station_staff)),
    idempotency: IdempotencyKey = Depends(idempotency_key("registry_tag_corrections_propose")),
) -> JSONResponse:
    async def run() -> TagCorrectionOut:
        found = await propose_correction(uow, uscc, body.add, body.remove, body.reason, by)
        return TagCorrectionOut.of(found)

    fingerprint = {"uscc": uscc, **body.model_dump(mode="json")}
    return await idempotency.run(uow, by, fingerprint, run, status_code=201)


@router.get(
    "/tag-corrections",
    operation_id="registry_tag_corrections_list",
    response_model=Page[TagCorrectionOut],
    summary="标签纠正列表 · List tag corrections",
    description="Newest first, for subjects within your region; station staff see their "
    "station's. Reviewers find their work with `status=proposed`.",
)
async def list_(
    status: CorrectionStatus | None = Query(
        None, description="proposed 待审核 / approved 已通过 / rejected 已驳回 / withdrawn 已撤回"
    ),
    uscc: UsccFilter = None,
    page: PageRequest = Depends(page_request),
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*READERS)),
) -> Page[TagCorrectionOut]:
    rows, cursor = await list_corrections(uow, by, status, uscc, page)
    return Page(items=[TagCorrectionOut.of(r) for r in rows], next_cursor=cursor)


@router.get(
    "/tag-corrections/{correction_id}",
    operation_id="registry_tag_corrections_get",
    response_model=TagCorrectionOut,
    summary="查询标签纠正 · Get a tag correction",
    responses=problem_responses(descriptions={404: "No such correction in your region · 未找到"}),
)
async def get(
    correction_id: UUID,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*READERS)),
) -> TagCorrectionOut:
    return TagCorrectionOut.of(await get_correction(uow, correction_id, by))


@router.post(
    "/tag-corrections/{correction_id}:approve",
    operation_id="registry_tag_corrections_approve",
    response_model=TagCorrectionOut,
    summary="通过标签纠正 · Approve a tag correction",
    description="A department or provincial admin of a region containing the subject, never "
    "the proposer. Applies at once: the subject's tags become (rule tags − removed) ∪ added, "
    "its items and population counts follow, and `registry.subject.tags_changed.v1` "
    "announces it. The correction replaces the one in force and stays in force under every "
    "later push and re-classification. 409 `/problems/tag-correction-decided` unless it is "
    "still proposed.",
    responses=_PROBLEMS,
)
async def approve(
    correction_id: UUID,
    body: DecisionIn | None = None,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*REVIEWERS)),
    idempotency: IdempotencyKey = Depends(idempotency_key("registry_tag_corrections_approve")),
) -> JSONResponse:
    note = body.note if body else ""
    return await _decide(uow, correction_id, Decision.approve, note, by, idempotency)


@router.post(
    "/tag-corrections/{correction_id}:reject",
    operation_id="registry_tag_corrections_reject",
    response_model=TagCorrectionOut,
    summary="驳回标签纠正 · Reject a tag correction",
    description="A reviewer as for approval; the note telling the proposer why is required. "
    "Nothing changes on the subject.",
    responses=_PROBLEMS,
)
async def reject(
    correction_id: UUID,
    body: RejectionIn,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(*REVIEWERS)),
    idempotency: IdempotencyKey = Depends(idempotency_key("registry_tag_corrections_reject")),
) -> JSONResponse:
    return await _decide(uow, correction_id, Decision.reject, body.note, by, idempotency)


@router.post(
    "/tag-corrections/{correction_id}:withdraw",
    operation_id="registry_tag_corrections_withdraw",
    response_model=TagCorrectionOut,
    summary="撤回标签纠正 · Withdraw a tag correction",
    description="Only its proposer, while it awaits review.",
    responses=_PROBLEMS,
)
async def withdraw(
    correction_id: UUID,
    body: DecisionIn | None = None,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(require(Role.station_staff)),
    idempotency: IdempotencyKey = Depends(idempotency_key("registry_tag_corrections_withdraw")),
) -> JSONResponse:
    note = body.note if body else ""
    return await _decide(uow, correction_id, Decision.withdraw, note, by, idempotency)


async def _decide(
    uow: UnitOfWork,
    correction_id: UUID,
    decision: Decision,
    note: str,
    by: Principal,
    idempotency: IdempotencyKey,
) -> JSONResponse:
    async def run() -> TagCorrectionOut:
        return TagCorrectionOut.of(await decide_correction(uow, correction_id, decision, note, by))

    fingerprint = {"correction_id": str(correction_id), "decision": decision.value, "note": note}
    return await idempotency.run(uow, by, fingerprint, run)
