"""Overlap groups (名单比对, R22): one subject, two or more batches whose windows (both days
included) chain into one period; the group's overlap, due date and items."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from shuangsui.sampling.domain.overlaps import (
    Department,
    DrawnSubject,
    Item,
    OverlapFilter,
    Window,
    overlaps,
)

USCC = "91330106000000001X"
ORG, OTHER = uuid.uuid4(), uuid.uuid4()
FOOD = Item(uuid.uuid4(), "SPAQ-001", "餐饮服务食品安全检查")
DEVICES = Item(uuid.uuid4(), "TSSB-003", "特种设备使用单位检查")


def d(text: str) -> date:
    return date.fromisoformat(f"2026-{text}")


def drawn(
    start: str, end: str, *, uscc: str = USCC, code: str = "", org: uuid.UUID = ORG,
    items: tuple[Item, ...] = (FOOD,), batch: uuid.UUID | None = None, draw: str = "01",
) -> DrawnSubject:  # fmt: skip
    batch_code = code or f"3301062026{start.replace('-', '')}{uuid.uuid4().int % 10000:04d}"
    return DrawnSubject(
        uscc=uscc, name="某某餐饮", region_code="330106", batch_id=batch or uuid.uuid4(),
        batch_code=batch_code, draw_code=f"{batch_code}-{draw}",
        departments=(Department(org, "330106", "market_supervision"),),
        window=Window(d(start), d(end)), items=items,
    )  # fmt: skip


def test_two_batches_whose_windows_intersect_are_one_group():
    a, b = drawn("04-01", "06-30", items=(FOOD,)), drawn("05-01", "07-31", items=(DEVICES, FOOD))

    [group] = overlaps([b, a])

    assert group.batches == (a, b)
    assert group.overlap == Window(d("05-01"), d("06-30"))
    assert group.window == Window(d("04-01"), d("07-31"))
    assert group.due_on == d("06-30")
    assert group.items == (FOOD, DEVICES)


def test_disjoint_windows_are_no_overlap():
    assert overlaps([drawn("04-01", "04-30"), drawn("06-01", "06-30")]) == []


def test_windows_touching_on_one_day_overlap_on_that_day():
    [group] = overlaps([drawn("04-01", "04-30"), drawn("04-30", "05-31")])

    assert group.overlap == Window(d("04-30"), d("04-30"))


def test_a_window_ending_the_day_before_the_next_starts_is_no_overlap():
    assert overlaps([drawn("04-01", "04-30"), drawn("05-01", "05-31")]) == []


def test_three_batches_chained_are_one_group_even_when_the_ends_do_not_meet():
    a, b, c = drawn("01-01", "01-10"), drawn("01-08", "01-20"), drawn("01-18", "01-30")

    [group] = overlaps([c, a, b])

    assert group.batches == (a, b, c)
    assert group.overlap == Window(d("01-08"), d("01-20"))
    assert group.due_on == d("01-10")


def test_three_batches_two_overlapping_and_one_apart_give_one_group_of_two():
    a, b, c = drawn("01-01", "01-31"), drawn("01-15", "02-15"), drawn("03-01", "03-31")

    [group] = overlaps([a, b, c])

    assert group.batches == (a, b)


def test_two_separate_periods_of_one_subject_are_two_groups_in_period_order():
    first = [drawn("01-01", "01-31"), drawn("01-20", "02-10")]
    later = [drawn("06-01", "06-30"), drawn("06-30", "07-15")]

    groups = overlaps([*later, *first])

    assert [g.batches for g in groups] == [tuple(first), tuple(later)]


def test_a_window_inside_another_overlaps_on_the_inner_window():
    [group] = overlaps([drawn("01-01", "12-31"), drawn("03-01", "03-31")])

    assert group.overlap == Window(d("03-01"), d("03-31"))
    assert group.due_on == d("03-31")


def test_one_batch_drawn_twice_over_the_subject_is_no_overlap():
    batch = uuid.uuid4()
    again = [drawn("01-01", "01-31", batch=batch, code="330106202601010001", draw=n)
             for n in ("01", "02")]  # fmt: skip

    assert overlaps(again) == []
    [group] = overlaps([*again, drawn("01-15", "02-15")])
    assert group.batches[0].draw_code == "330106202601010001-02"


def test_other_subjects_do_not_group_together():
    other = "91330106000000002X"

    assert overlaps([drawn("01-01", "01-31"), drawn("01-01", "01-31", uscc=other)]) == []


def test_a_window_cannot_end_before_it_starts():
    with pytest.raises(ValueError, match="before it starts"):
        Window(d("02-01"), d("01-31"))


def test_a_department_sees_a_group_of_its_batch_outside_its_region():
    [group] = overlaps([drawn("01-01", "01-31", org=OTHER), drawn("01-15", "02-15")])

    assert OverlapFilter(org_ids=frozenset({ORG}), region_prefix="330102").shows(group)
    assert not OverlapFilter(org_ids=frozenset({uuid.uuid4()}), region_prefix="330102").shows(group)
    assert OverlapFilter(region_prefix="33").shows(group)
    assert not OverlapFilter(region_prefix=None).shows(group)


def test_the_filters_narrow_by_region_batch_and_the_overlap_days():
    a, b = drawn("04-01", "06-30"), drawn("05-01", "07-31")
    [group] = overlaps([a, b])

    def shows(**asked: object) -> bool:
        return OverlapFilter(region_prefix="33", **asked).shows(group)  # type: ignore[arg-type]

    assert shows(region_code_prefix="330106")
    assert not shows(region_code_prefix="330102")
    assert shows(batch_id=b.batch_id)
    assert not shows(batch_id=uuid.uuid4())
    assert shows(window_from=d("06-30"))
    assert not shows(window_from=d("07-01"))
    assert shows(window_to=d("05-01"))
    assert not shows(window_to=d("04-30"))
