"""A draw's end states other than completion (R14, DRAW_SPEC §5.2, §14.2): failures (a reveal
missing at its deadline, a cancelled batch) and the two-step void of a completed draw. Each is
stored and its event recorded in one transaction, under the batch's then the draw's lock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role
from shuangsui.kernel.concurrency import check_if_match
from shuangsui.kernel.db import UnitOfWork
from shuangsui.messaging.envelope import Outgoing
from shuangsui.sampling.adapters import batches as batches_repo
from shuangsui.sampling.adapters import draws as repo
from shuangsui.sampling.adapters.draws import StoredDraw
from shuangsui.sampling.domain.draw_events import (
    draw_failed,
    draw_voided,
)
from shuangsui.sampling.domain.draws import (
    REASON_MAX,
    DrawAction,
    DrawRuleError,
    DrawStatus,
    FailReason,
    Failure,
    next_status,
)
from shuangsui.sampling.service import draw_access as access
from shuangsui.sampling.service import draw_batches

# ---- end states: failures and voiding (R14, DRAW_SPEC §5.2, §14.2) ---------------------------


def overdue(stored: StoredDraw, at: datetime) -> bool:
    """A committed draw past its deadline: a reveal missing (commit-reveal), or no round
    accepted (drand)."""
    if stored.draw.status is not DrawStatus.committed or stored.reveal_deadline is None:
        return False
    if stored.draw.beacon_source == "drand-quicknet":
        return at > stored.reveal_deadline
    return stored.draw.beacon_source == "commit-reveal" and access.exchange_of(stored).overdue(at)


def overdue_failure(stored: StoredDraw) -> Failure:
    if stored.draw.beacon_source == "drand-quicknet":
        return beacon_unavailable(stored)
    return missing_reveal(stored)


def beacon_unavailable(stored: StoredDraw) -> Failure:
    """§5.1: no verified round by the deadline; a new draw names a new round."""
    assert stored.reveal_deadline is not None
    assert stored.draw.commitment is not None
    beacon = stored.draw.commitment["beacon"]
    assert isinstance(beacon, dict)
    return Failure(
        FailReason.beacon_unavailable,
        detail=f"drand round {beacon['round']} not accepted by "
        f"{access.stamp(stored.reveal_deadline)}",
    )


def missing_reveal(stored: StoredDraw) -> Failure:
    assert stored.reveal_deadline is not None
    return Failure(
        FailReason.missing_reveal, access.exchange_of(stored).missing(),
        f"reveal deadline {access.stamp(stored.reveal_deadline)} passed",
    )  # fmt: skip


async def fail(
    uow: UnitOfWork, stored: StoredDraw, failure: Failure, at: datetime, actor: str
) -> StoredDraw:
    """Fail a draw locked by the caller and record `sampling.draw.failed.v1` with it: one
    transaction, so a failure is published exactly when it is stored."""
    draw = stored.draw.fail(failure)
    written = await repo.update(uow.session, replace(stored, draw=draw, ended_at=at))
    status = await draw_batches.follow_draws(uow, draw.batch_id, at)
    uow.record(Outgoing(draw_failed(draw, at, status), subject=str(draw.batch_id), actor=actor))
    return written


async def refuse_late(
    uow: UnitOfWork, stored: StoredDraw, at: datetime, actor: str, *, rule: str, field: str
) -> p.Problem:
    """A reveal or round after the deadline: the draw has failed (§5.1, §5.2), whoever notices
    first, and the failure is committed; the late step itself is refused with the answer this
    returns for the caller to raise."""
    assert stored.reveal_deadline is not None
    failure = overdue_failure(stored)
    await fail(uow, stored, failure, at, actor)
    await uow.commit()
    return p.Problem(
        access.DRAW_STATE, f"the deadline {access.stamp(stored.reveal_deadline)} has passed; the "
        f"draw failed ({failure.reason}) and is re-run as a new draw", rule=rule, field=field,
    )  # fmt: skip


async def fail_if_overdue(
    uow: UnitOfWork, draw_id: UUID, now: datetime | None = None
) -> StoredDraw | None:
    """Fail the draw if it is past its deadline with a reveal missing or, drand, no round
    accepted; None if not (anymore). Under the batch's then the draw's lock, and decided on
    the locked row: two workers, or a worker and a read, make one failure and one event."""
    at = now or access.now()
    async with uow:
        seen = await repo.draw(uow.session, draw_id)
        if seen is None:
            return None
        await batches_repo.batch_to_draw(uow.session, seen.draw.batch_id)
        stored = await repo.draw(uow.session, draw_id, lock=True)
        if stored is None or not overdue(stored, at):
            return None
        written = await fail(uow, stored, overdue_failure(stored), at, access.SYSTEM_ACTOR)
        await uow.commit()
    return written


async def fail_overdue_draws(
    new_uow: Callable[[], UnitOfWork], now: datetime | None = None
) -> list[StoredDraw]:
    """The sampling worker's periodic check: every committed commit-reveal draw past its reveal
    deadline without every reveal fails (`missing_reveal`, naming the parties), every drand
    draw past its deadline without an accepted round as `beacon_unavailable`, each in its own
    transaction."""
    at = now or access.now()
    async with new_uow() as uow:
        due = await repo.overdue(uow.session, at)
    failed = [await fail_if_overdue(new_uow(), draw_id, at) for draw_id in due]
    return [d for d in failed if d is not None]


async def fail_cancelled_batch(uow: UnitOfWork, batch_id: UUID, at: datetime) -> int:
    """In the consumer's transaction that stores planning's cancellation (the batch's row is
    locked by it): every draw of the batch not yet completed fails as `batch_cancelled` (R7). A
    redelivered cancellation finds them failed and records nothing."""
    failed = 0
    for draw_id in await repo.live_of_batch(uow.session, batch_id):
        stored = await repo.draw(uow.session, draw_id, lock=True)
        assert stored is not None
        if stored.draw.status not in (DrawStatus.prepared, DrawStatus.committed,
                                      DrawStatus.revealed):  # fmt: skip
            continue
        failure = Failure(FailReason.batch_cancelled, detail="planning cancelled the batch")
        await fail(uow, stored, failure, at, access.SYSTEM_ACTOR)
        failed += 1
    return failed


def _void_reason(reason: str | None) -> str:
    """The reason as the domain's `voiding` will hold it (non-empty, at most REASON_MAX)."""
    cleaned = (reason or "").strip()
    if not cleaned or len(cleaned) > REASON_MAX:
        raise DrawRuleError(
            "draw-void-reason", f"a void states its reason, 1–{REASON_MAX} characters (R14)",
            "reason",
        )  # fmt: skip
    return cleaned


def _province_of(stored: StoredDraw) -> str:
    return stored.region_code[:2]


def _approves(by: Principal, stored: StoredDraw) -> bool:
    """Another admin of the lead department, or an auditor of the draw's province."""
    if by.has_any_role(Role.department_admin) and access.own_org(by) == stored.lead_org_id:
        return True
    return by.has_any_role(Role.auditor) and by.province == _province_of(stored)


async def void_draw(
    uow: UnitOfWork, draw_id: UUID, reason: str | None, approve: bool, if_match: str | None,
    by: Principal, *, now: datetime | None = None,
) -> StoredDraw:  # fmt: skip
    """Void a completed draw in two steps (R14): the lead department's admin asks with a reason
    (the draw stays completed, the request is stored with it), then another person approves: an
    admin of the same department or an auditor of its province, never who asked. With the
    approval the draw is `voided` and `sampling.draw.voided.v1` recorded; it stays public, and
    the batch's next draw is a new prepare and commit under the next code (B.6)."""
    at = now or access.now()
    async with uow:
        seen = await access.seen_by(uow, draw_id, by)
        allowed = _approves(by, seen) if approve else access.leads(by, seen.lead_org_id)
        if not allowed:
            raise p.Problem(
                p.FORBIDDEN,
                "a void is approved by another admin of the lead department or an auditor of "
                "its province" if approve else
                "a void is asked for by the batch's lead department's admin (R14)",
            )  # fmt: skip
        await batches_repo.batch_to_draw(uow.session, seen.draw.batch_id)
        stored = await repo.draw(uow.session, draw_id, lock=True)
        assert stored is not None
        check_if_match(if_match, stored.revision)
        try:
            next_status(stored.draw.status, DrawAction.void)
            if not approve:
                asked = {"reason": _void_reason(reason), "requested_by": by.sub,
                         "requested_at": at.isoformat()}  # fmt: skip
                written = await repo.update(uow.session, replace(stored, void_request=asked))
                await uow.commit()
                return written
            request = stored.void_request
            if request is None:
                raise DrawRuleError(
                    "draw-void-not-requested",
                    "no void is asked for: the lead department's admin asks with a reason first",
                )
            if reason is not None and reason.strip() != request["reason"]:
                raise DrawRuleError(
                    "draw-void-reason", "the approval is for the reason asked for", "reason"
                )
            draw = stored.draw.void(request["reason"], request["requested_by"], by.sub)
        except DrawRuleError as error:
            raise access.rule_problem(error) from None
        written = await repo.update(
            uow.session, replace(stored, draw=draw, void_request=None, ended_at=at)
        )
        status = await draw_batches.follow_draws(uow, draw.batch_id, at)
        voided = draw_voided(draw, at, status)
        uow.record(Outgoing(voided, subject=str(draw.batch_id), actor=by.sub))
        await uow.commit()
    return written
