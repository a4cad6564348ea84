"""Overlaps (名单比对, R20, R22): the same subject drawn by several batches whose execution
windows overlap, proposed as a candidate to inspect once (merge candidates).

A window is the batch's execution window, both ends included: two windows overlap when they
share at least one day (one ending on the day the other starts is an overlap; one ending the
day before the other starts is not). A group is one subject and the batches whose windows form
one chain of overlaps (A overlaps B, B overlaps C: A, B and C are one group even if A and C do
not share a day); a subject drawn by batches in two separate periods has two groups. A group
needs at least two batches: a batch drawn twice over the subject (a county re-draw) counts once.

The merge itself is the executing department's decision (R22: the platform proposes, the admin
confirms). What the group says is what that decision needs: the union of the items, the
earliest due date (the batches' window ends, R21), and the days on which at least two of the
batches are in execution."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from uuid import UUID


@dataclass(frozen=True)
class Department:
    """An org that executes a batch: its lead, or a partner of a joint batch (R20)."""

    org_id: UUID
    org_code: str
    department_type: str


@dataclass(frozen=True)
class Item:
    item_id: UUID
    code: str
    name: str


@dataclass(frozen=True)
class Window:
    """An execution window, both days included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a window ends ({self.end}) before it starts ({self.start})")

    def overlaps(self, other: Window) -> bool:
        return self.start <= other.end and other.start <= self.end

    def intersects(self, start: date | None, end: date | None) -> bool:
        """Whether the window shares a day with [start, end] (an open end: unbounded)."""
        return (end is None or self.start <= end) and (start is None or start <= self.end)


@dataclass(frozen=True)
class DrawnSubject:
    """A subject a completed draw selected, with its batch as the draw took it."""

    uscc: str
    name: str | None
    region_code: str
    batch_id: UUID
    batch_code: str
    draw_code: str
    departments: tuple[Department, ...]  # the lead first
    window: Window
    items: tuple[Item, ...]

    @property
    def org_ids(self) -> frozenset[UUID]:
        return frozenset(d.org_id for d in self.departments)


@dataclass(frozen=True)
class Overlap:
    """One subject, the batches whose windows chain into one period (drawn order: by window
    start, then batch code)."""

    uscc: str
    name: str | None
    region_code: str
    batches: tuple[DrawnSubject, ...]
    overlap: Window  # the first to the last day on which at least two are in execution

    @property
    def window(self) -> Window:
        """The whole period the batches span."""
        return Window(self.batches[0].window.start, max(b.window.end for b in self.batches))

    @property
    def due_on(self) -> date:
        """A merged task is due on the earliest original due date (R22)."""
        return min(b.window.end for b in self.batches)

    @property
    def items(self) -> tuple[Item, ...]:
        """The union of the batches' items, each once, in the batches' order (R22)."""
        seen: dict[UUID, Item] = {}
        for batch in self.batches:
            for item in batch.items:
                seen.setdefault(item.item_id, item)
        return tuple(seen.values())

    @property
    def batch_ids(self) -> frozenset[UUID]:
        return frozenset(b.batch_id for b in self.batches)

    def concerns(self, org_ids: Collection[UUID]) -> bool:
        """Whether one of these orgs leads or takes part in one of the batches."""
        return any(b.org_ids.intersection(org_ids) for b in self.batches)


def overlaps(drawn: Iterable[DrawnSubject]) -> list[Overlap]:
    """Every overlap group of the drawn subjects, by USCC then by period."""
    rows = sorted(drawn, key=lambda d: d.uscc)
    found: list[Overlap] = []
    for _, of_subject in groupby(rows, key=lambda d: d.uscc):
        found += overlaps_of_subject(list(of_subject))
    return found


def overlaps_of_subject(drawn: Sequence[DrawnSubject]) -> list[Overlap]:
    """The groups of one subject's draws: its batches' windows swept in start order, a chain
    going on while the next batch starts on or before the latest end so far."""
    batches = _one_per_batch(drawn)
    groups: list[list[DrawnSubject]] = []
    reach: date | None = None
    for each in batches:
        if reach is not None and each.window.start <= reach:
            groups[-1].append(each)
            reach = max(reach, each.window.end)
        else:
            groups.append([each])
            reach = each.window.end
    return [_group(g) for g in groups if len(g) >= 2]


def _one_per_batch(drawn: Sequence[DrawnSubject]) -> list[DrawnSubject]:
    """A batch counts once per subject (its latest draw code), in (window start, code) order."""
    latest: dict[UUID, DrawnSubject] = {}
    for each in drawn:
        held = latest.get(each.batch_id)
        if held is None or held.draw_code < each.draw_code:
            latest[each.batch_id] = each
    return sorted(latest.values(), key=lambda d: (d.window.start, d.window.end, d.batch_code))


def _group(batches: list[DrawnSubject]) -> Overlap:
    """The group, with the span of the days two of its batches share: from the earliest start
    of a pairwise intersection to the latest end of one (a chain's pairs all lie inside)."""
    shared = [
        Window(max(a.window.start, b.window.start), min(a.window.end, b.window.end))
        for i, a in enumerate(batches)
        for b in batches[i + 1 :]
        if a.window.overlaps(b.window)
    ]
    first = batches[0]
    overlap = Window(min(w.start for w in shared), max(w.end for w in shared))
    return Overlap(first.uscc, first.name, first.region_code, tuple(batches), overlap)


@dataclass(frozen=True)
class OverlapFilter:
    """Which groups a caller is shown. `org_ids`/`region_prefix`: visible when one of its
    batches is of these orgs, or the subject lies in the region (None: not a way in). The rest
    narrow: `region_code` of the subject, a `batch_id` among its batches, an overlap sharing a
    day with [`window_from`, `window_to`]."""

    org_ids: frozenset[UUID] = frozenset()
    region_prefix: str | None = ""
    region_code_prefix: str = ""
    batch_id: UUID | None = None
    window_from: date | None = None
    window_to: date | None = None

    def shows(self, group: Overlap) -> bool:
        visible = (
            self.region_prefix is not None and group.region_code.startswith(self.region_prefix)
        ) or group.concerns(self.org_ids)
        return (
            visible
            and group.region_code.startswith(self.region_code_prefix)
            and (self.batch_id is None or self.batch_id in group.batch_ids)
            and group.overlap.intersects(self.window_from, self.window_to)
        )
