"""Chinese working-day arithmetic (DOMAIN §8) over ``chinesecalendar`` plus operator overrides.

A working day follows the State Council General Office's annual holiday arrangement
(国务院办公厅关于部分节假日安排的通知). The package covers a fixed range of years; a
province's override table (date, is_workday, source document) corrects single dates
and may declare whole years covered. A date known to neither raises
:class:`CalendarYearNotCovered`: a plain Monday-Friday count would quietly move legal
deadlines (§8 item 6).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import ClassVar

import chinese_calendar
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "CALENDAR_DATA_VERSION",
    "SHANGHAI",
    "CalendarOverrides",
    "CalendarYearNotCovered",
    "WorkdayCalendar",
    "WorkdayOverride",
    "shanghai_date",
]

# China has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact for
# every year the calendar can cover and needs no tz database on the host.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

CALENDAR_DATA_VERSION = f"chinesecalendar {chinese_calendar.__version__}"
_PACKAGE_FIRST_YEAR: int = min(chinese_calendar.holidays).year
_PACKAGE_LAST_YEAR: int = max(chinese_calendar.holidays).year


class CalendarYearNotCovered(LookupError):
    """Neither the holiday package nor the overrides know the working days of ``year``."""

    problem_type: ClassVar[str] = "/problems/calendar-year-not-covered"

    def __init__(
        self,
        year: int,
        covered_from: int,
        covered_to: int,
        *,
        covered_years: Iterable[int] = (),
    ) -> None:
        self.year = year
        self.covered_from = covered_from
        self.covered_to = covered_to
        # Override years need not adjoin the package's range, so from-to can have gaps.
        self.covered_years = tuple(sorted(set(covered_years))) or tuple(
            range(covered_from, covered_to + 1)
        )
        super().__init__(
            f"no working-day data for {year}: the calendar covers {_ranges(self.covered_years)} "
            f"({CALENDAR_DATA_VERSION} plus overrides). Update the chinesecalendar package once "
            f"the State Council publishes the {year} holiday arrangement, or have a provincial "
            f"admin supply calendar overrides that declare {year} covered. Deadlines are never "
            "counted Monday to Friday as a guess."
        )


class WorkdayOverride(BaseModel):
    """One date whose status the operator sets, with the document that says so."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    day: date
    is_workday: bool
    source: str = Field(
        min_length=1,
        description="The document that fixes this date, e.g. 国办发明电〔2025〕7号.",
    )


class CalendarOverrides(BaseModel):
    """A province's override table.

    ``entries`` win over the package date by date. A year in ``covers_years`` is taken
    from this table alone: the operator asserts that ``entries`` list every day of that
    year that differs from Monday-Friday (holidays and adjusted working days, 调休上班日).
    Entries in other years correct the package, or answer for that one date only.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    entries: tuple[WorkdayOverride, ...] = ()
    covers_years: frozenset[int] = frozenset()

    @model_validator(mode="after")
    def _consistent(self) -> CalendarOverrides:
        seen: dict[date, WorkdayOverride] = {}
        for entry in self.entries:
            other = seen.setdefault(entry.day, entry)
            if other.is_workday != entry.is_workday:
                raise ValueError(f"conflicting overrides for {entry.day}")
        # Every real arrangement has holidays; a declared year without entries is a mistake
        # that would otherwise silently turn into a Monday-Friday year.
        empty = sorted(y for y in self.covers_years if not any(d.year == y for d in seen))
        if empty:
            raise ValueError(f"covers_years {empty} declared without any override entries")
        return self


class WorkdayCalendar:
    """``is_workday`` / ``add_workdays`` / ``workdays_between`` / ``deadline_instant`` (§8)."""

    def __init__(self, overrides: CalendarOverrides | None = None) -> None:
        self.overrides = overrides or CalendarOverrides()
        self._days = {e.day: e.is_workday for e in self.overrides.entries}
        self._declared = self.overrides.covers_years

    def covered_years(self) -> tuple[int, ...]:
        package = range(_PACKAGE_FIRST_YEAR, _PACKAGE_LAST_YEAR + 1)
        return tuple(sorted(set(package) | self._declared))

    def covers(self, year: int) -> bool:
        return year in self._declared or _PACKAGE_FIRST_YEAR <= year <= _PACKAGE_LAST_YEAR

    def is_workday(self, d: date) -> bool:
        _require_date(d)
        if d in self._days:
            return self._days[d]
        if d.year in self._declared:
            return d.weekday() < 5
        if not self.covers(d.year):
            raise self._not_covered(d.year)
        try:
            return bool(chinese_calendar.is_workday(d))
        except NotImplementedError:
            raise self._not_covered(d.year) from None

    def _not_covered(self, year: int) -> CalendarYearNotCovered:
        years = self.covered_years()
        return CalendarYearNotCovered(year, years[0], years[-1], covered_years=years)

    def add_workdays(self, d: date, n: int) -> date:
        """The n-th working day strictly after ``d`` (``d`` itself never counts, §8 item 1)."""
        _require_date(d)
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be a non-negative int, got {n!r}")
        day = d
        while n:
            day += timedelta(days=1)
            if self.is_workday(day):
                n -= 1
        return day

    def workdays_between(self, a: date, b: date) -> int:
        """Working days in (a, b]; negative, counted over (b, a], when b is before a."""
        _require_date(a)
        _require_date(b)
        if b < a:
            return -self.workdays_between(b, a)
        return sum(self.is_workday(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))

    def deadline_instant(self, d: date, n: int) -> datetime:
        """The end (24:00 Asia/Shanghai) of the n-th working day after ``d``, in UTC."""
        due = self.add_workdays(d, n)
        end = datetime.combine(due + timedelta(days=1), time(0), tzinfo=SHANGHAI)
        return end.astimezone(UTC)

    def coverage_warning(self, today: date, *, warn_from: tuple[int, int] = (12, 1)) -> str | None:
        """A readiness message when the data will not cover the year ahead (§8 item 7).

        ``warn_from`` is the (month, day) from which next year must be covered [DEFAULT].
        """
        _require_date(today)
        if not self.covers(today.year):
            return str(self._not_covered(today.year))
        if (today.month, today.day) >= warn_from and not self.covers(today.year + 1):
            return (
                f"working-day calendar does not cover {today.year + 1} yet (covers "
                f"{_ranges(self.covered_years())}, {CALENDAR_DATA_VERSION}): update the "
                "chinesecalendar package when the State Council publishes the arrangement "
                f"for {today.year + 1}, or supply calendar overrides declaring it covered"
            )
        return None


def shanghai_date(ts: datetime) -> date:
    """The Asia/Shanghai calendar date of an aware timestamp: D in §8 item 2."""
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError("timestamp must be timezone-aware")
    return ts.astimezone(SHANGHAI).date()


def _require_date(d: date) -> None:
    # datetime is a subclass of date; a UTC datetime taken as a date can be a day early.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(
            f"expected a datetime.date, got {type(d).__name__}; "
            "convert timestamps with shanghai_date() first"
        )


def _ranges(years: tuple[int, ...]) -> str:
    if not years:
        return "no years"
    parts: list[str] = []
    start = prev = years[0]
    for year in (*years[1:], None):
        if year is not None and year == prev + 1:
            prev = year
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if year is not None:
            start = prev = year
    return ", ".join(parts)
