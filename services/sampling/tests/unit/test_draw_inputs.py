"""A published batch, its population and its pools become exactly the IDS-1 inputs of DRAW_SPEC
Appendix B, and the draw they commit to is the spec's: TV3 is reproduced byte for byte from
sampling's own rows (USCC, station, risk class, qualifications, declared conflicts)."""

from __future__ import annotations

import random
import uuid
from datetime import date

import pytest
from draw_testkit import Declared, Officer, Row, batch, vector

from shuangsui.drawspec import FixedBeacon, Recusal, Subject, verify_tree
from shuangsui.drawspec.model import Ratio
from shuangsui.sampling.domain.draw_inputs import (
    DepartmentPool,
    ExclusionRow,
    departments,
    subject_draw,
    team_draw,
)
from shuangsui.sampling.domain.draws import Draw, DrawKind, DrawRuleError

TV3 = vector("TV3-teams")


def tv3_batch():
    return batch(
        strata=[
            {"stratum": "A", "ratio": None, "count": 4},
            {"stratum": "B", "ratio": "1/2", "count": None},
        ],
        selection_mode="single_station",
        station_group=[],
        team_size=2,
        lead_expertise="food",
        window_start="2025-04-01",
        window_end="2025-04-15",
        exclusion_policy=[],
    )


def tv3_rows() -> tuple[list[Row], DepartmentPool]:
    bundle = TV3["bundle"]
    rows = [Row(s["subject_id"], s["unit"], {"general": s["stratum"]}) for s in bundle["manifest"]]
    officers = [
        Officer(
            i["inspector_id"],
            i["unit"] or None,
            tuple(reversed(i["expertise"])),  # the directory's order is not the committed one
            date.fromisoformat(i["cert_valid_until"]),
        )
        for i in bundle["inspectors"]
    ]
    declared = [Declared(c["inspector_id"], c["subject_id"]) for c in bundle["conflicts"]]
    # Neither of these can matter to the draw, so neither is committed (§3.4).
    declared += [
        Declared("I-02", "91110105MA0A0001", withdrawn=True),
        Declared("I-02", "91110105MZ9999999"),
        Declared("I-99", "91110105MA0A0003"),
    ]
    random.Random(3).shuffle(rows)
    random.Random(4).shuffle(officers)
    return rows, DepartmentPool(officers, declared)


def test_tv3_is_reproduced_from_sampling_rows_end_to_end() -> None:
    rows, pool = tv3_rows()
    plan = subject_draw(tv3_batch(), rows, (), pool)
    committed = TV3["bundle"]["commitment"]
    document = plan.commitment(
        committed["draw_id"], FixedBeacon(committed["beacon"]["value"]), committed["committed_at"]
    )
    assert document == committed

    draw = Draw(uuid.uuid4(), committed["draw_id"], uuid.uuid4(), plan.kind).commit(
        document, test_mode=True
    )
    draw = draw.reveal(committed["beacon"]["value"])
    recusals = [Recusal(r["subject_id"], r["inspector_id"], r["reason"])
                for r in TV3["bundle"]["recusals"]]  # fmt: skip
    draw = draw.compute(plan.inputs, recusals)
    assert draw.result == TV3["expected"]
    assert verify_tree(draw.bundle) == TV3["expected"]


def test_single_station_batch_keeps_teams_to_the_subjects_station() -> None:
    rows, pool = tv3_rows()
    plan = subject_draw(tv3_batch(), rows, (), pool)
    assert plan.kind is DrawKind.combined
    assert plan.team is not None
    assert (plan.team.scope, plan.team.task_date, plan.team.lead_expertise, plan.team.size) == (
        "same-unit", "2025-04-15", "food", 2,
    )  # fmt: skip
    other = subject_draw(tv3_batch().model_copy(update={"selection_mode": "bureau_wide"}), rows,
                         (), pool)  # fmt: skip
    assert other.team is not None
    assert other.team.scope == "all"


def test_unclassified_subjects_are_drawn_in_the_batchs_class_and_weight_is_one() -> None:
    b = batch()  # general domain, unclassified drawn as B
    rows = [
        Row("91330106MA0000002X", "330106-01", {"general": "A", "food": "D"}),
        Row("91330106MA0000001X", None, {"food": "C"}),
    ]
    plan = subject_draw(b, rows, (), DepartmentPool([]))
    assert plan.inputs.manifest == (
        Subject("91330106MA0000001X", "B", "", 1),
        Subject("91330106MA0000002X", "A", "330106-01", 1),
    )
    food = subject_draw(b.model_copy(update={"risk_domain": "food"}), rows, (), DepartmentPool([]))
    assert [s.stratum for s in food.inputs.manifest] == ["C", "D"]


def test_strata_keep_the_batchs_reduced_ratios_and_counts() -> None:
    plan = subject_draw(batch(), [Row("91330106MA0000001X", None)], (), DepartmentPool([]))
    assert [(r.stratum, r.rule) for r in plan.strata] == [
        ("A", Ratio("3", "100")), ("B", Ratio("1", "10")), ("C", Ratio("3", "10")), ("D", 20),
    ]  # fmt: skip


def test_excluded_subjects_leave_the_manifest_and_are_committed_with_their_b7_code() -> None:
    rows = [Row(f"91330106MA000000{n}X", None, {"general": "C"}) for n in range(1, 5)]
    excluded = [
        ExclusionRow("91330106MA0000003X", "OTHER_WITH_NOTE"),
        ExclusionRow("91330106MA0000001X", "OTHER_WITH_NOTE", "停业装修"),
        ExclusionRow("91330106MA0000001X", "INSPECTED_RECENTLY"),  # first in the policy: kept
        ExclusionRow("91330106MZ9999999X", "INSPECTED_RECENTLY"),  # not in the population
    ]
    plan = subject_draw(batch(), rows, excluded, DepartmentPool([]))
    assert [(e.subject_id, e.reason) for e in plan.inputs.exclusions] == [
        ("91330106MA0000001X", "INSPECTED_RECENTLY"),
        ("91330106MA0000003X", "OTHER_WITH_NOTE:停业装修"),
    ]
    assert [s.subject_id for s in plan.inputs.manifest] == [
        "91330106MA0000002X", "91330106MA0000004X",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "row",
    [
        ExclusionRow("91330106MA0000001X", "UNDER_INVESTIGATION"),  # not in the batch's policy
        ExclusionRow("91330106MA0000001X", "INSPECTED_THIS_YEAR"),  # not a B.7 code
        ExclusionRow("91330106MA0000001X", "OTHER_WITH_NOTE", "另一说明"),  # not the batch's note
    ],
)
def test_an_exclusion_reason_outside_the_batchs_policy_is_refused(row: ExclusionRow) -> None:
    rows = [Row("91330106MA0000001X", None)]
    with pytest.raises(DrawRuleError) as refused:
        subject_draw(batch(), rows, [row], DepartmentPool([]))
    assert refused.value.rule == "draw-exclusion-reason"


def test_a_subject_twice_or_in_a_class_the_batch_does_not_draw_is_refused() -> None:
    twice = [Row("91330106MA0000001X", None), Row("91330106MA0000001X", "330106-01")]
    with pytest.raises(DrawRuleError) as refused:
        subject_draw(batch(), twice, (), DepartmentPool([]))
    assert refused.value.rule == "E_DUPLICATE"
    only_a = batch(strata=[{"stratum": "A", "ratio": "1/5", "count": None}])
    with pytest.raises(DrawRuleError) as refused:
        subject_draw(only_a, [Row("91330106MA0000001X", None)], (), DepartmentPool([]))
    assert refused.value.rule == "E_UNKNOWN_STRATUM"


def test_a_combined_draw_needs_the_departments_pool() -> None:
    with pytest.raises(DrawRuleError) as refused:
        subject_draw(batch(), [Row("91330106MA0000001X", None)])
    assert refused.value.rule == "draw-no-pool"


def test_an_expertise_tag_with_a_comma_is_refused_with_the_spec_code() -> None:
    pool = DepartmentPool([Officer("I-1", None, ("food,drug",), date(2030, 1, 1))])
    with pytest.raises(DrawRuleError) as refused:
        subject_draw(batch(), [Row("91330106MA0000001X", None)], (), pool)
    assert refused.value.rule == "E_SCHEMA"


# ---- joint batches (B.11, R20) ---------------------------------------------------------------

HEALTH = uuid.UUID("3c9e5a71-2b4d-4f6a-9b0c-1d2e3f4a5b6c")  # the example's participant
BEACON = "5f3be94dddf83cdc2cfed1a2cb2e6947d42602031a3007e0145158b51208bd82"


def joint_batch():
    return batch(
        joint_kind="cross_department",
        participants=[
            {
                "org_id": str(HEALTH),
                "org_code": "330106-WJ",
                "department_type": "health",
                "lead_expertise": "hygiene",
            }
        ],
    )


def run(plan, code: str) -> Draw:
    document = plan.commitment(code, FixedBeacon(BEACON), "2026-03-20T02:00:00Z")
    draw = Draw(uuid.uuid4(), code, uuid.uuid4(), plan.kind).commit(document, test_mode=True)
    return draw.reveal(BEACON).compute(plan.inputs)


def joint_rows():
    rows = [
        Row(f"9133010{c}MA00000{n}X", f"330106-0{n}", {"general": c})
        for c in "ABCD"
        for n in (1, 2, 3)
    ]
    market = DepartmentPool(
        [Officer(f"M-{n}", "330106-01", ("food_safety",), date(2026, 12, 31)) for n in range(4)],
        [Declared("M-0", "9133010DMA000001X")],
    )
    health = DepartmentPool(
        [Officer(f"H-{n}", None, ("hygiene",) if n else (), date(2026, 12, 31)) for n in range(3)]
    )
    return rows, {joint_batch().org_id: market, HEALTH: health}


def test_a_joint_batch_draws_subjects_once_for_all_departments_without_teams() -> None:
    rows, pools = joint_rows()
    plan = subject_draw(joint_batch(), rows, (), pools[joint_batch().org_id])
    assert (plan.kind, plan.team, plan.org_id) == (DrawKind.subjects, None, None)
    assert plan.inputs.inspectors == ()
    assert plan.inputs.conflicts == ()
    assert run(plan, "330106202603150001-01").result["assignments"] == []


def test_each_department_then_draws_its_own_teams_over_the_one_selection() -> None:
    b = joint_batch()
    rows, pools = joint_rows()
    subjects = subject_draw(b, rows)
    done = run(subjects, "330106202603150001-01")
    selected = sorted(i for s in done.result["strata"] for i in s["selected"])
    assert departments(b) == ((b.org_id, "market_supervision"), (HEALTH, "health"))

    for n, (org_id, department) in enumerate(departments(b), start=2):
        plan = team_draw(b, subjects, done.result, org_id, pools[org_id])
        assert (plan.kind, plan.org_id, plan.department_type) == (
            DrawKind.teams,
            org_id,
            department,
        )
        assert [s.subject_id for s in plan.inputs.manifest] == selected
        assert plan.inputs.exclusions == ()
        assert {r.rule for r in plan.strata} == {Ratio("1", "1")}
        teams = run(plan, f"330106202603150001-{n:02d}").result
        # Phase A selects everyone; phase B assigns only this department's officers.
        assert all(s["sample_size"] == s["population"] for s in teams["strata"])
        assert sorted(a["subject"] for a in teams["assignments"]) == selected
        own = {str(m.inspector_id) for m in pools[org_id].members}
        for a in teams["assignments"]:
            assert {a["lead"], *a["members"]} <= own

    lead_plan = team_draw(b, subjects, done.result, b.org_id, pools[b.org_id])
    health_plan = team_draw(b, subjects, done.result, HEALTH, pools[HEALTH])
    assert lead_plan.team is not None
    assert health_plan.team is not None
    assert (lead_plan.team.lead_expertise, lead_plan.team.scope) == ("food_safety", "all")
    assert (health_plan.team.lead_expertise, health_plan.team.scope) == ("hygiene", "all")
    assert health_plan.team.task_date == "2026-06-30"
    # A declared conflict is committed only where its subject was selected.
    assert all(c.subject_id in selected for c in lead_plan.inputs.conflicts)


def test_a_team_draw_is_refused_for_an_org_outside_the_batch_or_over_a_combined_draw() -> None:
    b = joint_batch()
    rows, pools = joint_rows()
    subjects = subject_draw(b, rows)
    done = run(subjects, "330106202603150001-01")
    with pytest.raises(DrawRuleError) as refused:
        team_draw(b, subjects, done.result, uuid.uuid4(), pools[HEALTH])
    assert refused.value.rule == "draw-not-a-department"
    single = batch()
    combined = subject_draw(single, rows, (), pools[single.org_id])
    with pytest.raises(DrawRuleError) as refused:
        team_draw(single, combined, done.result, single.org_id, pools[single.org_id])
    assert refused.value.rule == "draw-subjects-not-completed"


def test_an_internal_joint_batch_is_one_department_and_one_combined_draw() -> None:
    b = batch(joint_kind="internal")
    rows, pools = joint_rows()
    assert departments(b) == ((b.org_id, "market_supervision"),)
    assert subject_draw(b, rows, (), pools[b.org_id]).kind is DrawKind.combined
