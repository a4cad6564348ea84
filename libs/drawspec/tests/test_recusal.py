"""§9: recusals act on a working copy, release load and append a replacement log."""

from __future__ import annotations

import pytest

from shuangsui.drawspec import Rejected
from shuangsui.drawspec.model import Recusal
from shuangsui.drawspec.phase_b import Assignment, PhaseB
from shuangsui.drawspec.recusal import apply_recusals


def _state(
    ranking: list[str],
    lead: str,
    members: list[str],
    qualified: set[str],
    loads: dict[str, int] | None = None,
    size: int = 3,
    cap: int = 1,
) -> PhaseB:
    load = dict.fromkeys(ranking, 0) | (loads or {})
    for i in (lead, *members):
        load[i] += 1
    return PhaseB(
        size=size,
        cap=cap,
        qualified=frozenset(qualified),
        candidates={"s": ranking, "other": ranking},
        loads=load,
        assignments=[
            Assignment("s", lead=lead, members=tuple(members), cap=cap),
            Assignment("other", infeasible="no_qualified_lead"),
        ],
    )


def test_member_replacement_keeps_rank_order() -> None:
    state = _state(["a", "b", "c", "d"], lead="a", members=["c", "d"], qualified={"a"})
    log = apply_recusals(state, [Recusal("s", "c")])
    assert [r.to_json() for r in log] == [
        {"subject": "s", "recused": "c", "role": "member", "replacement": "b", "cap": 1}
    ]
    assert state.loads == {"a": 1, "b": 1, "c": 0, "d": 1}
    assert state.assignments[0].members == ("c", "d"), "published assignments stay as drawn"


def test_lead_replacement_ignores_unqualified_candidates_even_for_the_cap() -> None:
    state = _state(
        ["a", "plain", "q"], lead="a", members=[], qualified={"a", "q"}, loads={"q": 4}, size=1
    )
    [record] = apply_recusals(state, [Recusal("s", "a")])
    # "plain" has load 0 but is not qualified: c = max(cap, load(q) + 1) = 5.
    assert record.to_json() == {
        "subject": "s",
        "recused": "a",
        "role": "lead",
        "replacement": "q",
        "cap": 5,
    }


def test_failed_replacements_are_logged_and_leave_a_vacancy() -> None:
    state = _state(["a", "b", "c"], lead="a", members=["b", "c"], qualified={"a"})
    log = apply_recusals(state, [Recusal("s", "a"), Recusal("s", "b")])
    assert [r.to_json() for r in log] == [
        {
            "subject": "s",
            "recused": "a",
            "role": "lead",
            "replacement": None,
            "infeasible": "insufficient_candidates",
        },
        {
            "subject": "s",
            "recused": "b",
            "role": "member",
            "replacement": None,
            "infeasible": "insufficient_candidates",
        },
    ]


def test_no_qualified_lead_left_is_recorded_as_such() -> None:
    state = _state(["a", "b", "c", "d"], lead="a", members=["b"], qualified={"a"}, size=2)
    [record] = apply_recusals(state, [Recusal("s", "a")])
    assert record.infeasible == "no_qualified_lead"
    assert record.replacement is None


def test_vacant_lead_is_not_filled_by_a_later_member_recusal() -> None:
    state = _state(["a", "b", "c", "d"], lead="a", members=["b"], qualified={"a"}, size=2)
    log = apply_recusals(state, [Recusal("s", "a"), Recusal("s", "b")])
    assert log[1].role == "member"
    assert log[1].replacement == "c"
    again = _state(["a", "b", "c", "d"], lead="a", members=["b"], qualified={"a"}, size=2)
    with pytest.raises(Rejected) as caught:
        apply_recusals(again, [Recusal("s", "a"), Recusal("s", "b"), Recusal("s", "a")])
    assert caught.value.code == "E_RECUSAL"


def test_a_replacement_can_itself_be_recused() -> None:
    state = _state(["a", "b", "c", "d"], lead="a", members=["b"], qualified={"a"}, size=2)
    log = apply_recusals(state, [Recusal("s", "b"), Recusal("s", "c")])
    assert [r.replacement for r in log] == ["c", "d"]


@pytest.mark.parametrize(
    "recusal",
    [
        Recusal("other", "a"),  # infeasible subject has no team
        Recusal("unselected", "a"),
        Recusal("s", "d"),  # not on the team
    ],
)
def test_recusal_of_someone_not_on_a_team_is_invalid(recusal: Recusal) -> None:
    state = _state(["a", "b", "c", "d"], lead="a", members=["b"], qualified={"a"}, size=2)
    with pytest.raises(Rejected) as caught:
        apply_recusals(state, [recusal])
    assert caught.value.code == "E_RECUSAL"


def test_recusing_twice_is_invalid() -> None:
    state = _state(["a", "b", "c", "d"], lead="a", members=["b"], qualified={"a"}, size=2)
    with pytest.raises(Rejected):
        apply_recusals(state, [Recusal("s", "b"), Recusal("s", "b")])


def test_tv3_lead_recusal_matches_section_12(kit) -> None:  # type: ignore[no-untyped-def]
    expected = kit.load_vector("TV3-teams")["expected"]["replacements"]
    assert expected == [
        {
            "subject": "91110105MA0A0005",
            "recused": "I-07",
            "role": "lead",
            "replacement": "I-06",
            "cap": 3,
        }
    ]
