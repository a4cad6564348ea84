"""Event payload models, their JSON schemas, and shared value types.

Value types: USCC (统一社会信用代码), GB/T 2260 region code, working-day calendar.
"""

from shuangsui.contracts.events import EventPayload, all_event_models, model_for
from shuangsui.contracts.regions import (
    REGION_DATA_VERSION,
    CurrentRegionCode,
    InvalidRegionCode,
    RegionCode,
)
from shuangsui.contracts.uscc import InvalidUscc, Uscc, validate_uscc
from shuangsui.contracts.workdays import (
    CALENDAR_DATA_VERSION,
    CalendarOverrides,
    CalendarYearNotCovered,
    WorkdayCalendar,
    WorkdayOverride,
)

__all__ = [
    "CALENDAR_DATA_VERSION",
    "REGION_DATA_VERSION",
    "CalendarOverrides",
    "CalendarYearNotCovered",
    "CurrentRegionCode",
    "EventPayload",
    "InvalidRegionCode",
    "InvalidUscc",
    "RegionCode",
    "Uscc",
    "WorkdayCalendar",
    "WorkdayOverride",
    "all_event_models",
    "model_for",
    "validate_uscc",
]
