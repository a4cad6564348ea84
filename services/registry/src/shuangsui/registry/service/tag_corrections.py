"""Use cases of tag corrections (标签纠正): station staff propose, admins review, approval applies.

Who is who:
- The proposer's station is the token's `station_code`; a token without one falls back to
  `org_code`, since a station's org code is the code its subjects carry as `unit_code`
  (ARCHITECTURE.md §5 claims; the demo province names stations so). A subject belongs to the
  station whose code equals its `unit_code`.
- Reviewers are department and provincial admins whose region contains the subject; national
  admins keep national data and do not decide a province's corrections (DOMAIN.md §7).
- A correction outside the caller's region (or, for station staff, outside their station) is
  404, as if it did not exist; a visible one the caller may not decide is 403.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import PageRequest
from shuangsui.kernel.scope import RegionScope
from shuangsui.registry.adapters import classification as classification_repo
from shuangsui.registry.adapters import tag_corrections as repo
from shuangsui.registry.adapters.tag_corrections import CorrectionFilter, Found, Place
from shuangsui.registry.domain.tag_corrections import (
    CorrectionStatus,
    Decision,
    NotProposed,
    TagCorrection,
    pointless,
    proposal_problems,
)
from shuangsui.registry.service.classification import current_classifier, reclassify

REVIEWERS = (Role.department_admin, Role.provincial_admin)

CORRECTION_DECIDED = p.problem_type(
    "tag-correction-decided", 409, "Correction no longer awaiting review · 标签纠正已处理",
    "Only a proposed correction can be approved, rejected or withdrawn; `correction_status` "
    "says what became of this one.",
)  # fmt: skip
CORRECTION_PENDING = p.problem_type(
    "tag-correction-pending", 409, "A correction awaits review · 已有待审核的标签纠正",
    "The subject already has a proposed correction: withdraw it, or wait for its review, before "
    "proposing another.",
)  # fmt: skip


def station_of(by: Principal) -> str | None:
    return by.station_code or by.org_code or None


async def propose_correction(
    uow: UnitOfWork,
    uscc: str,
    add: Sequence[str],
    remove: Sequence[str],
    reason: str,
    by: Principal,
) -> Found:
    """Record a proposal for one subject of the caller's station; it applies once approved."""
    station = station_of(by)
    if Role.station_staff not in by.roles or station is None:
        raise p.Problem(
            p.FORBIDDEN, "tag corrections are proposed by station staff whose token names a station"
        )
    problems = proposal_problems(add, remove, reason)
    if problems:
        raise p.Problem(
            p.VALIDATION,
            f"{len(problems)} problem(s) in the correction",
            errors=[p.FieldError(x.field, x.reason) for x in problems],
        )
    scope = RegionScope.of(by)
    async with uow:
        place = await repo.place_of(uow.session, uscc)
        if place is None or not scope.allows(place.region_code):
            raise p.Problem(p.NOT_FOUND, f"no subject {uscc} in your region")
        if place.unit_code != station:
            raise p.Problem(
                p.FORBIDDEN,
                f"subject {uscc} is supervised by {place.unit_code or 'no station'}, "
                f"not by your station {station}",
            )
        if pointless(add, remove, await repo.in_force_for(uow.session, uscc)):
            raise p.Problem(
                p.VALIDATION,
                "nothing to correct",
                errors=[
                    p.FieldError(
                        "add", "name a tag to add or to remove (an empty correction only lifts "
                        "one in force, and this subject has none)",
                    )
                ],
            )  # fmt: skip
        proposal = TagCorrection(
            correction_id=uuid.uuid4(),
            uscc=uscc,
            status=CorrectionStatus.proposed,
            add=tuple(sorted(add)),
            remove=tuple(sorted(remove)),
            reason=reason.strip(),
            proposed_by=by.sub,
            proposed_at=datetime.now(UTC),
        )
        if not await repo.add_proposal(uow.session, proposal):
            raise p.Problem(CORRECTION_PENDING, f"subject {uscc} has a correction awaiting review")
        found = await repo.read(uow.session, proposal.correction_id)
        await uow.commit()
    assert found is not None
    return found


async def decide_correction(
    uow: UnitOfWork, correction_id: UUID, decision: Decision, note: str, by: Principal
) -> Found:
    """Approve, reject or withdraw a proposed correction. An approval applies at once: the
    subject's tags and items, its population counts and a `tags_changed` event, all in this
    transaction."""
    async with uow:
        found = await repo.read(uow.session, correction_id, lock=True)
        if found is None or not _visible(found.place, by):
            raise p.Problem(p.NOT_FOUND, f"no tag correction {correction_id} in your region")
        _ensure_may_decide(found.correction, decision, by)
        try:
            decided = found.correction.decided(decision, by.sub, datetime.now(UTC), note)
        except NotProposed as refused:
            raise p.Problem(
                CORRECTION_DECIDED, str(refused), correction_status=refused.status.value
            ) from None
        if decision is Decision.approve:
            await _apply(uow, decided, by)
        await repo.save_decision(uow.session, decided)
        await uow.commit()
    return replace(found, correction=decided)


async def _apply(uow: UnitOfWork, approved: TagCorrection, by: Principal) -> None:
    # The classification lock in share mode, as a push takes it (ADR 0009): no new
    # classification is issued until this commits, so the subject is written under the newest
    # number and a later pass, whose classifier carries this correction, keeps it.
    classifier = await current_classifier(uow)
    await repo.retire(uow.session, approved.uscc, replaced_by=approved.correction_id)
    row = await classification_repo.subject_to_reclassify(uow.session, approved.uscc)
    if row is None:  # subjects are never deleted; nothing to apply to if one were
        return
    corrected = classifier.correcting(
        approved.uscc, approved.correction if approved.in_force else None
    )
    await reclassify(uow, corrected, [row], actor=by.sub)


def _ensure_may_decide(correction: TagCorrection, decision: Decision, by: Principal) -> None:
    if decision is Decision.withdraw:
        if by.sub != correction.proposed_by:
            raise p.Problem(p.FORBIDDEN, "only the proposer may withdraw a correction")
        return
    if not by.has_any_role(*REVIEWERS):
        raise p.Problem(
            p.FORBIDDEN,
            "tag corrections are reviewed by a department or provincial admin of the subject's "
            "region",
        )
    if by.sub == correction.proposed_by:
        raise p.Problem(p.FORBIDDEN, "a correction is reviewed by someone other than its proposer")


def _visible(place: Place, by: Principal) -> bool:
    if not RegionScope.of(by).allows(place.region_code):
        return False
    station = _station_only(by)
    return station is None or place.unit_code == station


def _station_only(by: Principal) -> str | None:
    """Station staff see their station's subjects; every other reader, their whole region."""
    if by.is_national or by.has_any_role(*REVIEWERS, Role.auditor):
        return None
    station = station_of(by)
    if station is None:
        raise p.Problem(p.FORBIDDEN, "the token names no station (station_code)")
    return station


async def get_correction(uow: UnitOfWork, correction_id: UUID, by: Principal) -> Found:
    async with uow:
        found = await repo.read(uow.session, correction_id)
    if found is None or not _visible(found.place, by):
        raise p.Problem(p.NOT_FOUND, f"no tag correction {correction_id} in your region")
    return found


async def list_corrections(
    uow: UnitOfWork,
    by: Principal,
    status: CorrectionStatus | None,
    uscc: str | None,
    page: PageRequest,
) -> tuple[list[Found], str | None]:
    where = CorrectionFilter(RegionScope.of(by).prefix, _station_only(by), status, uscc)
    before = page.position("seq", int)
    async with uow:
        rows = await repo.page(uow.session, where, before, page.limit + 1)
    return page.page(rows, lambda found: {"seq": found.seq})


async def correction_in_force(session: AsyncSession, uscc: str) -> dict[str, Any] | None:
    """What a subject's reader sees of the correction its tags follow, if any."""
    found = await repo.in_force_for(session, uscc)
    if found is None:
        return None
    return {
        "correction_id": found.correction_id,
        "add": list(found.add),
        "remove": list(found.remove),
        "reason": found.reason,
        "proposed_by": found.proposed_by,
        "approved_by": found.decided_by,
        "approved_at": found.decided_at,
    }
