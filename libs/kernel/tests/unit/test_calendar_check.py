"""Readiness names a calendar that will not cover next year, without failing readiness."""

from datetime import date

from shuangsui.contracts.workdays import CalendarOverrides, WorkdayCalendar
from shuangsui.kernel.calendar_check import CalendarCoverage


class FrozenCalendar(WorkdayCalendar):
    """The real calendar, asked on a fixed day."""

    def __init__(self, today: date, overrides: CalendarOverrides | None = None) -> None:
        super().__init__(overrides)
        self._today = today

    def coverage_warning(self, today: date, **kwargs) -> str | None:
        return super().coverage_warning(self._today, **kwargs)


async def test_a_year_beyond_the_data_is_reported_but_still_ready():
    last = max(WorkdayCalendar().covered_years())
    ready, detail = await CalendarCoverage(FrozenCalendar(date(last, 12, 15))).ready()
    assert ready is True
    assert str(last + 1) in detail


async def test_early_in_a_covered_year_there_is_nothing_to_report():
    first = min(WorkdayCalendar().covered_years())
    assert await CalendarCoverage(FrozenCalendar(date(first, 3, 1))).ready() == (True, "ok")
