"""Recusals as the API takes and shows them (R19, DRAW_SPEC §9, B.8)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, cast
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shuangsui.sampling.domain.recusals import NOTE_MAX, Cause, DeclaredAs, Recusal, RecusalStatus
from shuangsui.sampling.service.recusals import DeclarationIn

_REASON = "recusal 回避 · unavailable 无法到岗 · cert_invalid 执法证失效 (B.8) (原因)"
_USCC = "91330106MA2B3C4D5E"
Role = Literal["lead", "member"]
Vacancy = Literal["insufficient_candidates", "no_qualified_lead"]
_INSPECTOR = "4a1b2c3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


class RecusalIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "subject_id": _USCC, "inspector_id": _INSPECTOR, "reason": "recusal",
            "note": "检查人员配偶在该企业任职",
        }]},
    )  # fmt: skip

    subject_id: str = Field(
        min_length=1, max_length=100, description="The subject's USCC, as in the draw (B.1) "
        "(检查对象统一社会信用代码)",
    )  # fmt: skip
    inspector_id: str = Field(
        min_length=1, max_length=100,
        description="The inspector's opaque id, as in the bundle (检查人员标识)",
    )  # fmt: skip
    reason: Cause = Field(description=_REASON)
    note: str | None = Field(
        None, max_length=NOTE_MAX,
        description="What the declarer says; shown to the department and auditors only (说明)",
    )  # fmt: skip

    def declaration(self) -> DeclarationIn:
        return DeclarationIn(self.subject_id, self.inspector_id, self.reason, self.note)


class DecisionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"accept": True, "reason": "经核实存在利害关系，同意回避"}]
        },
    )

    accept: bool = Field(description="true: accept and replace · false: reject (是否同意)")
    reason: str = Field(min_length=1, max_length=2000, description="Why (决定理由)")


class RecusalOut(BaseModel):
    """A recusal. Inspectors appear by opaque id only; the note, who declared and who decided
    are shown to the draw's department and the province's auditors only (null to others)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "recusal_id": "9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
            "draw_id": "6e2f1a7c-3b5d-4e8f-9a0b-1c2d3e4f5a6b", "subject_id": _USCC,
            "inspector_id": _INSPECTOR, "reason": "recusal", "status": "accepted", "sequence": 1,
            "role": "lead", "replacement_inspector_id": "6c3d4e5f-7a8b-4c9d-0e1f-2a3b4c5d6e7f",
            "cap": 3, "infeasible": None, "manual_procedure": False,
            "declared_at": "2026-03-22T02:00:00Z", "decided_at": "2026-03-22T03:00:00Z",
            "note": "检查人员配偶在该企业任职", "declared_by": "u-9a10",
            "declared_as": "inspector", "decided_by": "u-5d1e",
            "decision_reason": "经核实存在利害关系，同意回避",
        }]},
    )  # fmt: skip

    recusal_id: UUID = Field(description="回避申请标识")
    draw_id: UUID = Field(description="抽取标识")
    subject_id: str = Field(description="统一社会信用代码")
    inspector_id: str = Field(description="Opaque id of who leaves the team (回避人员)")
    reason: Cause = Field(description=_REASON)
    status: RecusalStatus = Field(
        description="declared 已申请 · accepted 已同意 · rejected 已驳回 (状态)"
    )
    sequence: int | None = Field(
        description="Place in the bundle's `recusals`, 1-based, once accepted (替换序号)"
    )
    role: Role | None = Field(description="lead 组长 · member 组员 (角色)")
    replacement_inspector_id: str | None = Field(
        description="Who took the place (§9); null if none was left (替换人员)"
    )
    cap: int | None = Field(description="The load cap §9 used (负载上限)")
    infeasible: Vacancy | None = Field(description="Why the place stays vacant (空缺原因)")
    manual_procedure: bool = Field(
        description="The place is vacant: the department assigns by recorded decision (R18) "
        "(需人工指派)"
    )
    declared_at: datetime = Field(description="申请时间")
    decided_at: datetime | None = Field(description="决定时间")
    note: str | None = Field(description="说明 (department and auditors only)")
    declared_by: str | None = Field(description="申请人 (department and auditors only)")
    declared_as: DeclaredAs | None = Field(
        description="inspector 本人 · subject 检查对象 · department 部门代为 (department and "
        "auditors only) (申请方)"
    )
    decided_by: str | None = Field(description="决定人 (department and auditors only)")
    decision_reason: str | None = Field(description="决定理由 (department and auditors only)")

    @classmethod
    def of(cls, recusal: Recusal, full: bool) -> RecusalOut:
        made = recusal.replacement or {}
        came, role = made.get("replacement"), made.get("role")
        infeasible, cap = made.get("infeasible"), made.get("cap")
        return cls(
            recusal_id=recusal.recusal_id, draw_id=recusal.draw_id,
            subject_id=recusal.subject_id, inspector_id=recusal.inspector_id,
            reason=recusal.cause, status=recusal.status, sequence=recusal.sequence,
            role=cast(Role | None, role),
            replacement_inspector_id=None if came is None else str(came),
            cap=cap if isinstance(cap, int) else None,
            infeasible=cast(Vacancy | None, infeasible),
            manual_procedure=recusal.vacant, declared_at=recusal.declared_at,
            decided_at=recusal.decided_at,
            note=recusal.note if full else None,
            declared_by=recusal.declared_by if full else None,
            declared_as=recusal.declared_as if full else None,
            decided_by=recusal.decided_by if full else None,
            decision_reason=recusal.decision_reason if full else None,
        )  # fmt: skip


class RecusalsOut(BaseModel):
    items: list[RecusalOut] = Field(
        description="Accepted ones in their list order, then the open and rejected ones (回避)"
    )
