"""HTTP: recusals of a completed draw's team members (回避与替换, R19, DRAW_SPEC §9, B.8) —
declared by the inspector, the subject or their department, decided by another person."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path

from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, optional_principal, require
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.responses import problem_responses
from shuangsui.messaging.platform import unit_of_work
from shuangsui.sampling.api.draw_paths import DrawKey
from shuangsui.sampling.api.recusals_models import DecisionIn, RecusalIn, RecusalOut, RecusalsOut
from shuangsui.sampling.service import recusals as service

router = APIRouter(prefix="/api/v1/sampling", tags=["recusals · 回避与替换"])

declarers = require(*service.DECLARERS)
deciders = require(*service.DECIDERS)
RECUSAL_ID = Path(description="The recusal (回避申请标识)")


@router.post(
    "/draws/{draw_id}/recusals",
    operation_id="sampling_recusals_declare",
    response_model=RecusalOut,
    status_code=201,
    summary="申请回避 · Declare a recusal",
    description="An inspector leaves one subject's drawn team (R19, B.8: `recusal`, "
    "`unavailable` or `cert_invalid`). Declared by the inspector themself (role `inspector`, "
    "token `sub` = the inspector's id), by the subject (role `enterprise`, token `uscc` = "
    "`subject_id`), or by an admin of the draw's department for them. Nothing changes until "
    "another person decides. Refused: a draw not completed or voided "
    "(`recusal-draw-not-completed`), a subject not selected or without a team, an inspector "
    "not on the subject's current team (`E_RECUSAL`), the same declaration open already "
    "(`recusal-open`), anyone else (403).",
    responses=problem_responses(service.RECUSAL_REFUSED, service.RECUSAL_STATE, p.FORBIDDEN, 404),
)
async def declare_recusal(
    draw_id: DrawKey,
    body: RecusalIn,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(declarers),
) -> RecusalOut:
    declared = await service.declare_recusal(uow, draw_id, body.declaration(), by)
    return RecusalOut.of(declared, full=True)


@router.post(
    "/draws/{draw_id}/recusals/{recusal_id}:decide",
    operation_id="sampling_recusals_decide",
    response_model=RecusalOut,
    summary="决定回避 · Accept or reject a recusal",
    description="An admin of the draw's department or an auditor of its province, never who "
    "declared (403, `recusal-approver`), accepts or rejects with a reason; the decision is "
    "final (`recusal-decided`). Accepted, in one transaction: the recusal is appended to the "
    "bundle's `recusals` in approval order, the result recomputed by the verifier "
    "(`shuangsui.drawspec.verify_tree`, §9: `assignments` stay, `replacements` grows), the "
    "draw stored with its next revision (ETag), and `sampling.replacement.made.v1` recorded. "
    "When §9 finds nobody, the place stays vacant (`infeasible`, `manual_procedure`: R18).",
    responses=problem_responses(service.RECUSAL_REFUSED, service.RECUSAL_STATE, p.FORBIDDEN, 404),
)
async def decide_recusal(
    draw_id: DrawKey,
    recusal_id: Annotated[UUID, RECUSAL_ID],
    body: DecisionIn,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal = Depends(deciders),
) -> RecusalOut:
    decided = await service.decide_recusal(uow, draw_id, recusal_id, body.accept, body.reason, by)
    return RecusalOut.of(decided, full=True)


@router.get(
    "/draws/{draw_id}/recusals",
    operation_id="sampling_recusals_list",
    response_model=RecusalsOut,
    summary="回避与替换记录 · The draw's recusals",
    description="Public, no login: the accepted recusals in the bundle's order, with the "
    "replacement §9 made (inspectors by opaque id). The draw's department and the province's "
    "auditors also see the open and rejected ones, the notes, who declared and who decided.",
    responses=problem_responses(404),
)
async def list_recusals(
    draw_id: DrawKey,
    uow: UnitOfWork = Depends(unit_of_work),
    by: Principal | None = Depends(optional_principal),
) -> RecusalsOut:
    listed = await service.list_recusals(uow, draw_id, by)
    return RecusalsOut(items=[RecusalOut.of(r, listed.full) for r in listed.recusals])
