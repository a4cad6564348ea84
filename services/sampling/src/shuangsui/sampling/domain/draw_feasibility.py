"""Whether every subject a draw may select can be given a full eligible team (R16–R18), decided
before the commit.

IDS-1 records a subject whose candidates cannot make a team as `infeasible` (DRAW_SPEC §8.6
steps 1–2). Those steps depend on the subject, the inspector manifest, the conflicts and the
team rule only — never on the seed or on the loads — so they can be run on every drawable
subject of the manifest before any randomness exists. Candidates and the lead rule are
drawspec's own (`phase_b.candidates`, `is_qualified`, `infeasibility`): nothing here
re-implements eligibility. What the commit refuses is exactly what the draw would have recorded
as infeasible.

A subject is drawable when its stratum's sample size is above zero (§7.1): a stratum drawn at
`0/1` or a count of 0 selects nobody, and its subjects need no team.

Pure: a plan in, the shortfalls out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shuangsui.drawspec.model import Inspector, Subject, TeamRule
from shuangsui.drawspec.phase_a import sample_size
from shuangsui.drawspec.phase_b import NO_QUALIFIED_LEAD, candidates, infeasibility, is_qualified
from shuangsui.sampling.domain.draw_inputs import DrawPlan


@dataclass(frozen=True)
class TeamShortfall:
    """A drawable subject whose pool cannot give a full eligible team (R18): how many officers
    are candidates for it (`eligible`: certificate valid through the window end, no declared
    conflict, of its station under `same-unit`), how many a team needs, how many of the
    candidates hold the lead's qualification, and the qualification missing (for
    `no_qualified_lead`)."""

    subject_id: str  # the USCC (B.1)
    unit: str  # the station with jurisdiction, "" if none
    reason: str  # insufficient_candidates | no_qualified_lead (DRAW_SPEC §8.6)
    eligible: int
    needed: int
    qualified: int
    missing_qualification: str | None

    def to_json(self) -> dict[str, object]:
        return {"subject_id": self.subject_id, "unit": self.unit, "reason": self.reason,
                "eligible": self.eligible, "needed": self.needed, "qualified": self.qualified,
                "missing_qualification": self.missing_qualification}  # fmt: skip


def drawable(plan: DrawPlan) -> list[Subject]:
    """The manifest's subjects the draw may select: those of strata with a sample size > 0."""
    sizes: dict[str, int] = {}
    for subject in plan.inputs.manifest:
        sizes[subject.stratum] = sizes.get(subject.stratum, 0) + 1
    drawn = {r.stratum for r in plan.strata if sample_size(sizes.get(r.stratum, 0), r.rule) > 0}
    return [s for s in plan.inputs.manifest if s.stratum in drawn]


def team_shortfalls(plan: DrawPlan) -> tuple[TeamShortfall, ...]:
    """Every drawable subject that IDS-1 would record as infeasible, in manifest order; none for
    a draw without teams.

    Candidacy depends on the subject only through its unit and its conflicts, so the
    candidates are found once per unit and narrowed by each conflicted subject's own entries
    (the same `candidates` again): a province-wide manifest costs one pass, not one per
    inspector."""
    team = plan.team
    if team is None:
        return ()
    officers = plan.inputs.inspectors
    qualified = frozenset(i.inspector_id for i in officers if is_qualified(i, team.lead_expertise))
    conflicted: dict[str, set[str]] = {}
    for conflict in plan.inputs.conflicts:
        conflicted.setdefault(conflict.subject_id, set()).add(conflict.inspector_id)
    # Per unit: its candidates, their ids and the verdict for a subject without conflicts.
    by_unit: dict[str, tuple[list[Inspector], list[str], str | None]] = {}
    found: list[TeamShortfall] = []
    for subject in drawable(plan):
        unit = by_unit.get(subject.unit)
        if unit is None:
            pool = candidates(subject, officers, team, ())
            ids = [i.inspector_id for i in pool]
            unit = by_unit[subject.unit] = (pool, ids, infeasibility(ids, qualified, team.size))
        pool, ids, reason = unit
        own = conflicted.get(subject.subject_id)
        if own:
            ids = [i.inspector_id for i in candidates(subject, pool, team, own)]
            reason = infeasibility(ids, qualified, team.size)
        if reason is not None:
            found.append(_shortfall(subject, ids, qualified, team, reason))
    return tuple(found)


def _shortfall(
    subject: Subject, ids: Sequence[str], qualified: frozenset[str], team: TeamRule, reason: str
) -> TeamShortfall:
    return TeamShortfall(
        subject_id=subject.subject_id, unit=subject.unit, reason=reason, eligible=len(ids),
        needed=team.size, qualified=sum(1 for i in ids if i in qualified),
        missing_qualification=team.lead_expertise if reason == NO_QUALIFIED_LEAD else None,
    )  # fmt: skip


def summary(shortfalls: Sequence[TeamShortfall], shown: int = 5) -> str:
    """One sentence naming the first subjects and what each lacks."""
    parts = []
    for s in shortfalls[:shown]:
        if s.missing_qualification is not None:
            parts.append(f"{s.subject_id}: none of its {s.eligible} eligible officers holds "
                         f"{s.missing_qualification}")  # fmt: skip
        else:
            parts.append(f"{s.subject_id}: {s.eligible} eligible of {s.needed} needed")
    more = f"; and {len(shortfalls) - shown} more" if len(shortfalls) > shown else ""
    return (
        f"{len(shortfalls)} drawable subject(s) cannot be given a full eligible team (R18): "
        + "; ".join(parts)
        + more
    )
