"""Sampling's copy of the subject directory (检查对象名录), as the registry's events and export
tell it: what a draw's population is built from (R15: active, in the batch's region, within an
item's scope) and what its manifest entries carry (DRAW_SPEC B.1, B.2: the USCC, the station
with jurisdiction, the risk class as stratum). Pure: rows and lines in, rows and answers out.

Three facts of a subject change independently and arrive in any order, so each is kept with its
own ordering key and a late or repeated event never overwrites a newer one:
- the registered content, by the subject's directory `version`;
- the tags and item scope, by `(classification, event time)`: a tag correction re-tags a subject
  under the classification number it already holds, later;
- each domain's risk class, by `(as_of, event time)`: the registry refuses stale classifications,
  and with equal `as_of` the later event wins.
A row loaded from the export has no event time and no `as_of` (the export does not carry them):
it counts as older than any event the export does not cover, which is exactly what ADR 0012
promises (an uncovered event committed after the snapshot).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SUBJECTS = "subjects"  # the read model's name in `read_models` and the API
EXPORT_FORMAT = "shuangsui.registry.export.v1"
SUBJECT_LINE = "registry.subject.upserted.v1"
SUBJECT_EVENTS = "registry.subject."  # the kinds of event the export must answer for

SUBJECT_FIELDS = (
    "uscc", "subject_id", "name", "subject_type", "status", "region_code", "unit_code",
    "industry_code", "registered_on", "version", "source_updated_at",
)  # fmt: skip


def subject_row(data: Mapping[str, Any]) -> dict[str, Any]:
    """The registered content of a `registry.subject.upserted.v1` payload (or export line) that
    sampling keeps. Addresses and the source stay in the registry: no draw reads them."""
    return {name: data[name] for name in SUBJECT_FIELDS}


def scope_row(
    uscc: str,
    tags: Mapping[str, list[str]],
    item_ids: list[Any],
    classification: int,
    scoped_at: datetime | None,
) -> dict[str, Any]:
    """A subject's tags and item scope (适用抽查事项) under classification `classification`;
    `scoped_at` is the event's time, None from an export."""
    return {
        "uscc": uscc,
        "tags": {dimension: list(values) for dimension, values in tags.items()},
        "item_ids": list(item_ids),
        "classification": classification,
        "scoped_at": scoped_at,
    }


def risk_rows(uscc: str, classes: Mapping[str, str]) -> list[dict[str, Any]]:
    """An export line's `risk_classes` (`{"general": "B", …}`): held as of before any event."""
    return [
        {"uscc": uscc, "domain": domain, "risk_class": risk_class, "as_of": None,
         "changed_at": None}
        for domain, risk_class in classes.items()
    ]  # fmt: skip


class ExportBroken(Exception):
    """The export cannot be loaded: not the format this code reads, no header first, or no
    trailer at the end (a download without its trailer is incomplete, docs/registry-export.md)."""


@dataclass
class ExportReading:
    """Checks an export's lines as they stream past: the header first, the trailer last, and
    the trailer's count equal to the subject lines seen."""

    header: dict[str, Any] | None = None
    subjects: int = 0
    trailer: dict[str, Any] | None = None

    def read(self, line: dict[str, Any]) -> dict[str, Any] | None:
        """The line's subject (`data` and `risk_classes`) to load, or None for another line."""
        kind = line.get("type")
        if self.trailer is not None:
            raise ExportBroken("a line after the trailer")
        if self.header is None:
            if kind != "header" or line.get("format") != EXPORT_FORMAT:
                raise ExportBroken(f"the export must open with a {EXPORT_FORMAT} header")
            if SUBJECT_EVENTS not in line.get("covers", ()):
                # Its snapshot would skip no subject event: each covered one applied twice.
                raise ExportBroken("the export does not answer for the subject events")
            self.header = line
            return None
        if kind == SUBJECT_LINE:
            self.subjects += 1
            return line
        if kind == "trailer":
            self.trailer = line
        return None  # an officer's line (include=inspectors), for another read model

    def finish(self) -> dict[str, Any]:
        """The header, once the whole export has been read and holds what its trailer says."""
        if self.header is None:
            raise ExportBroken("the export was empty")
        if self.trailer is None or self.trailer.get("complete") is not True:
            raise ExportBroken("the export ended without its trailer: it is incomplete")
        if self.trailer.get("subjects") != self.subjects:
            raise ExportBroken(
                f"the trailer counts {self.trailer.get('subjects')} subjects, "
                f"the export held {self.subjects}"
            )
        return self.header


@dataclass(frozen=True)
class Consumption:
    """What the broker said of a consumer when the worker looked (`checked_at`): how many
    events it has not applied yet (delivered or not), and when the oldest of them was published
    (None when there is none, or it could not be told)."""

    checked_at: datetime
    unapplied: int
    oldest_unapplied_at: datetime | None


def current_to(
    seen: Consumption, previous: datetime | None, loaded_to: datetime | None = None
) -> datetime | None:
    """The instant up to which the read model holds every event the registry published.

    Caught up, it is the check itself. Behind, it is the oldest unapplied event's publication:
    everything before it is applied. Behind without knowing since when, it does not move. Never
    before `loaded_to`, the export's instant: the replayed events the export covers count as
    unapplied until skipped, yet their changes are held."""
    if seen.unapplied == 0:
        found: datetime | None = seen.checked_at
    elif seen.oldest_unapplied_at is not None:
        found = min(seen.oldest_unapplied_at, seen.checked_at)
    else:
        found = previous
    if found is None or loaded_to is None:
        return found or loaded_to
    return max(found, loaded_to)


@dataclass(frozen=True)
class ReadModelState:
    """A read model's row of `read_models`."""

    model: str
    loaded_at: datetime | None
    loaded_rows: int | None
    snapshot_taken_at: datetime | None
    current_to: datetime | None
    pending: int | None
    checked_at: datetime | None


@dataclass(frozen=True)
class Lag:
    """How far behind the registry a read model is, and whether a draw may be prepared from it.

    `seconds` is None when it cannot be told: never loaded, or the worker has never looked.
    The worker looks every few seconds, so a worker that stopped shows as a growing lag."""

    model: str
    loaded: bool
    seconds: float | None
    max_seconds: float
    current_to: datetime | None
    pending: int | None
    checked_at: datetime | None
    loaded_at: datetime | None = None
    loaded_rows: int | None = None

    @property
    def within_bound(self) -> bool:
        return self.seconds is not None and self.seconds <= self.max_seconds


def lag_of(state: ReadModelState | None, model: str, now: datetime, max_seconds: float) -> Lag:
    if state is None:
        return Lag(model, False, None, max_seconds, None, None, None)
    loaded = state.loaded_at is not None
    seconds = (
        max((now - state.current_to).total_seconds(), 0.0)
        if loaded and state.current_to is not None
        else None
    )
    return Lag(
        model, loaded, seconds, max_seconds, state.current_to, state.pending, state.checked_at,
        state.loaded_at, state.loaded_rows,
    )  # fmt: skip
