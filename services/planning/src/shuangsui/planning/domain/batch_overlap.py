"""Warning a department when two of its batches could visit the same subjects in overlapping
windows, so that it combines them into one internal joint batch instead (R10, R20).

Conservative: a pair is named unless something proves their populations apart. What proves it is
a property a subject has only one of: its region, its subject type, its industry code, its risk
class in one classification domain. Tags never do: a subject may carry several tags in one
dimension (registry tags are lists), so two batches on disjoint tags can still meet it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import combinations
from uuid import UUID

from shuangsui.contracts.regions import InvalidRegionCode, scope_prefix
from shuangsui.planning.domain.batch_values import BatchDraft, ValidBatch


@dataclass(frozen=True)
class BatchFootprint:
    """Where, when and whom a batch could visit. Empty sets mean "any"."""

    batch_id: UUID
    window_start: date
    window_end: date
    region_codes: tuple[str, ...]
    subject_types: frozenset[str] = frozenset()
    industry_codes: tuple[str, ...] = ()
    risk_classes: frozenset[str] = frozenset()
    risk_domain: str = "general"
    batch_code: str | None = None


@dataclass(frozen=True)
class Overlap:
    """Two batches that could visit one subject while both their windows are open."""

    first: BatchFootprint
    second: BatchFootprint
    from_day: date
    to_day: date
    region_codes: tuple[str, ...]  # the narrower code of every pair of regions that meet
    subject_types: frozenset[str]  # empty: any type


def footprint_of(
    batch_id: UUID, batch: ValidBatch, batch_code: str | None = None
) -> BatchFootprint:
    """A validated batch's footprint: the scope's subject types as far as its items apply to
    them (an item names the types it checks), its drawn classes."""
    scope = batch.draft.scope
    item_types = frozenset(t for i in batch.items for t in i.subject_types)
    types = item_types & frozenset(scope.subject_types) if scope.subject_types else item_types
    return BatchFootprint(
        batch_id=batch_id,
        batch_code=batch_code,
        window_start=batch.draft.window_start,
        window_end=batch.draft.window_end,
        region_codes=scope.region_codes,
        subject_types=types,
        industry_codes=scope.industry_codes,
        risk_classes=frozenset(scope.drawn_classes),
        risk_domain=batch.draft.risk_domain,
    )


def overlapping_pairs(batches: Iterable[BatchFootprint]) -> list[Overlap]:
    """Every pair of the batches that could meet, in the order the batches were given."""
    found = []
    for first, second in combinations(list(batches), 2):
        overlap = _overlap(first, second)
        if overlap is not None:
            found.append(overlap)
    return found


def _overlap(a: BatchFootprint, b: BatchFootprint) -> Overlap | None:
    start, end = max(a.window_start, b.window_start), min(a.window_end, b.window_end)
    if start > end:
        return None
    regions = _meeting_codes(a.region_codes, b.region_codes, _region_prefix)
    if not regions:
        return None
    types = _meeting_sets(a.subject_types, b.subject_types)
    if types is None:
        return None
    industries_apart = (
        a.industry_codes
        and b.industry_codes
        and not _meeting_codes(a.industry_codes, b.industry_codes, lambda code: code)
    )
    if industries_apart:
        return None
    if a.risk_domain == b.risk_domain and _meeting_sets(a.risk_classes, b.risk_classes) is None:
        return None
    return Overlap(a, b, start, end, regions, types)


def _meeting_sets(a: frozenset[str], b: frozenset[str]) -> frozenset[str] | None:
    """What both allow (empty: anything), or None when they allow nothing in common."""
    if not a or not b:
        return a or b
    shared = a & b
    return shared or None


def _meeting_codes(
    a: Sequence[str], b: Sequence[str], prefix: Callable[[str], str]
) -> tuple[str, ...]:
    """Hierarchical codes meet when one lies within the other (330106 within 330100; C1311
    within C13); the narrower one of each meeting pair."""
    met: dict[str, None] = {}
    for x in a:
        for y in b:
            if y.startswith(prefix(x)):
                met[y] = None
            elif x.startswith(prefix(y)):
                met[x] = None
    return tuple(met)


def _region_prefix(code: str) -> str:
    try:
        return scope_prefix(code)
    except InvalidRegionCode:
        return code


def footprint_of_draft(
    batch_id: UUID, draft: BatchDraft, batch_code: str | None = None
) -> BatchFootprint:
    """A stored batch's footprint without its items at hand: the scope's own subject types
    (none named: any), so the warning errs on the side of naming a pair."""
    scope = draft.scope
    return BatchFootprint(
        batch_id=batch_id,
        batch_code=batch_code,
        window_start=draft.window_start,
        window_end=draft.window_end,
        region_codes=scope.region_codes,
        subject_types=frozenset(scope.subject_types),
        industry_codes=scope.industry_codes,
        risk_classes=frozenset(scope.drawn_classes),
        risk_domain=draft.risk_domain,
    )
