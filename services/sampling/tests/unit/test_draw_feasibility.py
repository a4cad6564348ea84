"""R18 before the commit: which drawable subjects cannot be given a full eligible team, by
drawspec's own candidates — exactly the subjects the draw would record as infeasible."""

from __future__ import annotations

import random
from datetime import date

from draw_testkit import Declared, Officer, Row, batch

from shuangsui.drawspec.phase_b import assign_teams
from shuangsui.sampling.domain import draw_inputs as mapping
from shuangsui.sampling.domain.draw_feasibility import drawable, summary, team_shortfalls

LATE = date(2027, 12, 31)  # valid through the example batch's window end (2026-06-30)
QUALIFIED = ("food_safety",)


def _plan(rows, officers, declared=(), **changes):
    published = batch(**changes)
    return mapping.subject_draw(published, rows, (), mapping.DepartmentPool(officers, declared))


def _usccs(n, unit="330106-01"):
    return [Row(f"91330106MA{k:08d}", unit, {"general": "B"}) for k in range(n)]


def test_a_pool_that_fills_every_team_has_no_shortfall():
    officers = [Officer(f"i-{k}", "330106-01", QUALIFIED, LATE) for k in range(2)]
    assert team_shortfalls(_plan(_usccs(3), officers)) == ()


def test_a_conflict_that_leaves_too_few_candidates_names_the_subject_and_the_counts():
    rows = _usccs(3)
    officers = [Officer(f"i-{k}", "330106-01", QUALIFIED, LATE) for k in range(2)]
    plan = _plan(rows, officers, [Declared("i-0", rows[1].uscc)])
    [short] = team_shortfalls(plan)
    assert short.to_json() == {
        "subject_id": rows[1].uscc, "unit": "330106-01", "reason": "insufficient_candidates",
        "eligible": 1, "needed": 2, "qualified": 1, "missing_qualification": None,
    }  # fmt: skip
    assert "1 eligible of 2 needed" in summary([short])


def test_a_station_without_a_qualified_officer_names_the_missing_qualification():
    north, south = _usccs(1, "330106-01"), [Row("91330106MB00000001", "330106-02",
                                                {"general": "B"})]  # fmt: skip
    officers = [
        Officer("a", "330106-01", QUALIFIED, LATE), Officer("b", "330106-01", (), LATE),
        Officer("c", "330106-02", ("tobacco",), LATE), Officer("d", "330106-02", (), LATE),
    ]  # fmt: skip
    plan = _plan(north + south, officers, selection_mode="single_station", station_group=[])
    [short] = team_shortfalls(plan)
    assert (short.subject_id, short.reason, short.eligible, short.qualified) == (
        south[0].uscc, "no_qualified_lead", 2, 0)  # fmt: skip
    assert short.missing_qualification == "food_safety"
    assert "holds food_safety" in summary([short])


def test_a_certificate_ending_before_the_window_end_is_no_candidate():
    rows = _usccs(1)
    officers = [Officer("a", "330106-01", QUALIFIED, LATE),
                Officer("b", "330106-01", QUALIFIED, date(2026, 6, 29))]  # fmt: skip
    [short] = team_shortfalls(_plan(rows, officers))
    assert (short.eligible, short.needed) == (1, 2)


def test_a_stratum_that_draws_nobody_needs_no_team():
    rows = _usccs(2)
    officers = [Officer("a", "330106-01", QUALIFIED, LATE), Officer("b", "330106-01", (), LATE)]
    strata = [{"stratum": "B", "ratio": "0/1", "count": None}]
    plan = _plan(rows, officers, [Declared("b", rows[0].uscc)], strata=strata)
    assert drawable(plan) == []
    assert team_shortfalls(plan) == ()


def test_a_draw_without_teams_has_no_shortfall():
    partner = {"org_id": "3c9e5a71-2b4d-4f6a-9b0c-1d2e3f4a5b6c", "org_code": "330106-WJ",
               "department_type": "health", "lead_expertise": None}  # fmt: skip
    joint = batch(joint_kind="cross_department", participants=[partner])
    plan = mapping.subject_draw(joint, _usccs(2))
    assert plan.team is None
    assert team_shortfalls(plan) == ()


def test_the_shortfalls_are_the_subjects_the_draw_records_as_infeasible():
    """Whatever the seed, phase B's infeasible records over every drawable subject are the
    shortfalls: the pre-commit check and the draw agree (fixed seeds, never flaky)."""
    for seed in range(30):
        rng = random.Random(seed)
        units = ["330106-01", "330106-02"]
        rows = [Row(f"91330106MC{seed:02d}{k:06d}", rng.choice(units), {"general": "B"})
                for k in range(12)]  # fmt: skip
        officers = [
            Officer(f"o-{seed}-{k}", rng.choice(units), rng.choice([QUALIFIED, (), ("x",)]),
                    rng.choice([LATE, date(2026, 6, 1)]))
            for k in range(rng.randint(2, 6))
        ]  # fmt: skip
        declared = [Declared(rng.choice(officers).inspector_id, rng.choice(rows).uscc)
                    for _ in range(rng.randint(0, 8))]  # fmt: skip
        mode = rng.choice([{"selection_mode": "single_station", "station_group": []}, {}])
        strata = [{"stratum": "B", "ratio": "1/1", "count": None}]
        plan = _plan(rows, officers, declared, strata=strata, **mode)
        assert plan.team is not None
        state = assign_teams(bytes(32), drawable(plan), plan.inputs.inspectors,
                             plan.inputs.conflicts, plan.team)  # fmt: skip
        infeasible = [(a.subject, a.infeasible) for a in state.assignments if a.infeasible]
        assert [(s.subject_id, s.reason) for s in team_shortfalls(plan)] == infeasible, seed


def test_only_a_prepared_draw_of_the_same_decision_is_rebuilt_in_place():
    from uuid import uuid4

    from shuangsui.sampling.domain.draws import DrawKind, DrawStatus, DrawSummary, prepared_draw

    org = uuid4()
    first = DrawSummary("330106202603150001-01", DrawKind.combined, DrawStatus.prepared, org,
                        None, "330102")  # fmt: skip
    other = DrawSummary("330106202603150001-02", DrawKind.combined, DrawStatus.committed, org,
                        None, "330103")  # fmt: skip
    earlier = [first, other]
    assert prepared_draw(earlier, DrawKind.combined, county_code="330102") == first
    assert prepared_draw(earlier, DrawKind.combined, county_code="330103") is None  # committed
    assert prepared_draw(earlier, DrawKind.combined, county_code="330104") is None
    assert prepared_draw(earlier, DrawKind.teams, org_id=org, county_code="330102") is None
