"""Two batches of a department are named when they could visit the same subjects in overlapping
windows (R10): only a property a subject has once (region, type, industry, risk class) keeps them
apart; tags never do, a subject carries several."""

from datetime import date
from uuid import UUID

import pytest

from shuangsui.planning.domain.batch_overlap import BatchFootprint, overlapping_pairs

FIRST = UUID("00000000-0000-4000-8000-0000000000c1")
SECOND = UUID("00000000-0000-4000-8000-0000000000c2")
THIRD = UUID("00000000-0000-4000-8000-0000000000c3")


def footprint(batch_id=FIRST, start=(4, 1), end=(6, 30), regions=("330106",), **more):
    return BatchFootprint(
        batch_id=batch_id,
        window_start=date(2026, *start),
        window_end=date(2026, *end),
        region_codes=regions,
        **more,
    )


def meets(a, b):
    return bool(overlapping_pairs([a, footprint(SECOND, **b)]))


def test_same_region_and_overlapping_windows_meet():
    (pair,) = overlapping_pairs([footprint(), footprint(SECOND, start=(6, 1), end=(9, 30))])

    assert (pair.first.batch_id, pair.second.batch_id) == (FIRST, SECOND)
    assert (pair.from_day, pair.to_day) == (date(2026, 6, 1), date(2026, 6, 30))
    assert pair.region_codes == ("330106",)


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        ({"start": (7, 1), "end": (9, 30)}, False),
        ({"start": (6, 30), "end": (9, 30)}, True),  # both open on 30 June
        ({"regions": ("330110",)}, False),
        ({"regions": ("330100",)}, True),  # the city contains the county
        ({"regions": ("330110", "330106")}, True),
        ({"subject_types": frozenset({"cooperative"})}, False),
        ({"subject_types": frozenset({"enterprise", "cooperative"})}, True),
        ({"industry_codes": ("C1311",)}, True),
        ({"industry_codes": ("F51",)}, False),
        ({"risk_classes": frozenset({"C", "D"})}, False),
        ({"risk_classes": frozenset({"B", "C"})}, True),
        ({"risk_classes": frozenset({"C", "D"}), "risk_domain": "food"}, True),
    ],
)
def test_what_keeps_two_batches_apart(second, expected):
    first = footprint(
        subject_types=frozenset({"enterprise"}),
        industry_codes=("C13",),
        risk_classes=frozenset({"A", "B"}),
    )

    assert meets(first, second) is expected


def test_a_batch_that_names_no_condition_meets_any_other_in_its_region():
    assert meets(
        footprint(), {"subject_types": frozenset({"individual"}), "industry_codes": ("H",)}
    )


def test_every_meeting_pair_is_named_in_the_order_given():
    batches = [
        footprint(FIRST),
        footprint(SECOND, regions=("330110",)),
        footprint(THIRD, regions=("330100",)),
    ]

    pairs = [(p.first.batch_id, p.second.batch_id) for p in overlapping_pairs(batches)]

    assert pairs == [(FIRST, THIRD), (SECOND, THIRD)]
    assert overlapping_pairs([footprint()]) == []
