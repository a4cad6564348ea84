"""Readiness warns when the working-day calendar will not cover next year (DOMAIN.md §8 item 7).

A warning, not a failure: today's deadlines are still right, but operators must update the data.
"""

from __future__ import annotations

from datetime import UTC, datetime

from shuangsui.contracts.workdays import WorkdayCalendar, shanghai_date


class CalendarCoverage:
    name = "calendar"

    def __init__(self, calendar: WorkdayCalendar | None = None) -> None:
        self._calendar = calendar or WorkdayCalendar()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def ready(self) -> tuple[bool, str]:
        warning = self._calendar.coverage_warning(shanghai_date(datetime.now(UTC)))
        return True, warning or "ok"
