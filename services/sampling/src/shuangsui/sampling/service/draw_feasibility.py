"""Feasibility of a draw's teams before its commit (R18): a draw some of whose drawable subjects
cannot be given a full eligible team is refused at the commit, naming them, and its prepare
already shows them (`team_shortfalls`), so that the planner sees them first. The rule is
`domain.draw_feasibility`, on drawspec's own candidates."""

from __future__ import annotations

from shuangsui.kernel import problems as p
from shuangsui.sampling.adapters.draws import StoredDraw
from shuangsui.sampling.domain import draw_feasibility as rules
from shuangsui.sampling.domain.draw_inputs import DrawPlan
from shuangsui.sampling.service import draw_access as access

DRAW_TEAM_INFEASIBLE = p.problem_type(
    "draw-team-infeasible", 422, "Some subjects cannot be given a full team · 部分对象无法组成"
    "完整检查组",
    "Nothing was committed: every subject the draw may select needs a full eligible team "
    "(R18: team size, the lead's qualification, certificates valid through the window end, no "
    "declared conflict). `team_shortfalls` names each subject with `eligible`, `needed`, "
    "`qualified` and the `missing_qualification` (at most 100; `shortfall_count` is the total). "
    "Add officers or qualifications to the pool, or exclude the subjects, and prepare again.",
)  # fmt: skip
SHOWN = 100


def shortfalls_of(stored: StoredDraw) -> tuple[rules.TeamShortfall, ...]:
    """The shortfalls of a prepared draw's frozen inputs."""
    return rules.team_shortfalls(access.plan_of(stored))


def check_feasible(plan: DrawPlan) -> None:
    """Refuse the commit of a plan with a shortfall (R18); nothing is stored."""
    found = rules.team_shortfalls(plan)
    if not found:
        return
    raise p.Problem(
        DRAW_TEAM_INFEASIBLE, rules.summary(found), rule="draw-team-infeasible",
        field="inspectors", subjects=[s.subject_id for s in found[:SHOWN]],
        team_shortfalls=[s.to_json() for s in found[:SHOWN]], shortfall_count=len(found),
    )  # fmt: skip
