"""The randomness after the commitment (DRAW_SPEC §5, §14.1): reveals, then the draw computed by
the verifier's own code and completed in the same transaction as its events."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from shuangsui.contracts.events.planning_batches import BatchPublished
from shuangsui.drawspec.model import BeaconValue
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role
from shuangsui.kernel.concurrency import check_if_match
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.faults import crash_point
from shuangsui.messaging.envelope import Outgoing
from shuangsui.sampling.adapters import draws as repo
from shuangsui.sampling.adapters import inspectors as inspectors_repo
from shuangsui.sampling.adapters import subjects as subjects_repo
from shuangsui.sampling.adapters.draws import StoredDraw
from shuangsui.sampling.domain import beacons
from shuangsui.sampling.domain.batches import BatchStatus
from shuangsui.sampling.domain.draw_events import (
    draw_completed,
    draw_failed,
    draw_selection,
    selected_subjects,
    teams_assigned,
)
from shuangsui.sampling.domain.draws import (
    Draw,
    DrawAction,
    DrawKind,
    DrawRuleError,
    DrawStatus,
    FailReason,
    Failure,
    next_status,
)
from shuangsui.sampling.service import draw_access as access
from shuangsui.sampling.service import draw_batches, overlaps
from shuangsui.sampling.service import draw_ends as ends

# ---- reveal, compute, complete ----------------------------------------------------------------

# Who hands in a commit-reveal party's secret: the lead's admin, or the party's own department's
# (a partner acts through `partner_admin`, R20).
REVEALERS = (Role.department_admin, Role.partner_admin)

# Crash points (`shuangsui.kernel.faults`): the draw computed and written, its transaction not yet
# committed (everything rolls back); the completion committed, nothing answered.
COMPUTED_POINT = "sampling.draw.computed"
COMPLETED_POINT = "sampling.draw.completed"


@dataclass(frozen=True)
class SecretIn:
    """A commit-reveal party's opening of its commitment (§5.2)."""

    party_id: str
    secret: str


def _with_reveal(parties: list[dict[str, Any]], secret: SecretIn, at: datetime) -> list[Any]:
    return [
        {**e, "secret": secret.secret, "revealed_at": at.isoformat()}
        if e["party_id"] == secret.party_id
        else e
        for e in parties
    ]


def _fixed_value(draw: Draw) -> str:
    assert draw.commitment is not None
    beacon = draw.commitment["beacon"]
    assert isinstance(beacon, dict)
    value = beacon["value"]
    assert isinstance(value, str)
    return value


def _may_reveal(by: Principal, seen: StoredDraw, secret: SecretIn | None) -> bool:
    """The gate before the draw is locked: the lead's admin, or an admin of the department a
    party is named after, in the draw's province (who of them reveals what: `_check_hands_in`)."""
    if access.leads(by, seen.lead_org_id):
        return True
    return (
        secret is not None
        and by.has_any_role(*REVEALERS)
        and by.org_code == secret.party_id
        and by.province == seen.region_code[:2]
    )


async def _check_hands_in(
    uow: UnitOfWork, batch: BatchPublished, stored: StoredDraw, secret: SecretIn, by: Principal
) -> None:
    """R20: a department's party is revealed by that department only, never for it; a witness's
    by the lead. The departments: the batch's lead and participants, and any org
    in the registry's directory (a party may be a department outside the batch)."""
    departments = {batch.org_code, *(p.org_code for p in batch.participants)}
    if await inspectors_repo.is_department(uow.session, secret.party_id):
        departments.add(secret.party_id)
    leads = access.leads(by, stored.lead_org_id)
    own = batch.org_code if leads else by.org_code  # a lead's token may name its org by id only
    if not beacons.hands_in(secret.party_id, own_code=own, leads=leads, departments=departments):
        owner = (
            f"department {secret.party_id}'s own admin"
            if secret.party_id in departments
            else "the lead department's admin"
        )
        raise p.Problem(p.FORBIDDEN, f"party {secret.party_id}'s secret is revealed by {owner}")


async def reveal_draw(
    uow: UnitOfWork, draw_id: UUID, secret: SecretIn | None, if_match: str | None,
    by: Principal, *, now: datetime | None = None,
) -> StoredDraw:  # fmt: skip
    """The randomness arrives after the commitment: a fixed beacon's value at once (test mode),
    or a party's reveal; with the last one the draw is computed by the verifier's own code and
    completed (`sampling.draw.completed.v1` and one `sampling.team.assigned.v1` per subject),
    or fails as `verification_rejected` if the verifier refuses the bundle."""
    at = now or access.now()
    async with uow:
        batch, stored = await access.locked(
            uow, draw_id, by, lambda seen: _may_reveal(by, seen, secret),
            "reveals are handed in by the batch's lead department's admin, or a party's by "
            "its own department's",
        )  # fmt: skip
        check_if_match(if_match, stored.revision)
        if stored.draw.beacon_source == "drand-quicknet":
            raise access.rule_problem(access.NOT_DRAND_REVEAL)
        if ends.overdue(stored, at):
            raise await ends.refuse_late(uow, stored, at, by.sub, rule="draw-reveal-late",
                                         field="secret")  # fmt: skip
        draw = stored.draw
        try:
            next_status(draw.status, DrawAction.reveal)
            if draw.beacon_source == "fixed":
                value: BeaconValue = _fixed_value(draw)
            else:
                if secret is None:
                    raise DrawRuleError("E_SCHEMA", "a reveal names its party and secret", "secret")
                await _check_hands_in(uow, batch, stored, secret, by)
                exchange = access.exchange_of(stored).reveal(secret.party_id, secret.secret, at)
                stored = replace(stored, parties=_with_reveal(stored.parties or [], secret, at))
                if not exchange.complete:
                    written = await repo.update(uow.session, stored)
                    await uow.commit()
                    return written
                value = exchange.beacon_value()
        except DrawRuleError as error:
            raise access.rule_problem(error) from None
        written = await settle(uow, stored, batch, value, at, by.sub)
        await uow.commit()
    crash_point(COMPLETED_POINT)
    return written


async def settle(
    uow: UnitOfWork, stored: StoredDraw, batch: BatchPublished, value: BeaconValue,
    at: datetime, actor: str,
) -> StoredDraw:  # fmt: skip
    """The randomness is in and checked (the last reveal, or a drand round accepted): the draw
    locked by the caller is revealed, computed by the verifier's own code and completed, its
    events recorded in the caller's transaction (`sampling.draw.completed.v1`, one
    `sampling.team.assigned.v1` per subject), or it fails as `verification_rejected` if the
    verifier refuses the bundle. Every path to a result goes through here."""
    try:
        draw = stored.draw.reveal(value)
    except DrawRuleError as error:
        raise access.rule_problem(error) from None
    try:
        draw = draw.compute(access.plan_of(stored).inputs).complete()
    except DrawRuleError as error:
        failure = Failure(FailReason.verification_rejected, detail=f"{error.rule}: {error.reason}")
        draw = draw.fail(failure)
        ended = replace(stored, draw=draw, revealed_at=at, ended_at=at)
    else:
        ended = replace(stored, draw=draw, revealed_at=at, completed_at=at)
        await overlaps.record_completed(uow, batch, draw, stored.region_code, at)  # R22
    written = await repo.update(uow.session, ended)
    status = await draw_batches.follow_draws(uow, draw.batch_id, at)
    events: list[Any] = (
        await _completion_events(uow, batch, draw, at, status)
        if draw.status is DrawStatus.completed
        else [draw_failed(draw, at, status)]
    )
    for event in events:
        uow.record(Outgoing(event, subject=str(draw.batch_id), actor=actor))
    uow.add_commit_hook(_computed)
    return written


async def _computed(_session: object, _events: list[Any]) -> None:
    """Run by the commit once the outbox rows are written: all the transaction lacks is COMMIT."""
    crash_point(COMPUTED_POINT)


async def _completion_events(
    uow: UnitOfWork, batch: BatchPublished, draw: Draw, at: datetime, status: BatchStatus
) -> list[Any]:
    assert draw.result is not None
    strata = draw.result["strata"]
    assert isinstance(strata, list)
    selected = [str(u) for s in strata if isinstance(s, dict) for u in _items(s["selected"])]
    ids = await subjects_repo.subject_ids(uow.session, selected)
    selection = selected_subjects(draw, ids)
    events: list[Any] = [
        draw_completed(draw, selected=len(selection), batch_status=status, at=at),
        *draw_selection(draw, selection),
    ]
    if draw.kind is not DrawKind.subjects:
        events += teams_assigned(draw, ids, batch.selection_mode)
    return events


def _items(value: object) -> list[object]:
    assert isinstance(value, list)
    return value
