"""§8: candidates, ranking, load cap, team formation and infeasible subjects."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shuangsui.drawspec.encoding import tagged_hash
from shuangsui.drawspec.model import Conflict, Inspector, Subject, TeamRule
from shuangsui.drawspec.phase_b import (
    assign_teams,
    form_team,
    load_cap,
    ranked_candidates,
    smallest_filling_cap,
)

SEED_B = bytes(range(32))
TEAM = TeamRule(size=2, lead_expertise="food", scope="all", task_date="2025-04-15")


def _inspector(
    name: str, unit: str = "", tags: tuple[str, ...] = (), cert: str = "2030-01-01"
) -> Inspector:
    return Inspector(name, unit, tags, cert)


def test_load_cap_is_a_ceiling_and_survives_an_empty_list() -> None:
    assert load_cap(2, 7, 8) == 2
    assert load_cap(2, 8, 8) == 2
    assert load_cap(2, 9, 8) == 3
    assert load_cap(3, 5, 0) == 15
    assert load_cap(2, 0, 4) == 0


def _rule_inspectors() -> list[Inspector]:
    """One inspector per rule of §8.3 a candidate may break (or just keep)."""
    return [
        _inspector("expired", "U1", cert="2025-04-14"),
        _inspector("last-day", "U1", cert="2025-04-15"),
        _inspector("conflicted", "U1"),
        _inspector("other-unit", "U2"),
        _inspector("no-unit", ""),
    ]


def test_candidates_follow_certificate_conflict_and_unit_rules() -> None:
    subject = Subject("S", "A", unit="U1")
    inspectors = _rule_inspectors()
    same_unit = TeamRule(2, None, "same-unit", "2025-04-15")
    ranking = ranked_candidates(SEED_B, subject, inspectors, same_unit, frozenset({"conflicted"}))
    assert ranking == ["last-day"]
    everyone = TeamRule(2, None, "all", "2025-04-15")
    ranking = ranked_candidates(SEED_B, subject, inspectors, everyone, frozenset({"conflicted"}))
    assert set(ranking) == {"last-day", "other-unit", "no-unit"}


def test_empty_unit_matches_only_empty_unit() -> None:
    inspectors = [_inspector("a", ""), _inspector("b", "U1")]
    rule = TeamRule(1, None, "same-unit", "2025-01-01")
    assert ranked_candidates(SEED_B, Subject("S", "A"), inspectors, rule, frozenset()) == ["a"]


def test_ranking_orders_by_inspector_hash() -> None:
    names = [f"I-{i:02d}" for i in range(10)]
    ranking = ranked_candidates(
        SEED_B, Subject("S", "A"), [_inspector(n) for n in names], TEAM, frozenset()
    )
    digest = {n: tagged_hash("inspector", SEED_B, b"S", n.encode()) for n in names}
    assert ranking == sorted(names, key=lambda n: (digest[n], n.encode()))


def test_members_skip_only_the_lead() -> None:
    ranking = ["plain-1", "expert", "plain-2"]
    loads = dict.fromkeys(ranking, 0)
    team = form_team(ranking, loads, frozenset({"expert"}), size=2, c=1)
    assert team == ("expert", ["plain-1"])


def _literal_smallest_cap(ranking, loads, qualified, size, cap):  # type: ignore[no-untyped-def]
    c = cap
    while form_team(ranking, loads, qualified, size, c) is None:
        c += 1
    return c


@settings(max_examples=150, derandomize=True, deadline=None)
@given(
    loads=st.lists(st.integers(0, 6), min_size=1, max_size=8),
    qualified_mask=st.lists(st.booleans(), min_size=8, max_size=8),
    size=st.integers(1, 8),
    cap=st.integers(0, 7),
)
def test_closed_form_cap_is_the_smallest_filling_cap(loads, qualified_mask, size, cap) -> None:  # type: ignore[no-untyped-def]
    ranking = [f"i{n}" for n in range(len(loads))]
    load = dict(zip(ranking, loads, strict=True))
    qualified = frozenset(i for i, q in zip(ranking, qualified_mask, strict=False) if q)
    if len(ranking) < size or not qualified:
        return
    assert smallest_filling_cap(ranking, load, qualified, size, cap) == _literal_smallest_cap(
        ranking, load, qualified, size, cap
    )


def test_infeasible_subjects_take_no_load() -> None:
    subjects = [Subject("few", "A", unit="U0"), Subject("nolead", "A", unit="U1")]
    inspectors = [_inspector("a", "U1"), _inspector("b", "U1"), _inspector("c", "U0")]
    rule = TeamRule(2, "food", "same-unit", "2025-01-01")
    state = assign_teams(SEED_B, subjects, inspectors, [], rule)
    records = [a.to_json() for a in state.assignments]
    assert records == [
        {"subject": "few", "infeasible": "insufficient_candidates"},
        {"subject": "nolead", "infeasible": "no_qualified_lead"},
    ]
    assert set(state.loads.values()) == {0}


def test_without_inspectors_every_subject_is_infeasible() -> None:
    state = assign_teams(SEED_B, [Subject("s", "A")], [], [], TEAM)
    assert state.cap == 2
    assert state.assignments[0].infeasible == "insufficient_candidates"


def test_team_of_one_is_just_a_lead() -> None:
    inspectors = [_inspector("a", tags=("food",)), _inspector("b")]
    rule = TeamRule(1, "food", "all", "2025-01-01")
    state = assign_teams(SEED_B, [Subject("s", "A")], inspectors, [], rule)
    assert state.assignments[0].to_json() == {"subject": "s", "lead": "a", "members": [], "cap": 1}


def test_cap_relaxes_only_when_loads_bind() -> None:
    # Two inspectors, three subjects, size 2: cap = ceil(6/2) = 3, never exceeded.
    inspectors = [_inspector("a", tags=("food",)), _inspector("b", tags=("food",))]
    subjects = [Subject(f"s{i}", "A") for i in range(3)]
    state = assign_teams(SEED_B, subjects, inspectors, [], TEAM)
    assert [a.cap for a in state.assignments] == [3, 3, 3]
    assert state.loads == {"a": 3, "b": 3}


def test_conflicts_remove_the_pair_only() -> None:
    inspectors = [_inspector(n, tags=("food",)) for n in ("a", "b", "c")]
    subjects = [Subject("s1", "A"), Subject("s2", "A")]
    state = assign_teams(SEED_B, subjects, inspectors, [Conflict("s1", "a")], TEAM)
    assert "a" not in state.candidates["s1"]
    assert "a" in state.candidates["s2"]


def test_candidates_are_the_unranked_list_the_ranking_orders() -> None:
    from shuangsui.drawspec.phase_b import candidates

    subject = Subject("S", "A", unit="U1")
    inspectors = _rule_inspectors()
    same_unit = TeamRule(2, None, "same-unit", "2025-04-15")
    found = candidates(subject, inspectors, same_unit, {"conflicted"})
    assert [i.inspector_id for i in found] == ["last-day"]
    everyone = TeamRule(2, None, "all", "2025-04-15")
    found = candidates(subject, inspectors, everyone, ())
    assert [i.inspector_id for i in found] == ["last-day", "conflicted", "other-unit", "no-unit"]
    ranked = ranked_candidates(SEED_B, subject, inspectors, everyone, frozenset())
    assert sorted(ranked) == sorted(i.inspector_id for i in found)


def test_infeasibility_follows_steps_1_and_2_in_order() -> None:
    from shuangsui.drawspec.phase_b import INSUFFICIENT, NO_QUALIFIED_LEAD, infeasibility

    assert infeasibility(["a"], {"a"}, 2) == INSUFFICIENT  # step 1 before step 2
    assert infeasibility([], set(), 1) == INSUFFICIENT
    assert infeasibility(["a", "b"], {"c"}, 2) == NO_QUALIFIED_LEAD
    assert infeasibility(["a", "b"], {"b"}, 2) is None


def test_assign_teams_records_the_infeasibility_the_helpers_predict() -> None:
    from shuangsui.drawspec.phase_b import candidates, infeasibility

    inspectors = [_inspector("I-1", tags=("food",)), _inspector("I-2"), _inspector("I-3")]
    subjects = [Subject("S-1", "A"), Subject("S-2", "A"), Subject("S-3", "A")]
    conflicts = [Conflict("S-2", "I-2"), Conflict("S-2", "I-3"), Conflict("S-3", "I-1")]
    state = assign_teams(SEED_B, subjects, inspectors, conflicts, TEAM)
    qualified = {"I-1"}
    for subject, record in zip(subjects, state.assignments, strict=True):
        conflicted = {c.inspector_id for c in conflicts if c.subject_id == subject.subject_id}
        ids = [i.inspector_id for i in candidates(subject, inspectors, TEAM, conflicted)]
        assert record.infeasible == infeasibility(ids, qualified, TEAM.size), subject
    assert [a.infeasible for a in state.assignments] == [None, "insufficient_candidates",
                                                         "no_qualified_lead"]  # fmt: skip
