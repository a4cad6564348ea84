"""Plan deadlines (R5, R6, §8 item 4): when a plan is due, whether it came late, and how an
org stands for a year. Lateness is decided by the department's own act, its submission, not by
the superior's acknowledgement (ADR 0015).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from shuangsui.contracts.workdays import shanghai_date

if TYPE_CHECKING:
    from shuangsui.planning.domain.plans import PlanVersion


def default_deadline(year: int) -> date:
    """31 March of the plan year, not moved off a weekend (§8 item 4)."""
    return date(year, 3, 31)


def is_late(at: datetime, deadline: date) -> bool:
    """After the deadline's Asia/Shanghai date: a submission at 23:59 on 31 March is on time."""
    return shanghai_date(at) > deadline


class Standing(StrEnum):
    on_time = "on_time"
    late = "late"
    not_submitted = "not_submitted"


def standing(first_versions: Sequence[PlanVersion]) -> Standing:
    """An org's standing for a year from the first versions of its plans (a discarded draft
    left no submission): the submitted one decides."""
    for plan in first_versions:
        if plan.submitted_at is not None:
            return Standing.late if plan.late else Standing.on_time
    return Standing.not_submitted
