"""Recusals of a completed draw's team members (R19, DRAW_SPEC §9, B.8): declared by the
inspector, the subject or their department, decided by another person; an accepted one is
applied to the draw's bundle and result, and `sampling.replacement.made.v1` recorded, in one
transaction under the draw's row lock."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from uuid import UUID, uuid4

from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role
from shuangsui.kernel.db import UnitOfWork
from shuangsui.messaging.envelope import Outgoing
from shuangsui.sampling.adapters import draws as repo
from shuangsui.sampling.adapters import recusals as recusals_repo
from shuangsui.sampling.adapters import subjects as subjects_repo
from shuangsui.sampling.adapters.draws import StoredDraw
from shuangsui.sampling.adapters.recusals import OpenDeclarationExists
from shuangsui.sampling.domain import recusals as rules
from shuangsui.sampling.domain.draw_events import Approval, replacement_made
from shuangsui.sampling.domain.draws import Draw, DrawRuleError
from shuangsui.sampling.domain.recusals import Cause, DeclaredAs, Recusal, RecusalStatus
from shuangsui.sampling.service import draw_access as access

RECUSAL_REFUSED = p.problem_type(
    "recusal-refused", 422, "The recusal breaks a rule · 回避申请不符合规则",
    "Nothing was stored: `rule` is `E_RECUSAL` (DRAW_SPEC §9: the subject has no team, or the "
    "inspector is not on its current team), `recusal-note` or `recusal-decision-reason`, and "
    "`field` the input.",
)  # fmt: skip
RECUSAL_STATE = p.problem_type(
    "recusal-state", 409, "Not allowed in the draw's or recusal's state · 当前状态不允许此回避操作",
    "`rule` names it: `recusal-draw-not-completed` (the draw is not completed, or voided), "
    "`recusal-open` (the same declaration is open already), `recusal-decided` (a decision is "
    "final).",
)  # fmt: skip
_STATE_RULES = frozenset({"recusal-draw-not-completed", "recusal-open", "recusal-decided"})

DECLARERS = (Role.inspector, Role.enterprise, Role.department_admin)
# Who decides (R19, as for a void): an admin of the draw's department or an auditor of its
# province, never who declared.
DECIDERS = (Role.department_admin, Role.auditor)


def _now() -> datetime:
    """To the microsecond (not the draw documents' second): a draw's declarations are listed in
    the order they came."""
    return datetime.now(UTC)


def _problem(error: DrawRuleError) -> p.Problem:
    if error.rule == "recusal-approver":
        return p.Problem(p.FORBIDDEN, error.reason, rule=error.rule, field=error.field)
    kind = RECUSAL_STATE if error.rule in _STATE_RULES else RECUSAL_REFUSED
    return p.Problem(kind, error.reason, rule=error.rule, field=error.field)


def _in_province(by: Principal, stored: StoredDraw) -> bool:
    return by.province == stored.region_code[:2]


def _of_department(by: Principal, stored: StoredDraw) -> bool:
    """An admin of the batch's lead department, or of the department whose teams it drew."""
    departments = {stored.lead_org_id, stored.draw.org_id}
    return by.has_any_role(Role.department_admin) and access.own_org(by) in departments


def decides(by: Principal | None, stored: StoredDraw) -> bool:
    if by is None or not _in_province(by, stored):
        return False
    return _of_department(by, stored) or by.has_any_role(Role.auditor)


def _declared_as(by: Principal, stored: StoredDraw, declared: DeclarationIn) -> DeclaredAs | None:
    """On whose behalf `by` may declare: the inspector themself (the token's `sub` is the
    registry's inspector_id, as the registry's own conflict declarations assume), the subject
    (an `enterprise` token whose `uscc` is the subject), or their department's admin."""
    if not _in_province(by, stored):
        return None
    if _of_department(by, stored):
        return DeclaredAs.department
    if by.has_any_role(Role.inspector) and by.sub == declared.inspector_id:
        return DeclaredAs.inspector
    if by.has_any_role(Role.enterprise) and by.uscc == declared.subject_id:
        return DeclaredAs.subject
    return None


@dataclass(frozen=True)
class DeclarationIn:
    subject_id: str
    inspector_id: str
    cause: Cause
    note: str | None = None


async def declare_recusal(
    uow: UnitOfWork, draw_id: UUID, declared: DeclarationIn, by: Principal,
    *, now: datetime | None = None,
) -> Recusal:  # fmt: skip
    """Store a declaration for the subject's current team; it changes nothing until decided."""
    at = now or _now()
    async with uow:
        stored = await access.seen_by(uow, draw_id, by)
        declared_as = _declared_as(by, stored, declared)
        if declared_as is None:
            raise p.Problem(
                p.FORBIDDEN, "a recusal is declared by the inspector, the subject, or the draw's "
                "department's admin for them",
            )  # fmt: skip
        try:
            recusal = rules.declare(
                uuid4(), stored.draw, declared.subject_id, declared.inspector_id,
                declared.cause, declared.note, by.sub, declared_as, at,
            )  # fmt: skip
        except DrawRuleError as error:
            raise _problem(error) from None
        try:
            await recusals_repo.insert(uow.session, recusal)
        except OpenDeclarationExists:
            raise p.Problem(
                RECUSAL_STATE, f"inspector {declared.inspector_id} already has an open recusal "
                f"for {declared.subject_id}", rule="recusal-open", field="inspector_id",
            ) from None  # fmt: skip
        await uow.commit()
    return recusal


async def decide_recusal(
    uow: UnitOfWork, draw_id: UUID, recusal_id: UUID, accept: bool, reason: str | None,
    by: Principal, *, now: datetime | None = None,
) -> Recusal:  # fmt: skip
    """Accept or reject, with a reason; final. An accepted recusal is appended to the draw's
    list, the bundle and result are recomputed by the verifier (`domain.recusals.apply_to`)
    and stored with the draw's next revision, and `sampling.replacement.made.v1` recorded: all
    in one transaction, so a refusal stores nothing."""
    at = now or _now()
    async with uow:
        # Locked as every draw write locks (the batch first), so a void cannot interleave.
        _, stored = await access.locked(
            uow, draw_id, by, lambda seen: decides(by, seen),
            "a recusal is decided by an admin of the draw's department or an auditor of its "
            "province",
        )  # fmt: skip
        recusal = await recusals_repo.recusal(uow.session, recusal_id, lock=True)
        if recusal is None or recusal.draw_id != draw_id:
            raise p.Problem(p.NOT_FOUND, f"no recusal {recusal_id} of draw {stored.draw.draw_code}")
        try:
            decided = recusal.decide(accept, reason, by.sub, at)
            if decided.status is RecusalStatus.accepted:
                draw, decided = rules.apply_to(stored.draw, decided)
        except DrawRuleError as error:
            raise _problem(error) from None
        await recusals_repo.update(uow.session, decided)
        if decided.status is RecusalStatus.accepted:
            await repo.update(uow.session, replace(stored, draw=draw))
            uow.record(await _replacement_event(uow, stored, draw, decided))
        await uow.commit()
    return decided


async def _replacement_event(
    uow: UnitOfWork, stored: StoredDraw, draw: Draw, recusal: Recusal
) -> Outgoing:
    assert recusal.sequence is not None
    assert recusal.decided_by is not None
    assert recusal.decided_at is not None
    ids = await subjects_repo.subject_ids(uow.session, [recusal.subject_id])
    approval = Approval(
        recusal.cause.value, recusal.declared_by, recusal.decided_by, recusal.decided_at
    )
    event = replacement_made(draw, ids, recusal.sequence - 1, approval)
    return Outgoing(event, subject=str(stored.draw.batch_id), actor=recusal.decided_by)


@dataclass(frozen=True)
class Listed:
    recusals: list[Recusal]
    full: bool  # the department's or an auditor's view: notes, declarers, open and rejected


async def list_recusals(uow: UnitOfWork, draw_id: UUID, by: Principal | None) -> Listed:
    """The draw's recusals: to anyone the accepted ones (opaque inspector ids, as the bundle);
    to its department and the province's auditors every one, with notes and who declared."""
    async with uow:
        stored = await access.seen_by(uow, draw_id, by)
        found = await recusals_repo.of_draw(uow.session, draw_id)
    full = decides(by, stored)
    if not full:
        found = [r for r in found if r.status is RecusalStatus.accepted]
    return Listed(found, full)
