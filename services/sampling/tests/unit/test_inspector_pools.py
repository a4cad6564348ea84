"""The inspector pool rules (R16–R19, DRAW_SPEC B.5, B.9–B.11): who a team phase may draw, under
which scope, and which conflicts it commits; then drawspec's own phase B run on what they give."""

import uuid
from dataclasses import replace
from datetime import date

import pytest

from shuangsui.drawspec.builder import DrawInputs
from shuangsui.drawspec.model import Conflict, Subject
from shuangsui.drawspec.phase_b import INSUFFICIENT, assign_teams
from shuangsui.sampling.domain.inspectors import (
    DeclaredConflict,
    PoolInspector,
    SelectionMode,
    TeamPhase,
    county_pools,
    draw_inspector,
    live_conflicts,
    participant_phase,
    pool_of,
    shortfall,
    split_by_county,
    team_rule,
)

BUREAU = "330106-AMR"
WINDOW_END = date(2026, 6, 30)


def officer(station=None, *, org=BUREAU, region="330106", department="market_supervision",
            qualifications=("food_safety",), valid_until=date(2027, 1, 1), status="active"):  # fmt: skip
    return PoolInspector(
        inspector_id=uuid.uuid4(), org_code=org, region_code=region, station_code=station,
        department_type=department, qualifications=tuple(qualifications), specialties=(),
        cert_valid_until=valid_until, status=status, version=1,
    )  # fmt: skip


def phase(mode=SelectionMode.bureau_wide, **changes):
    base = TeamPhase(
        org_code=BUREAU, org_level="county", org_region_code="330106",
        department_type="market_supervision", selection_mode=mode, station_group=(), team_size=2,
        lead_expertise="food_safety", task_date=WINDOW_END,
    )  # fmt: skip
    return replace(base, **changes)


HQ = officer()
AT_01 = officer("330106-01")
AT_02 = officer("330106-02")
AT_03 = officer("330106-03")
OTHER_BUREAU = officer("330105-01", org="330105-AMR", region="330105")
HEALTH = officer(org="330106-WJ", department="health")
BUREAU_STAFF = [HQ, AT_01, AT_02, AT_03, OTHER_BUREAU, HEALTH]


def ids(pool):
    return {m.inspector_id for m in pool.members}


@pytest.mark.parametrize(
    ("mode", "group", "expected"),
    [
        (SelectionMode.bureau_wide, (), {HQ, AT_01, AT_02, AT_03}),
        (SelectionMode.hq_and_stations, (), {HQ, AT_01, AT_02, AT_03}),
        (SelectionMode.station_group, ("330106-01", "330106-03"), {AT_01, AT_03}),
        # Head office has no station: under same-unit it would only match station-less subjects.
        (SelectionMode.single_station, (), {AT_01, AT_02, AT_03}),
    ],
)
def test_each_selection_mode_draws_from_its_own_pool_of_the_bureau(mode, group, expected):
    pool = pool_of(phase(mode, station_group=group), BUREAU_STAFF)

    assert ids(pool) == {i.inspector_id for i in expected}


def test_only_single_station_keeps_teams_to_the_subjects_station():
    assert team_rule(phase(SelectionMode.single_station)).scope == "same-unit"
    for mode in ("bureau_wide", "hq_and_stations", "station_group"):
        assert team_rule(phase(SelectionMode(mode))).scope == "all"


def test_the_team_rule_takes_size_lead_qualification_and_the_window_end():
    rule = team_rule(phase(team_size=3, lead_expertise="special_equipment"))

    assert (rule.size, rule.lead_expertise, rule.task_date) == (
        3,
        "special_equipment",
        "2026-06-30",
    )


@pytest.mark.parametrize(
    ("who", "why"),
    [
        (officer(status="suspended"), "suspended"),
        (officer(status="on_leave"), "on leave"),
        (officer(status="left"), "left"),
        (
            officer(valid_until=date(2026, 6, 29)),
            "certificate lapses the day before the window ends",
        ),
        (officer(department="health"), "another department"),
    ],
)
def test_an_ineligible_officer_is_left_out_of_the_pool(who, why):
    assert ids(pool_of(phase(), [who])) == set(), why


def test_a_certificate_valid_through_the_window_end_is_enough():
    last_day = officer(valid_until=WINDOW_END)

    assert ids(pool_of(phase(), [last_day])) == {last_day.inspector_id}


def test_the_manifest_is_in_byte_order_with_qualifications_as_expertise_and_stations_as_units():
    unsorted_tags = officer("330106-01", qualifications=("special_equipment", "food_safety"))
    pool = pool_of(phase(), [AT_02, unsorted_tags, HQ, AT_01])

    manifest = pool.manifest()
    assert [m.inspector_id for m in manifest] == sorted(m.inspector_id for m in manifest)
    by_id = {m.inspector_id: m for m in manifest}
    tagged = by_id[str(unsorted_tags.inspector_id)]
    assert tagged.expertise == ("food_safety", "special_equipment")
    assert tagged.unit == "330106-01"
    assert by_id[str(HQ.inspector_id)].unit == ""
    assert tagged.cert_valid_until == "2027-01-01"
    # What drawspec itself checks before hashing: order, tags, dates.
    DrawInputs.from_json(
        [{"subject_id": "X", "stratum": "A"}],
        inspectors=[{"inspector_id": m.inspector_id, "unit": m.unit,
                     "expertise": list(m.expertise), "cert_valid_until": m.cert_valid_until}
                    for m in manifest],
    )  # fmt: skip


def test_a_city_bureau_draws_bureau_wide_per_county_and_not_from_its_own_head_office():
    city = phase(org_code="330100-AMR", org_level="city", org_region_code="330100")
    xihu = [officer("330106-01"), officer()]
    gongshu = [
        officer(org="330105-AMR", region="330105"),
        officer(org="330105-AMR", region="330105"),
    ]
    city_hq = officer(org="330100-AMR", region="330100")
    elsewhere = officer(org="330200-AMR", region="330203")

    pools = county_pools(city, [*xihu, *gongshu, city_hq, elsewhere])

    assert [p.county for p in pools] == ["330105", "330106"]
    assert ids(pools[0]) == {i.inspector_id for i in gongshu}
    assert ids(pools[1]) == {i.inspector_id for i in xihu}


def test_a_city_batchs_subjects_go_to_their_countys_pool_and_the_others_are_named():
    city = phase(org_code="330100-AMR", org_level="city", org_region_code="330100")
    gongshu, xihu = county_pools(city, [officer(org="330105-AMR", region="330105"),
                                        officer(org="330106-AMR", region="330106")])  # fmt: skip
    subjects = [("S1", "330106"), ("S2", "330105"), ("S3", "330100"), ("S4", "330106"),
                ("S5", "330108")]  # fmt: skip

    split = split_by_county([gongshu, xihu], subjects, lambda s: s[1])

    assert [(p.county, [s for s, _ in part]) for p, part in split.drawn] == [
        ("330105", ["S2"]), ("330106", ["S1", "S4"]),
    ]  # fmt: skip
    # The city's own district and a county without officers: no county's draw takes them.
    assert [s for s, _ in split.unplaced] == ["S3", "S5"]


def test_a_county_without_subjects_has_no_draw():
    city = phase(org_code="330100-AMR", org_level="city", org_region_code="330100")
    pools = county_pools(city, [officer(org="330105-AMR", region="330105"),
                                officer(org="330106-AMR", region="330106")])  # fmt: skip

    split = split_by_county(pools, [("S1", "330106")], lambda s: s[1])

    assert [p.county for p, _ in split.drawn] == ["330106"]
    assert split.unplaced == ()


def test_a_county_bureau_has_one_pool():
    [pool] = county_pools(phase(), BUREAU_STAFF)

    assert pool.county is None
    assert ids(pool) == {i.inspector_id for i in (HQ, AT_01, AT_02, AT_03)}


def test_a_partner_department_draws_over_all_its_own_officers_with_its_own_lead_rule():
    lead = phase(SelectionMode.single_station)
    health_station = officer("330106-01", org="330106-WJ", department="health")
    partner = participant_phase(lead, "330106-WJ", "health", None)

    pool = pool_of(partner, [*BUREAU_STAFF, health_station])

    assert ids(pool) == {HEALTH.inspector_id, health_station.inspector_id}
    assert pool.team_rule().scope == "all"
    assert pool.team_rule().lead_expertise is None
    assert (partner.team_size, partner.task_date) == (lead.team_size, lead.task_date)


def conflict(inspector, uscc, *, withdrawn=False):
    return DeclaredConflict(uuid.uuid4(), inspector.inspector_id, uscc, date(2025, 1, 1),
                            "directory", withdrawn, 2)  # fmt: skip


def test_live_conflicts_of_the_pool_with_the_draws_subjects_are_committed_in_order():
    pool = pool_of(phase(), BUREAU_STAFF)
    declared = [
        conflict(AT_01, "91330106B"),
        conflict(AT_01, "91330106A"),
        conflict(AT_02, "91330106A", withdrawn=True),  # withdrawn: recuses nobody
        conflict(OTHER_BUREAU, "91330106A"),  # not in the pool
        conflict(HQ, "91330106Z"),  # not a subject of this draw
        conflict(AT_01, "91330106A"),  # a second declaration of the same pair
    ]

    found = live_conflicts(pool, declared, {"91330106A", "91330106B"})

    assert found == (
        Conflict("91330106A", str(AT_01.inspector_id)),
        Conflict("91330106B", str(AT_01.inspector_id)),
    )
    assert len(live_conflicts(pool, declared)) == 3


def test_a_pool_smaller_than_a_team_or_without_a_qualified_lead_falls_short():
    assert shortfall(pool_of(phase(team_size=5), BUREAU_STAFF)).reason == "insufficient_candidates"
    unqualified = [officer(qualifications=("general",)), officer(qualifications=())]
    short = shortfall(pool_of(phase(), unqualified))
    assert (short.reason, short.missing_qualification) == ("no_qualified_lead", "food_safety")
    assert shortfall(pool_of(phase(lead_expertise=None), unqualified)) is None
    assert shortfall(pool_of(phase(), BUREAU_STAFF)) is None


def test_drawspec_assigns_teams_from_the_pool_and_respects_its_conflicts_and_stations():
    """The pool's outputs are what phase B takes: conflicts recuse, same-unit keeps stations."""
    lone = officer("330106-09", qualifications=("food_safety",))
    staff = [AT_01, officer("330106-01", qualifications=()), AT_02, officer("330106-02"), lone]
    pool = pool_of(phase(SelectionMode.single_station), staff)
    subjects = [
        Subject("91330106A", "A", "330106-01"),
        Subject("91330106B", "A", "330106-02"),
        Subject("91330106C", "A", "330106-09"),  # one officer at that station: no full team
    ]
    declared = [conflict(AT_02, "91330106B")]
    conflicts = live_conflicts(pool, declared, {s.subject_id for s in subjects})

    state = assign_teams(b"\x00" * 32, subjects, pool.manifest(), conflicts, pool.team_rule())

    by_subject = {a.subject: a for a in state.assignments}
    first = by_subject["91330106A"]
    station_01 = {str(i.inspector_id) for i in staff if i.station_code == "330106-01"}
    assert {first.lead, *first.members} == station_01
    assert first.lead == str(AT_01.inspector_id)  # the only one qualified to lead there
    # AT_02 declared a conflict with B: the station's other officer alone cannot make a team.
    assert by_subject["91330106B"].infeasible == INSUFFICIENT
    assert by_subject["91330106C"].infeasible == INSUFFICIENT


def test_an_officer_reaches_the_manifest_as_an_opaque_id_only():
    entry = draw_inspector(AT_01)

    assert entry.inspector_id == str(AT_01.inspector_id)
    assert set(vars(type(entry))["__slots__"]) == {"inspector_id", "unit", "expertise",
                                                   "cert_valid_until"}  # fmt: skip
