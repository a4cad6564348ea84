"""Phase B, inspector assignment (DRAW_SPEC §8): candidates, ranking, load cap, teams."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .encoding import lp, tag_prefix, utf8
from .jsontext import JsonValue
from .model import Conflict, Inspector, Subject, TeamRule

INSUFFICIENT = "insufficient_candidates"
NO_QUALIFIED_LEAD = "no_qualified_lead"


@dataclass(frozen=True, slots=True)
class Assignment:
    """One record of §8.6: a team formed at `cap`, or the reason the subject is infeasible."""

    subject: str
    lead: str | None = None
    members: tuple[str, ...] = ()
    cap: int | None = None
    infeasible: str | None = None

    def to_json(self) -> dict[str, JsonValue]:
        """The record as it appears in `assignments`."""
        if self.infeasible is not None:
            return {"subject": self.subject, "infeasible": self.infeasible}
        return {
            "subject": self.subject,
            "lead": self.lead,
            "members": list(self.members),
            "cap": self.cap,
        }


@dataclass(slots=True)
class PhaseB:
    """Everything §9 needs after the draw: rankings, qualification, cap and loads."""

    size: int
    cap: int
    qualified: frozenset[str]
    candidates: dict[str, list[str]]
    loads: dict[str, int]
    assignments: list[Assignment] = field(default_factory=list)


def load_cap(size: int, subjects: int, inspectors: int) -> int:
    """`cap = ceil(size·|S| / max(|I|, 1))` (§8.4); `|I|` counts the whole manifest."""
    denominator = max(inspectors, 1)
    return (size * subjects + denominator - 1) // denominator


def is_qualified(inspector: Inspector, lead_expertise: str | None) -> bool:
    """Qualified to lead: no lead rule, or the exact tag among the inspector's expertise."""
    return lead_expertise is None or lead_expertise in inspector.expertise


def candidates(
    subject: Subject,
    inspectors: Iterable[Inspector],
    team: TeamRule,
    conflicted: Collection[str],
) -> list[Inspector]:
    """The candidates of §8.3 for a subject, unranked, in the order given: certificate valid on
    `task_date`, not in conflict with the subject (`conflicted`: the inspector ids its conflict
    entries name), and of the subject's unit under `same-unit`. No seed and no load takes part,
    so whether a subject can have a team at all (§8.6 steps 1–2) is known before the draw."""
    same_unit = team.scope == "same-unit"
    # Dates are validated YYYY-MM-DD with 4-digit years, so string order is date order.
    return [
        i
        for i in inspectors
        if i.cert_valid_until >= team.task_date
        and i.inspector_id not in conflicted
        and (not same_unit or i.unit == subject.unit)
    ]


def infeasibility(
    candidate_ids: Collection[str], qualified: Collection[str], size: int
) -> str | None:
    """§8.6 steps 1–2: why a subject with these candidates gets no team (`insufficient_candidates`,
    then `no_qualified_lead`), or None when step 3 will form one. `qualified`: the ids qualified
    to lead (`is_qualified`)."""
    if len(candidate_ids) < size:
        return INSUFFICIENT
    if not any(i in qualified for i in candidate_ids):
        return NO_QUALIFIED_LEAD
    return None


def ranked_candidates(
    seed_b: bytes,
    subject: Subject,
    inspectors: Iterable[Inspector],
    team: TeamRule,
    conflicted: frozenset[str],
) -> list[str]:
    """Candidates of §8.3 ranked by `(H("inspector", seed_B, s, i), utf8(i))`."""
    base = hashlib.sha256(tag_prefix("inspector") + lp(seed_b) + lp(utf8(subject.subject_id)))
    keyed: list[tuple[bytes, bytes, str]] = []
    for inspector in candidates(subject, inspectors, team, conflicted):
        id_bytes = utf8(inspector.inspector_id)
        h = base.copy()
        h.update(lp(id_bytes))
        keyed.append((h.digest(), id_bytes, inspector.inspector_id))
    keyed.sort()
    return [inspector_id for _, _, inspector_id in keyed]


def form_team(
    ranking: Sequence[str], loads: Mapping[str, int], qualified: frozenset[str], size: int, c: int
) -> tuple[str, list[str]] | None:
    """Team formation at cap `c` (§8.5), or None when the team is not filled at `c`.

    Members come from the whole ranking, skipping only the lead (§15.2).
    """
    eligible = [i for i in ranking if loads[i] < c]
    lead = next((i for i in eligible if i in qualified), None)
    if lead is None:
        return None
    members = [i for i in eligible if i != lead][: size - 1]
    if len(members) < size - 1:
        return None
    return lead, members


def smallest_filling_cap(
    ranking: Sequence[str], loads: Mapping[str, int], qualified: frozenset[str], size: int, cap: int
) -> int:
    """Closed form of §8.6 step 3: `max(cap, m_L + 1, l_size + 1)`."""
    lowest_qualified = min(loads[i] for i in ranking if i in qualified)
    size_th_load = sorted(loads[i] for i in ranking)[size - 1]
    return max(cap, lowest_qualified + 1, size_th_load + 1)


def assign_teams(
    seed_b: bytes,
    subjects: Sequence[Subject],
    inspectors: Sequence[Inspector],
    conflicts: Sequence[Conflict],
    team: TeamRule,
) -> PhaseB:
    """Process the selected subjects in order (§8.2, §8.6) and return the final state."""
    conflicted: dict[str, set[str]] = {}
    for conflict in conflicts:
        conflicted.setdefault(conflict.subject_id, set()).add(conflict.inspector_id)
    state = PhaseB(
        size=team.size,
        cap=load_cap(team.size, len(subjects), len(inspectors)),
        qualified=frozenset(
            i.inspector_id for i in inspectors if is_qualified(i, team.lead_expertise)
        ),
        candidates={},
        loads={i.inspector_id: 0 for i in inspectors},
    )
    rank = _Ranker(seed_b, inspectors, team)
    for subject in subjects:
        ranking = rank(subject, conflicted.get(subject.subject_id, ()))
        state.candidates[subject.subject_id] = ranking
        state.assignments.append(_assign_one(state, subject.subject_id, ranking))
    return state


class _Ranker:
    """`ranked_candidates` for many subjects of one draw: the inspectors whose certificate is
    valid on `task_date` (the one test that does not depend on the subject) and each one's
    `LP(utf8(i))` found once, the `"inspector"` prefix with `LP(seed_B)` hashed once."""

    def __init__(self, seed_b: bytes, inspectors: Iterable[Inspector], team: TeamRule) -> None:
        self._base = hashlib.sha256(tag_prefix("inspector") + lp(seed_b))
        self._same_unit = team.scope == "same-unit"
        self._dated = [
            (i.inspector_id, i.unit, lp(utf8(i.inspector_id)), utf8(i.inspector_id))
            for i in inspectors
            if i.cert_valid_until >= team.task_date
        ]

    def __call__(self, subject: Subject, conflicted: Collection[str]) -> list[str]:
        base = self._base.copy()
        base.update(lp(utf8(subject.subject_id)))
        copy = base.copy
        same_unit, unit = self._same_unit, subject.unit
        keyed: list[tuple[bytes, bytes, str]] = []
        for inspector_id, inspector_unit, prefixed, id_bytes in self._dated:
            if inspector_id in conflicted or (same_unit and inspector_unit != unit):
                continue
            h = copy()
            h.update(prefixed)
            keyed.append((h.digest(), id_bytes, inspector_id))
        keyed.sort()
        return [inspector_id for _, _, inspector_id in keyed]


def _assign_one(state: PhaseB, subject_id: str, ranking: list[str]) -> Assignment:
    infeasible = infeasibility(ranking, state.qualified, state.size)
    if infeasible is not None:
        return Assignment(subject_id, infeasible=infeasible)
    c = smallest_filling_cap(ranking, state.loads, state.qualified, state.size, state.cap)
    team = form_team(ranking, state.loads, state.qualified, state.size, c)
    assert team is not None, "the closed-form cap always fills the team"
    lead, members = team
    for inspector_id in (lead, *members):
        state.loads[inspector_id] += 1
    return Assignment(subject_id, lead=lead, members=tuple(members), cap=c)
