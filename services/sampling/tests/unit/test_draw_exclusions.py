"""The exclusions a draw commits to (DRAW_SPEC §3.2, B.7): named ones checked entry by entry,
the batch policy's REGISTERED_RECENTLY applied by itself, one entry per subject."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from draw_testkit import batch

from shuangsui.sampling.domain import draw_inputs as mapping
from shuangsui.sampling.domain.draw_exclusions import automatic, breaches, months_before
from shuangsui.sampling.domain.draw_inputs import ExclusionRow

POLICY = [
    {"reason": "UNDER_INVESTIGATION", "months": None, "note": None},
    {"reason": "REGISTERED_RECENTLY", "months": 6, "note": None},
    {"reason": "OTHER_WITH_NOTE", "months": None, "note": "停业装修"},
]


@dataclass(frozen=True)
class Registered:
    uscc: str
    registered_on: date | None
    unit_code: str | None = "330106-01"
    risk_classes: dict[str, str] | None = None


def _rules(found):
    return [(b.rule, b.field) for b in found]


def test_named_exclusions_of_the_policy_pass():
    published = batch(exclusion_policy=POLICY)
    named = [ExclusionRow("S1", "UNDER_INVESTIGATION"), ExclusionRow("S2", "OTHER_WITH_NOTE"),
             ExclusionRow("S3", "OTHER_WITH_NOTE", "停业装修")]  # fmt: skip
    assert breaches(published, named, ["S1", "S2", "S3"]) == []


def test_every_refused_entry_is_reported_with_its_field():
    published = batch(exclusion_policy=POLICY)
    named = [
        ExclusionRow("S1", "UNDER_INVESTIGATION"),
        ExclusionRow("GONE", "UNDER_INVESTIGATION"),
        ExclusionRow("S1", "UNDER_INVESTIGATION"),
        ExclusionRow("S2", "CLOSED"),
        ExclusionRow("S3", "DEREGISTERED"),  # a B.7 code, not of this batch's policy
        ExclusionRow("S4", "OTHER_WITH_NOTE", "另一个说明"),
        ExclusionRow("S5", "UNDER_INVESTIGATION", "立案"),
    ]
    assert _rules(breaches(published, named, ["S1", "S2", "S3", "S4", "S5"])) == [
        ("draw-exclusion-outside", "exclusions[1].uscc"),
        ("draw-exclusion-duplicate", "exclusions[2].uscc"),
        ("draw-exclusion-reason", "exclusions[3].reason"),
        ("draw-exclusion-reason", "exclusions[4].reason"),
        ("draw-exclusion-reason", "exclusions[5].note"),
        ("draw-exclusion-reason", "exclusions[6].note"),
    ]


def test_registered_recently_excludes_from_the_day_the_period_began():
    published = batch(exclusion_policy=POLICY)
    rows = [Registered("OLD", date(2026, 6, 5)), Registered("EDGE", date(2026, 6, 6)),
            Registered("NEW", date(2026, 11, 30)), Registered("UNKNOWN", None)]  # fmt: skip
    found = automatic(published, rows, date(2026, 12, 6))
    assert found == [ExclusionRow("EDGE", "REGISTERED_RECENTLY"),
                     ExclusionRow("NEW", "REGISTERED_RECENTLY")]  # fmt: skip


def test_a_policy_without_registered_recently_excludes_nobody_by_itself():
    published = batch(exclusion_policy=POLICY[:1])
    assert automatic(published, [Registered("NEW", date(2026, 12, 1))], date(2026, 12, 6)) == []


def test_months_before_keeps_the_day_or_the_shorter_months_last():
    assert months_before(date(2026, 12, 6), 6) == date(2026, 6, 6)
    assert months_before(date(2026, 8, 31), 6) == date(2026, 2, 28)
    assert months_before(date(2027, 1, 15), 13) == date(2025, 12, 15)


def test_a_subject_both_named_and_recently_registered_keeps_the_first_reason_of_the_policy():
    published = batch(exclusion_policy=POLICY)
    named = [ExclusionRow("S1", "OTHER_WITH_NOTE")]
    listed = mapping.exclusions(
        published, [ExclusionRow("S1", "REGISTERED_RECENTLY"), *named], ["S1", "S2"]
    )
    assert [(e.subject_id, e.reason) for e in listed] == [("S1", "REGISTERED_RECENTLY")]
