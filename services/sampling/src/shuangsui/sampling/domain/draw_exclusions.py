"""Which subjects a draw excludes before its manifest is built, with their B.7 reason codes
(DRAW_SPEC §3.2, Appendix B.7; issue 13 item 2): the ones the department names when it
prepares, checked, and the ones the batch's exclusion policy excludes by itself.

- A named exclusion must be of a subject of the population (`draw-exclusion-outside`: excluding
  anyone else removes nobody, and would only publish a business's circumstances), name it once
  (`draw-exclusion-duplicate`) and give a reason of the batch's policy (`draw-exclusion-reason`,
  `draw_inputs.exclusion_reason`: a B.7 code the policy lists; `OTHER_WITH_NOTE` with one of the
  policy's notes). Every breach is reported, each with its field.
- `REGISTERED_RECENTLY` with `months` in the policy excludes, by itself, every subject of the
  population registered on or after the day that many months before the draw is prepared
  (the read model's `registered_on`). The other codes need facts sampling does not hold
  (inspections, cases, key-supervision lists), so they are only ever named.

A subject both named and excluded by the policy keeps one entry, the reason first in the
policy's order (`draw_inputs.exclusions`), so every department commits the same string.

Pure: rows in, exclusion rows and breaches out."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from shuangsui.contracts.events.planning_batches import BatchPublished
from shuangsui.sampling.domain.draw_inputs import ExclusionRow, exclusion_reason
from shuangsui.sampling.domain.draws import DrawRuleError

REGISTERED_RECENTLY = "REGISTERED_RECENTLY"
OTHER_WITH_NOTE = "OTHER_WITH_NOTE"


class RegisteredRow(Protocol):
    """A subject of the population with the day it was registered (None: not known)."""

    @property
    def uscc(self) -> str: ...
    @property
    def registered_on(self) -> date | None: ...


@dataclass(frozen=True)
class ExclusionBreach:
    """One named exclusion refused: `field` is its place in the request."""

    rule: str  # draw-exclusion-outside | draw-exclusion-duplicate | draw-exclusion-reason
    field: str  # exclusions[i].uscc | exclusions[i].reason | exclusions[i].note
    reason: str


def breaches(
    batch: BatchPublished, named: Sequence[ExclusionRow], population: Iterable[str]
) -> list[ExclusionBreach]:
    """Every refused entry of the named exclusions, in request order."""
    members = set(population)
    seen: dict[str, int] = {}
    found: list[ExclusionBreach] = []
    for index, row in enumerate(named):
        at = f"exclusions[{index}]"
        if row.uscc in seen:
            found.append(ExclusionBreach(
                "draw-exclusion-duplicate", f"{at}.uscc",
                f"{row.uscc} is already excluded by exclusions[{seen[row.uscc]}]",
            ))  # fmt: skip
        else:
            seen[row.uscc] = index
            if row.uscc not in members:
                found.append(ExclusionBreach(
                    "draw-exclusion-outside", f"{at}.uscc",
                    f"{row.uscc} is not in the batch's population (R15): excluding it removes "
                    "nobody",
                ))  # fmt: skip
        if row.note is not None and row.reason != OTHER_WITH_NOTE:
            found.append(ExclusionBreach(
                "draw-exclusion-reason", f"{at}.note",
                f"only {OTHER_WITH_NOTE} carries a note (B.7); {row.reason} has none",
            ))  # fmt: skip
            continue
        try:
            exclusion_reason(row, batch)
        except DrawRuleError as error:
            wrong_note = row.reason == OTHER_WITH_NOTE and "note" in error.reason
            found.append(ExclusionBreach(
                error.rule, f"{at}.note" if wrong_note else f"{at}.reason", error.reason
            ))  # fmt: skip
    return found


def automatic(
    batch: BatchPublished, population: Iterable[RegisteredRow], today: date
) -> list[ExclusionRow]:
    """The exclusions the batch's policy makes by itself: `REGISTERED_RECENTLY` (B.7) excludes
    the subjects registered on or after the day `months` months before `today`."""
    periods = [p.months for p in batch.exclusion_policy
               if p.reason == REGISTERED_RECENTLY and p.months is not None]  # fmt: skip
    if not periods:
        return []
    since = months_before(today, max(periods))
    return [
        ExclusionRow(row.uscc, REGISTERED_RECENTLY)
        for row in population
        if row.registered_on is not None and row.registered_on >= since
    ]


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day if it is shorter)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
