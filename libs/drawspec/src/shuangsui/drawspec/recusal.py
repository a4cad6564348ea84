"""Recusal after the draw (DRAW_SPEC §9): a deterministic replacement log.

Published `assignments` stay as drawn; recusals act on a working copy of the teams, release
the recused inspector's load and append one record each to `replacements`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import ErrorCode, Rejected
from .jsontext import JsonValue
from .model import Recusal
from .phase_b import INSUFFICIENT, NO_QUALIFIED_LEAD, PhaseB


@dataclass(slots=True)
class _Team:
    lead: str | None
    members: list[str]


@dataclass(frozen=True, slots=True)
class Replacement:
    """One record of §9 steps 4–5."""

    subject: str
    recused: str
    role: str
    replacement: str | None
    cap: int | None = None
    infeasible: str | None = None

    def to_json(self) -> dict[str, JsonValue]:
        """The record as it appears in `replacements`."""
        record: dict[str, JsonValue] = {
            "subject": self.subject,
            "recused": self.recused,
            "role": self.role,
            "replacement": self.replacement,
        }
        if self.infeasible is not None:
            record["infeasible"] = self.infeasible
        else:
            record["cap"] = self.cap
        return record


def apply_recusals(state: PhaseB, recusals: Sequence[Recusal]) -> list[Replacement]:
    """Apply recusals in the given order; `state.loads` is updated in place."""
    teams = {
        a.subject: _Team(a.lead, list(a.members)) for a in state.assignments if a.infeasible is None
    }
    recused: dict[str, set[str]] = {}
    log: list[Replacement] = []
    for index, recusal in enumerate(recusals):
        team = teams.get(recusal.subject_id)
        if team is None:
            raise Rejected(
                ErrorCode.RECUSAL,
                f"recusals[{index}]: subject {recusal.subject_id!r} has no team",
            )
        log.append(_recuse(state, team, recused.setdefault(recusal.subject_id, set()), recusal))
    return log


def _recuse(state: PhaseB, team: _Team, recused: set[str], recusal: Recusal) -> Replacement:
    subject, inspector = recusal.subject_id, recusal.inspector_id
    if team.lead == inspector:
        role = "lead"
        team.lead = None
    elif inspector in team.members:
        role = "member"
        team.members.remove(inspector)
    else:
        raise Rejected(
            ErrorCode.RECUSAL,
            f"recusals: inspector {inspector!r} is not on the current team of {subject!r}",
        )
    state.loads[inspector] -= 1
    recused.add(inspector)
    ranking = state.candidates[subject]
    on_team = set(team.members) | ({team.lead} if team.lead is not None else set())
    pool = [i for i in ranking if i not in on_team and i not in recused]
    if not pool:
        return Replacement(subject, inspector, role, None, infeasible=INSUFFICIENT)
    if role == "lead":
        # Non-qualified candidates play no part in a lead replacement, not even in `c`.
        pool = [i for i in pool if i in state.qualified]
        if not pool:
            return Replacement(subject, inspector, role, None, infeasible=NO_QUALIFIED_LEAD)
    c = max(state.cap, min(state.loads[i] for i in pool) + 1)
    chosen = next(i for i in pool if state.loads[i] < c)
    state.loads[chosen] += 1
    if role == "lead":
        team.lead = chosen
    else:
        rank = {i: position for position, i in enumerate(ranking)}
        team.members = sorted([*team.members, chosen], key=rank.__getitem__)
    return Replacement(subject, inspector, role, chosen, cap=c)
