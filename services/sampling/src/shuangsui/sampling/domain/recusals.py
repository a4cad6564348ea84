"""Recusal after the draw (回避与替换, R19, DRAW_SPEC §9, B.8): an inspector leaves one subject's
drawn team, and the replacement is the one §9 prescribes.

A recusal is declared (by the inspector, by the subject, or by the department for them) and then
decided by someone else. Only an accepted one acts on the draw: it is appended to the bundle's
`recusals` in approval order and the result is recomputed by the verifier's own code, so the
published `assignments` stay as drawn, `replacements` grows by one record, and anyone can still
recompute the whole draw. Everything §9 defines is `shuangsui.drawspec`'s (`apply_recusals`,
inside `verify_tree`); this module says who the team is now, when a declaration may be made and
decided, and what a decision stores. An infeasible replacement leaves the place vacant: it is
recorded and shown as needing the manual procedure (R18), never a smaller team in silence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from shuangsui.drawspec import Rejected, VerifierUnavailable, verify_tree
from shuangsui.drawspec.jsontext import JsonValue
from shuangsui.sampling.domain.draws import REASON_MAX, Draw, DrawKind, DrawRuleError, DrawStatus

# The spec's own code for a recusal that does not fit the draw (§9 step 1, §10.2).
E_RECUSAL = "E_RECUSAL"
NOTE_MAX = 2000


class Cause(StrEnum):
    """Why the inspector leaves (B.8); it travels as the recusal's `reason` (§10.1)."""

    recusal = "recusal"  # 回避: a conflict declared after the draw
    unavailable = "unavailable"  # 无法到岗
    cert_invalid = "cert_invalid"  # 执法证失效 or withdrawn


class RecusalStatus(StrEnum):
    declared = "declared"
    accepted = "accepted"
    rejected = "rejected"


class DeclaredAs(StrEnum):
    """On whose behalf the declaration was made (R19: raised by the inspector, applied for by
    the subject, or entered by the department for either)."""

    inspector = "inspector"
    subject = "subject"
    department = "department"


@dataclass(frozen=True)
class Team:
    """A subject's team as it stands now: its assignment (§8.6) with the replacements so far
    applied in order (the final team of §9). `infeasible` says why a drawn team never existed."""

    lead: str | None
    members: tuple[str, ...]
    infeasible: str | None = None

    def holds(self, inspector_id: str) -> bool:
        return inspector_id == self.lead or inspector_id in self.members


def _records(result: Mapping[str, JsonValue], key: str) -> list[dict[str, JsonValue]]:
    records = result.get(key) or []
    assert isinstance(records, list)
    return [r for r in records if isinstance(r, dict)]


def current_team(result: Mapping[str, JsonValue], subject_id: str) -> Team | None:
    """The subject's team after the result's `replacements` (read, not recomputed: the log says
    who left and who came); None if the subject has no assignment (not selected)."""
    drawn = next((a for a in _records(result, "assignments") if a["subject"] == subject_id), None)
    if drawn is None:
        return None
    if drawn.get("infeasible") is not None:
        return Team(None, (), str(drawn["infeasible"]))
    members = drawn.get("members") or []
    assert isinstance(members, list)
    lead = drawn.get("lead")
    team = Team(None if lead is None else str(lead), tuple(str(m) for m in members))
    for record in _records(result, "replacements"):
        if record["subject"] == subject_id:
            team = _after(team, record)
    return team


def _after(team: Team, record: Mapping[str, JsonValue]) -> Team:
    left, came = str(record["recused"]), record["replacement"]
    if record["role"] == "lead":
        return replace(team, lead=None if came is None else str(came))
    members = [m for m in team.members if m != left]
    # §9 keeps members in rank order; for "who is on the team" the order does not matter.
    return replace(team, members=tuple(members + ([] if came is None else [str(came)])))


def check_declarable(draw: Draw, subject_id: str, inspector_id: str) -> None:
    """A recusal is for a completed draw with teams, a subject that has a team, and an
    inspector on that team now (after the earlier replacements); else `DrawRuleError`."""
    if draw.status is not DrawStatus.completed:
        raise DrawRuleError(
            "recusal-draw-not-completed",
            f"draw {draw.draw_code} is {draw.status}: only a completed draw's teams change by "
            "recusal",
        )
    assert draw.result is not None
    if draw.kind is DrawKind.subjects:
        raise DrawRuleError(
            E_RECUSAL,
            f"draw {draw.draw_code} selects subjects only; its teams are the departments' team "
            "draws (§10.2, B.11)",
            "subject_id",
        )
    team = current_team(draw.result, subject_id)
    if team is None:
        raise DrawRuleError(
            E_RECUSAL, f"subject {subject_id} is not selected by draw {draw.draw_code}",
            "subject_id",
        )  # fmt: skip
    if team.infeasible is not None:
        raise DrawRuleError(
            E_RECUSAL,
            f"subject {subject_id} has no drawn team ({team.infeasible}); it is in the manual "
            "procedure (R18)",
            "subject_id",
        )
    if not team.holds(inspector_id):
        raise DrawRuleError(
            E_RECUSAL,
            f"inspector {inspector_id} is not on the current team of {subject_id}",
            "inspector_id",
        )


def _text(value: str | None, limit: int, rule: str, field: str, *, required: bool) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise DrawRuleError(rule, f"{field} is required, 1–{limit} characters", field)
        return None
    if len(cleaned) > limit:
        raise DrawRuleError(rule, f"{field} is at most {limit} characters", field)
    return cleaned


@dataclass(frozen=True)
class Recusal:
    """One declaration and, once decided, its decision. `sequence` is its position in the
    draw's recusal list (1-based) and `replacement` the §9 record it produced, when accepted."""

    recusal_id: UUID
    draw_id: UUID
    subject_id: str  # the USCC, as in the draw (B.1)
    inspector_id: str  # the opaque id of the bundle
    cause: Cause
    note: str | None
    declared_by: str
    declared_as: DeclaredAs
    declared_at: datetime
    status: RecusalStatus = RecusalStatus.declared
    decided_by: str | None = None
    decision_reason: str | None = None
    decided_at: datetime | None = None
    sequence: int | None = None
    replacement: dict[str, JsonValue] | None = None

    @property
    def vacant(self) -> bool:
        """Accepted, but §9 found nobody: the place waits for the manual procedure (R18)."""
        return self.replacement is not None and self.replacement.get("infeasible") is not None

    def decide(self, accept: bool, reason: str | None, by: str, at: datetime) -> Recusal:
        """The decision, final; the caller applies an accepted one with `apply_to`."""
        if self.status is not RecusalStatus.declared:
            raise DrawRuleError(
                "recusal-decided", f"recusal {self.recusal_id} is already {self.status}; a "
                "decision is final",
            )  # fmt: skip
        if by == self.declared_by:
            raise DrawRuleError(
                "recusal-approver",
                "a recusal is decided by another person than who declared it (R19)",
                "decided_by",
            )
        cleaned = _text(reason, REASON_MAX, "recusal-decision-reason", "reason", required=True)
        status = RecusalStatus.accepted if accept else RecusalStatus.rejected
        return replace(self, status=status, decided_by=by, decision_reason=cleaned, decided_at=at)

    def bundle_entry(self) -> dict[str, JsonValue]:
        """The recusal as §10.1 lists it."""
        return {"subject_id": self.subject_id, "inspector_id": self.inspector_id,
                "reason": self.cause.value}  # fmt: skip


def declare(
    recusal_id: UUID, draw: Draw, subject_id: str, inspector_id: str, cause: Cause,
    note: str | None, by: str, declared_as: DeclaredAs, at: datetime,
) -> Recusal:  # fmt: skip
    check_declarable(draw, subject_id, inspector_id)
    cleaned = _text(note, NOTE_MAX, "recusal-note", "note", required=False)
    return Recusal(recusal_id, draw.draw_id, subject_id, inspector_id, cause, cleaned, by,
                   declared_as, at)  # fmt: skip


def recusals_of(bundle: Mapping[str, JsonValue]) -> list[dict[str, JsonValue]]:
    return _records(bundle, "recusals")


def apply_to(draw: Draw, recusal: Recusal) -> tuple[Draw, Recusal]:
    """The draw with the accepted recusal appended to its bundle's `recusals` and its result
    recomputed by `verify_tree`, and the recusal with its sequence and §9 record. A recusal the
    verifier refuses (the inspector left the team meanwhile) raises `E_RECUSAL`."""
    check_declarable(draw, recusal.subject_id, recusal.inspector_id)
    assert recusal.status is RecusalStatus.accepted
    assert draw.bundle is not None
    assert draw.result is not None
    listed = recusals_of(draw.bundle)
    bundle: dict[str, JsonValue] = {**draw.bundle, "recusals": [*listed, recusal.bundle_entry()]}
    try:
        result = verify_tree(bundle)
    except Rejected as rejection:
        raise DrawRuleError(rejection.code.value, rejection.message, "inspector_id") from None
    except VerifierUnavailable as exc:  # the installation cannot check a drand round
        raise DrawRuleError("draw-beacon-unverifiable", str(exc), "beacon_value") from None
    # §9: recusals never change what was drawn, only append to the log.
    assert result["assignments"] == draw.result["assignments"]
    made = _records(result, "replacements")
    assert len(made) == len(listed) + 1
    applied = replace(recusal, sequence=len(made), replacement=made[-1])
    return replace(draw, bundle=bundle, result=result), applied
