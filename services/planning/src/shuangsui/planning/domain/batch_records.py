"""A batch as planning keeps it: the draft, its place in the plan's versions, its life, and the
invitations of a cross-department batch (R7, R10, R20, DOMAIN §5.2).

A batch belongs to its plan, not to one version: it is added by one version
(`added_in_version`), lives on in the versions after it, and is cancelled by a later one
(`cancelled_in_version`). A version's batches are therefore the ones added up to it and not
cancelled by it or before — which is what a plan's difference compares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from shuangsui.planning.domain.batch_lifecycle import (
    BatchAction,
    BatchRuleError,
    BatchStatus,
    can_edit,
    cancellation_reason,
    next_status,
)
from shuangsui.planning.domain.batch_values import (
    BatchDraft,
    Breach,
    ItemFacts,
    JointKind,
    OrgFacts,
)

DECLINE_REASON_MAX = 2000


class InvitationStatus(StrEnum):
    pending = "pending"  # 待确认
    confirmed = "confirmed"  # 已确认
    declined = "declined"  # 已拒绝


@dataclass(frozen=True)
class Invitation:
    """A partner department's part in a cross-department batch (R20): it confirms the items its
    department checks, or declines with a reason."""

    org_id: UUID
    department_type: str
    item_ids: tuple[UUID, ...]  # the batch's items the partner's department checks
    status: InvitationStatus = InvitationStatus.pending
    reason: str | None = None
    responded_by: str | None = None
    responded_at: datetime | None = None


@dataclass(frozen=True)
class Batch:
    batch_id: UUID
    plan_id: UUID
    added_in_version: int
    org_id: UUID  # the lead
    draft: BatchDraft
    status: BatchStatus
    revision: int
    invitations: tuple[Invitation, ...] = ()
    region_code: str = ""  # the lead's, as its plan has it
    year: int = 0  # the plan's
    batch_code: str | None = None
    published_at: datetime | None = None
    published_in_version: int | None = None
    cancelled_in_version: int | None = None  # set when an adjustment cancels it (pending until
    cancel_reason: str | None = None  # that version is published)
    cancelled_from: BatchStatus | None = None
    cancelled_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def in_version(self, version: int) -> bool:
        """Whether the plan's `version` holds this batch."""
        if self.added_in_version > version:
            return False
        return self.cancelled_in_version is None or self.cancelled_in_version > version

    @property
    def cancellation_pending(self) -> bool:
        return self.cancelled_in_version is not None and self.status is not BatchStatus.cancelled

    @property
    def invited_org_ids(self) -> tuple[UUID, ...]:
        return tuple(i.org_id for i in self.invitations)


class JointRuleError(BatchRuleError):
    pass


def invitations_for(
    draft: BatchDraft,
    lead: OrgFacts,
    items: Sequence[ItemFacts],
    partner_types: Mapping[UUID, frozenset[str]],
    participants: Sequence[OrgFacts],
    before: Sequence[Invitation] = (),
) -> tuple[tuple[Invitation, ...], list[Breach]]:
    """The invitations a (valid) draft makes: one per participant of another department in a
    cross-department batch, for the items its department checks (the items it leads, or the
    joint items naming it as a partner, R20). An answer stands while its items stay the same;
    a partner with nothing to check in the batch is a breach."""
    if draft.joint_kind is not JointKind.cross_department:
        return (), []
    answered = {i.org_id: i for i in before}
    made: list[Invitation] = []
    found: list[Breach] = []
    for org in participants:
        if org.department_type == lead.department_type:
            continue
        theirs = tuple(
            i.item_id
            for i in items
            if i.department_type == org.department_type
            or org.department_type in partner_types.get(i.item_id, frozenset())
        )
        if not theirs:
            index = draft.participant_org_ids.index(org.org_id)
            found.append(Breach(
                "joint-partner-without-items", f"participant_org_ids[{index}]",
                f"no item of the batch is checked by {org.department_type} (neither led by it "
                "nor naming it as a partner department, R20)",
            ))  # fmt: skip
            continue
        earlier = answered.get(org.org_id)
        if earlier is not None and earlier.item_ids == theirs:
            made.append(earlier)
        else:
            made.append(Invitation(org.org_id, org.department_type, theirs))
    return tuple(made), found


def same_terms(before: BatchDraft, after: BatchDraft) -> bool:
    """Whether a partner's answer still holds: it confirmed the batch as it stood — window,
    scope, quantities, methods, team — so anything but a new name asks it again (R20)."""
    return replace(before, name=after.name) == after


def internal_participant_breaches(
    draft: BatchDraft, lead_org_id: UUID, parents: Mapping[UUID, UUID | None]
) -> list[Breach]:
    """An internal joint batch (R10) combines the lead's own work: its participants are orgs
    beneath the lead (its stations, its sub-bureaus), never another bureau that was not asked."""
    if draft.joint_kind is not JointKind.internal:
        return []
    return [
        Breach(
            "batch-internal-participant-not-under-lead",
            f"participant_org_ids[{index}]",
            "an internal joint batch takes in orgs beneath the lead only; another bureau takes "
            "part through its own plan",
        )
        for index, org_id in enumerate(draft.participant_org_ids)
        if org_id in parents and parents[org_id] != lead_org_id
    ]


def responded(
    invitation: Invitation,
    *,
    accept: bool,
    item_ids: Sequence[UUID],
    reason: str | None,
    by: str,
    at: datetime,
) -> Invitation:
    """The partner's answer: a confirmation names exactly the items its department checks in the
    batch (it confirms what it will do, nothing less); a refusal gives its reason."""
    if accept:
        if sorted(item_ids) != sorted(invitation.item_ids):
            raise JointRuleError(
                "joint-items-mismatch",
                "a confirmation names exactly the batch's items your department checks: "
                + ", ".join(str(i) for i in invitation.item_ids),
                "item_ids",
            )
        return replace(invitation, status=InvitationStatus.confirmed, reason=None,
                       responded_by=by, responded_at=at)  # fmt: skip
    cleaned = (reason or "").strip()
    if not cleaned or len(cleaned) > DECLINE_REASON_MAX:
        raise JointRuleError(
            "joint-decline-reason",
            f"a refusal states its reason (1–{DECLINE_REASON_MAX} characters)",
            "reason",
        )
    return replace(invitation, status=InvitationStatus.declined, reason=cleaned,
                   responded_by=by, responded_at=at)  # fmt: skip


def answered(batch: Batch, invitation: Invitation) -> Batch:
    kept = tuple(invitation if i.org_id == invitation.org_id else i for i in batch.invitations)
    return replace(batch, invitations=kept, revision=batch.revision + 1)


def unconfirmed(batch: Batch) -> list[Invitation]:
    """The invitations that keep a cross-department batch from being submitted."""
    return [i for i in batch.invitations if i.status is not InvitationStatus.confirmed]


def edited(batch: Batch, draft: BatchDraft, invitations: tuple[Invitation, ...]) -> Batch:
    if not can_edit(batch.status):
        raise BatchRuleError(
            "batch-transition",
            f"a {batch.status} batch is never edited: cancel it in an adjustment and add a new "
            "one (R7)",
        )
    return replace(batch, draft=draft, invitations=invitations, revision=batch.revision + 1)


def published(batch: Batch, *, batch_code: str, plan_version: int, at: datetime) -> Batch:
    status = next_status(batch.status, BatchAction.publish)
    return replace(batch, status=status, batch_code=batch_code, published_at=at,
                   published_in_version=plan_version, revision=batch.revision + 1)  # fmt: skip


def moved(batch: Batch, status: BatchStatus) -> Batch:
    """The batch in the status its draw brought it to (checked by `next_status`)."""
    return replace(batch, status=status, revision=batch.revision + 1)


def cancellation_requested(batch: Batch, *, in_version: int, reason: str | None) -> Batch:
    """Marks the batch for cancellation by the adjustment `in_version` (R7); the batch keeps
    its status until that version is published."""
    if batch.status is BatchStatus.draft:
        raise BatchRuleError(
            "batch-transition", "a draft batch is deleted, not cancelled: it was never public"
        )
    if batch.cancellation_pending:
        raise BatchRuleError(
            "batch-transition",
            f"the batch is already cancelled by version {batch.cancelled_in_version}",
        )
    next_status(batch.status, BatchAction.cancel, reason=reason)  # legal from here, with reason
    return replace(batch, cancelled_in_version=in_version, cancel_reason=cancellation_reason(reason),
                   revision=batch.revision + 1)  # fmt: skip


def cancellation_withdrawn(batch: Batch) -> Batch:
    """The adjustment that asked for the cancellation was discarded."""
    return replace(batch, cancelled_in_version=None, cancel_reason=None,
                   revision=batch.revision + 1)  # fmt: skip


def cancelled(batch: Batch, *, at: datetime) -> Batch:
    """The adjustment that asked for it was published: the cancellation takes effect."""
    status = next_status(batch.status, BatchAction.cancel, reason=batch.cancel_reason)
    return replace(batch, status=status, cancelled_from=batch.status, cancelled_at=at,
                   revision=batch.revision + 1)  # fmt: skip
