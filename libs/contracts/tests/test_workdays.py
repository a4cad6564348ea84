"""Working-day arithmetic (DOMAIN §8).

Expected dates come from the State Council General Office notices:
2025: 国办发明电〔2024〕12号; 2026: 国办发明电〔2025〕7号.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from shuangsui.contracts.workdays import (
    CalendarOverrides,
    CalendarYearNotCovered,
    WorkdayCalendar,
    WorkdayOverride,
    shanghai_date,
)

FAR_YEAR = 2100  # no holiday package will know this year


@pytest.fixture
def calendar() -> WorkdayCalendar:
    return WorkdayCalendar()


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


HOLIDAYS = [
    *days(date(2025, 1, 1), date(2025, 1, 1)),
    *days(date(2025, 1, 28), date(2025, 2, 4)),  # 春节
    *days(date(2025, 4, 4), date(2025, 4, 6)),
    *days(date(2025, 5, 1), date(2025, 5, 5)),
    *days(date(2025, 5, 31), date(2025, 6, 2)),
    *days(date(2025, 10, 1), date(2025, 10, 8)),  # 国庆 + 中秋
    *days(date(2026, 1, 1), date(2026, 1, 3)),
    *days(date(2026, 2, 15), date(2026, 2, 23)),  # 春节, nine days
    *days(date(2026, 4, 4), date(2026, 4, 6)),
    *days(date(2026, 5, 1), date(2026, 5, 5)),
    *days(date(2026, 6, 19), date(2026, 6, 21)),
    *days(date(2026, 9, 25), date(2026, 9, 27)),
    *days(date(2026, 10, 1), date(2026, 10, 7)),
]
ADJUSTED_WORKDAYS = [  # 调休上班日, all on weekends
    date(2025, 1, 26),
    date(2025, 2, 8),
    date(2025, 4, 27),
    date(2025, 9, 28),
    date(2025, 10, 11),
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
]


@pytest.mark.parametrize("day", HOLIDAYS, ids=str)
def test_statutory_holidays_are_not_workdays(calendar: WorkdayCalendar, day: date) -> None:
    assert not calendar.is_workday(day)


@pytest.mark.parametrize("day", ADJUSTED_WORKDAYS, ids=str)
def test_adjusted_weekend_days_are_workdays(calendar: WorkdayCalendar, day: date) -> None:
    assert day.weekday() >= 5
    assert calendar.is_workday(day)


def test_ordinary_weekdays_and_weekends(calendar: WorkdayCalendar) -> None:
    assert calendar.is_workday(date(2025, 3, 12))  # Wednesday
    assert not calendar.is_workday(date(2025, 3, 15))  # Saturday


def test_counting_starts_the_day_after(calendar: WorkdayCalendar) -> None:
    assert calendar.add_workdays(date(2025, 3, 10), 1) == date(2025, 3, 11)
    assert calendar.add_workdays(date(2025, 3, 14), 1) == date(2025, 3, 17)  # Fri -> Mon
    assert calendar.add_workdays(date(2025, 3, 10), 0) == date(2025, 3, 10)


def test_counting_jumps_the_national_day_holiday(calendar: WorkdayCalendar) -> None:
    assert calendar.add_workdays(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert calendar.add_workdays(date(2025, 9, 30), 3) == date(2025, 10, 11)  # Saturday, worked
    assert calendar.add_workdays(date(2025, 9, 30), 4) == date(2025, 10, 13)
    assert calendar.add_workdays(date(2025, 9, 26), 1) == date(2025, 9, 28)  # Sunday, worked


def test_counting_from_a_holiday_starts_at_the_next_workday(calendar: WorkdayCalendar) -> None:
    assert calendar.add_workdays(date(2025, 10, 1), 1) == date(2025, 10, 9)


def test_twenty_workday_publication_deadline_across_national_day(
    calendar: WorkdayCalendar,
) -> None:
    # By hand: 10/9, 10/10, 10/11 (Sat, worked) = 3; 10/13-17 = 8; 10/20-24 = 13;
    # 10/27-31 = 18; 11/3 = 19; 11/4 = 20.
    assert calendar.add_workdays(date(2025, 9, 30), 20) == date(2025, 11, 4)


def test_spring_festival_2025(calendar: WorkdayCalendar) -> None:
    assert calendar.add_workdays(date(2025, 1, 27), 1) == date(2025, 2, 5)
    assert calendar.add_workdays(date(2025, 1, 24), 1) == date(2025, 1, 26)
    assert calendar.workdays_between(date(2025, 1, 27), date(2025, 2, 9)) == 4  # 2/5-2/8


def test_workdays_between_excludes_start_and_includes_end(calendar: WorkdayCalendar) -> None:
    assert calendar.workdays_between(date(2025, 9, 29), date(2025, 9, 30)) == 1
    assert calendar.workdays_between(date(2025, 9, 30), date(2025, 9, 30)) == 0
    assert calendar.workdays_between(date(2025, 9, 30), date(2025, 10, 1)) == 0
    assert calendar.workdays_between(date(2025, 10, 8), date(2025, 10, 9)) == 1
    assert calendar.workdays_between(date(2025, 9, 30), date(2025, 10, 13)) == 4
    assert calendar.workdays_between(date(2025, 10, 13), date(2025, 9, 30)) == -4


def test_workdays_between_agrees_with_add_workdays(calendar: WorkdayCalendar) -> None:
    start = date(2025, 12, 20)
    for n in range(1, 60):
        assert calendar.workdays_between(start, calendar.add_workdays(start, n)) == n


def test_deadline_ends_at_midnight_shanghai(calendar: WorkdayCalendar) -> None:
    deadline = calendar.deadline_instant(date(2025, 9, 30), 1)
    assert deadline == datetime(2025, 10, 9, 16, 0, tzinfo=UTC)
    assert deadline.utcoffset() == timedelta(0)


def test_publication_at_2359_shanghai_on_the_deadline_date_is_on_time(
    calendar: WorkdayCalendar,
) -> None:
    zoneinfo = pytest.importorskip("zoneinfo")
    try:
        shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no tz database on this host")
    deadline = calendar.deadline_instant(date(2025, 9, 30), 1)
    assert datetime(2025, 10, 9, 23, 59, 59, tzinfo=shanghai) < deadline
    assert datetime(2025, 10, 10, 0, 0, tzinfo=shanghai) == deadline


def test_trigger_date_is_the_shanghai_date() -> None:
    assert shanghai_date(datetime(2025, 9, 30, 16, 30, tzinfo=UTC)) == date(2025, 10, 1)
    assert shanghai_date(datetime(2025, 9, 30, 15, 59, tzinfo=UTC)) == date(2025, 9, 30)
    with pytest.raises(ValueError, match="aware"):
        shanghai_date(datetime(2025, 9, 30, 12, 0))


def test_timestamps_are_refused_where_a_date_is_expected(calendar: WorkdayCalendar) -> None:
    with pytest.raises(TypeError, match="shanghai_date"):
        calendar.is_workday(datetime(2025, 9, 30, 20, 0, tzinfo=UTC))


def test_negative_counts_are_refused(calendar: WorkdayCalendar) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        calendar.add_workdays(date(2025, 3, 10), -1)


@pytest.mark.parametrize("day", [date(FAR_YEAR, 3, 1), date(1990, 3, 1)])
def test_a_year_outside_the_data_raises_instead_of_guessing(
    calendar: WorkdayCalendar, day: date
) -> None:
    with pytest.raises(CalendarYearNotCovered) as info:
        calendar.is_workday(day)
    error = info.value
    assert error.year == day.year
    assert error.covered_from <= 2025 <= error.covered_to
    assert "update" in str(error).lower()
    assert "overrides" in str(error)
    assert not calendar.covers(day.year)


def test_counting_into_an_uncovered_year_raises(calendar: WorkdayCalendar) -> None:
    last = max(calendar.covered_years())
    with pytest.raises(CalendarYearNotCovered) as info:
        calendar.add_workdays(date(last, 12, 20), 30)
    assert info.value.year == last + 1


def overrides_for_far_year() -> CalendarOverrides:
    assert date(FAR_YEAR, 1, 1).weekday() == 4  # Friday
    return CalendarOverrides(
        entries=(
            WorkdayOverride(day=date(FAR_YEAR, 1, 1), is_workday=False, source="test notice"),
            WorkdayOverride(day=date(FAR_YEAR, 1, 2), is_workday=True, source="test notice"),
        ),
        covers_years=frozenset({FAR_YEAR}),
    )


def test_overrides_declaring_a_year_extend_coverage() -> None:
    calendar = WorkdayCalendar(overrides_for_far_year())
    assert calendar.covers(FAR_YEAR)
    assert FAR_YEAR in calendar.covered_years()
    assert not calendar.is_workday(date(FAR_YEAR, 1, 1))
    assert calendar.is_workday(date(FAR_YEAR, 1, 2))  # Saturday made a workday
    assert not calendar.is_workday(date(FAR_YEAR, 1, 3))  # Sunday
    assert calendar.add_workdays(date(FAR_YEAR, 1, 1), 2) == date(FAR_YEAR, 1, 4)
    with pytest.raises(CalendarYearNotCovered) as info:
        calendar.is_workday(date(FAR_YEAR - 1, 6, 1))
    assert FAR_YEAR in info.value.covered_years


def test_override_entries_alone_do_not_cover_their_year() -> None:
    entry = WorkdayOverride(day=date(FAR_YEAR, 1, 1), is_workday=False, source="test notice")
    calendar = WorkdayCalendar(CalendarOverrides(entries=(entry,)))
    assert not calendar.is_workday(date(FAR_YEAR, 1, 1))
    assert not calendar.covers(FAR_YEAR)
    with pytest.raises(CalendarYearNotCovered):
        calendar.is_workday(date(FAR_YEAR, 1, 4))


def test_an_override_corrects_a_package_date() -> None:
    entry = WorkdayOverride(day=date(2025, 1, 26), is_workday=False, source="correction")
    calendar = WorkdayCalendar(CalendarOverrides(entries=(entry,)))
    assert not calendar.is_workday(date(2025, 1, 26))
    assert calendar.is_workday(date(2025, 2, 8))


def test_a_declared_year_is_taken_from_the_overrides_alone() -> None:
    entry = WorkdayOverride(day=date(2025, 1, 1), is_workday=False, source="full table")
    calendar = WorkdayCalendar(CalendarOverrides(entries=(entry,), covers_years=frozenset({2025})))
    assert not calendar.is_workday(date(2025, 1, 26))  # the package's adjusted day is not used
    assert calendar.is_workday(date(2025, 1, 28))


def test_declaring_a_year_without_entries_is_refused() -> None:
    with pytest.raises(ValidationError, match="without any override entries"):
        CalendarOverrides(covers_years=frozenset({FAR_YEAR}))


def test_conflicting_entries_are_refused() -> None:
    with pytest.raises(ValidationError, match="conflicting"):
        CalendarOverrides(
            entries=(
                WorkdayOverride(day=date(FAR_YEAR, 1, 1), is_workday=False, source="a"),
                WorkdayOverride(day=date(FAR_YEAR, 1, 1), is_workday=True, source="b"),
            )
        )


def test_an_override_needs_its_source_document() -> None:
    with pytest.raises(ValidationError):
        WorkdayOverride(day=date(FAR_YEAR, 1, 1), is_workday=False, source="")


def test_overrides_load_from_json() -> None:
    table = CalendarOverrides.model_validate_json(
        '{"covers_years": [2100], "entries": [{"day": "2100-01-01", "is_workday": false,'
        ' "source": "国办发明电〔2099〕1号"}]}'
    )
    assert not WorkdayCalendar(table).is_workday(date(2100, 1, 1))


def test_readiness_warns_from_first_of_december_when_next_year_is_missing(
    calendar: WorkdayCalendar,
) -> None:
    last = max(calendar.covered_years())
    assert calendar.coverage_warning(date(last, 11, 30)) is None
    warning = calendar.coverage_warning(date(last, 12, 1))
    assert warning is not None
    assert str(last + 1) in warning
    assert calendar.coverage_warning(date(last + 1, 1, 5)) is not None


def test_readiness_is_quiet_when_overrides_cover_next_year() -> None:
    entry = WorkdayOverride(day=date(FAR_YEAR, 1, 1), is_workday=False, source="t")
    previous = WorkdayOverride(day=date(FAR_YEAR - 1, 1, 1), is_workday=False, source="t")
    calendar = WorkdayCalendar(
        CalendarOverrides(
            entries=(previous, entry), covers_years=frozenset({FAR_YEAR - 1, FAR_YEAR})
        )
    )
    assert calendar.coverage_warning(date(FAR_YEAR - 1, 12, 15)) is None
    assert calendar.coverage_warning(date(FAR_YEAR, 12, 15)) is not None
