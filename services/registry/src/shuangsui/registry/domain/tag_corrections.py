"""Station staff's corrections of a subject's tags (标签纠正), reviewed before they apply.

The rules tag subjects from what registration systems push; a station sees more on site (a shop
registered for 食品销售 that also serves meals). Its staff propose tags to add and to remove,
with a reason; an admin of a region containing the subject approves or rejects the proposal,
never the one who made it. An approved correction stays in force until a later approved one for
the same subject replaces it, and meanwhile the subject's tags are (rule tags − removed) ∪ added
under every classification. DOMAIN.md §7 (station_staff: "subject tag corrections (reviewed)").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from shuangsui.registry.domain.tags import MAX_TAG_LENGTH, parse_tag

MAX_TAGS = 20  # per side; a subject carries a handful of tags, more is a mistake
MAX_REASON_LENGTH = 500
MAX_NOTE_LENGTH = 500


class CorrectionStatus(StrEnum):
    proposed = "proposed"  # 待审核
    approved = "approved"  # 已通过
    rejected = "rejected"  # 已驳回
    withdrawn = "withdrawn"  # 已撤回


class Decision(StrEnum):
    approve = "approve"
    reject = "reject"
    withdraw = "withdraw"


_OUTCOME = {
    Decision.approve: CorrectionStatus.approved,
    Decision.reject: CorrectionStatus.rejected,
    Decision.withdraw: CorrectionStatus.withdrawn,
}


class NotProposed(Exception):
    """A decision on a correction that was already decided or withdrawn."""

    def __init__(self, status: CorrectionStatus, decision: Decision) -> None:
        outcome = _OUTCOME[decision].value
        super().__init__(f"the correction is {status.value}; only a proposed one can be {outcome}")
        self.status = status


@dataclass(frozen=True)
class Correction:
    """What a correction in force does to the tags the rules give a subject."""

    add: frozenset[str] = frozenset()
    remove: frozenset[str] = frozenset()

    def applied_to(self, tags: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(tags).difference(self.remove).union(self.add)))


@dataclass(frozen=True)
class TagCorrection:
    correction_id: UUID
    uscc: str
    status: CorrectionStatus
    add: tuple[str, ...]
    remove: tuple[str, ...]
    reason: str
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str = ""
    in_force: bool = False  # the approved one that applies now; a later approval replaces it
    replaced_by: UUID | None = None

    @property
    def correction(self) -> Correction:
        return Correction(frozenset(self.add), frozenset(self.remove))

    @property
    def lifts(self) -> bool:
        """Neither adds nor removes: approving it returns the subject to its rule tags."""
        return not self.add and not self.remove

    def decided(self, decision: Decision, by: str, at: datetime, note: str) -> TagCorrection:
        """proposed → approved | rejected | withdrawn; nothing else moves."""
        if self.status is not CorrectionStatus.proposed:
            raise NotProposed(self.status, decision)
        return replace(
            self,
            status=_OUTCOME[decision],
            decided_by=by,
            decided_at=at,
            decision_note=note,
            # An approved lifting correction ends the one in force and leaves none.
            in_force=decision is Decision.approve and not self.lifts,
        )


@dataclass(frozen=True)
class ProposalProblem:
    field: str
    reason: str


def proposal_problems(
    add: Sequence[str], remove: Sequence[str], reason: str
) -> list[ProposalProblem]:
    """Why a proposal cannot be recorded; empty when it can. Whether an empty one (lifting the
    correction in force) makes sense depends on the subject: see `pointless`."""
    problems: list[ProposalProblem] = []
    for side, tags in (("add", add), ("remove", remove)):
        if len(tags) > MAX_TAGS:
            problems.append(ProposalProblem(side, f"at most {MAX_TAGS} tags"))
        for index, tag in enumerate(tags):
            why = tag_problem(tag)
            if why:
                problems.append(ProposalProblem(f"{side}[{index}]", why))
            elif tags.index(tag) != index:
                problems.append(ProposalProblem(f"{side}[{index}]", f"{tag} is named twice"))
    for index, tag in enumerate(remove):
        if tag in add:
            problems.append(
                ProposalProblem(f"remove[{index}]", f"{tag} is also to be added; name it once")
            )
    if not reason.strip():
        problems.append(ProposalProblem("reason", "say why the rules' tags are wrong (必填)"))
    elif len(reason) > MAX_REASON_LENGTH:
        problems.append(ProposalProblem("reason", f"at most {MAX_REASON_LENGTH} characters"))
    return problems


def tag_problem(tag: str) -> str | None:
    """Tags are written as the rules write them, so a correction and a rule meet exactly."""
    if parse_tag(tag) != tag:
        return f"{tag}: expected format|category|carrier|scale:value"
    value = tag.partition(":")[2]
    if value != value.strip() or len(value) > MAX_TAG_LENGTH or ":" in value:
        return (
            f"{tag}: the value has 1–{MAX_TAG_LENGTH} characters, no ':' and no surrounding spaces"
        )
    return None


def pointless(add: Sequence[str], remove: Sequence[str], in_force: TagCorrection | None) -> bool:
    """Nothing to add or remove is only meaningful as lifting a correction in force."""
    return not add and not remove and in_force is None
