"""Synchronising with the justice administration's enforcement-staff database (R3).

The merge rule — the directory is kept by the market-supervision office, the justice database is
a second witness, so the sync never silently overwrites what the office recorded:

1. Match an incoming record to a stored officer by `justice_db_ref`; failing that, by `cert_no`.
   No match: the officer is created from the record ("应纳尽纳": every qualified officer belongs
   in the directory), status `active`.
2. Per compared field (`name`, `unit_code`, `region_code`, `station_code`, `position`, `cert_no`,
   `cert_valid_until`, `justice_db_ref`):
   - equal, or the incoming value is empty → nothing;
   - the stored value is empty and the incoming one is not → filled in (a non-conflicting
     addition; this is how a cert-number match gets its `justice_db_ref` linked);
   - both present and different → a conflict {field, stored, incoming} is reported and the
     stored value is kept. A renewed certificate date is a conflict too: the office confirms it
     by PATCH or import, so no one date is ever taken on trust.
3. `qualifications`: codes the record has and the officer lacks are added; codes the officer
   has and the record lacks are reported as a conflict and kept (a withdrawal needs a person).
4. `status`, `specialties` and `department_type` belong to the directory alone and are never
   compared: the justice database does not know who is on leave or what someone specialises in.

An officer with any addition is `updated` (version + 1, one event); conflicts alone change nothing.

A record naming a unit (`unit_code`, `station_code`) that the org directory of its province lacks
is reported as a row error and not applied at all, as an import row would be: the justice
database's reference data is wrong, and a partial merge would hide that.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from shuangsui.contracts.batches import ChangeKind, RowError
from shuangsui.registry.domain.inspectors import (
    Change,
    Inspector,
    InspectorRecord,
    InspectorStatus,
    Jurisdiction,
    KnownUnits,
)

COMPARED_FIELDS = (
    "name",
    "unit_code",
    "region_code",
    "station_code",
    "position",
    "cert_no",
    "cert_valid_until",
    "justice_db_ref",
)

Value = str | list[str] | None


@dataclass(frozen=True)
class FieldConflict:
    field: str
    stored: Value
    incoming: Value


@dataclass(frozen=True)
class SyncOutcome:
    change: Change
    conflicts: tuple[FieldConflict, ...] = ()


def _shown(value: object) -> Value:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def merge_justice(
    stored: InspectorRecord, incoming: InspectorRecord
) -> tuple[InspectorRecord, tuple[FieldConflict, ...]]:
    """The stored record with the non-conflicting additions applied, and the conflicts."""
    additions: dict[str, object] = {}
    conflicts: list[FieldConflict] = []
    for name in COMPARED_FIELDS:
        mine, theirs = getattr(stored, name), getattr(incoming, name)
        if _shown(theirs) is None or mine == theirs:
            continue
        if _shown(mine) is None:
            additions[name] = theirs
        else:
            conflicts.append(FieldConflict(name, _shown(mine), _shown(theirs)))
    added = sorted(set(incoming.qualifications) - set(stored.qualifications))
    missing = sorted(set(stored.qualifications) - set(incoming.qualifications))
    if added:
        additions["qualifications"] = tuple(sorted({*stored.qualifications, *added}))
    if missing:
        conflicts.append(
            FieldConflict(
                "qualifications", list(stored.qualifications), list(incoming.qualifications)
            )
        )
    return replace(stored, **additions), tuple(conflicts)  # type: ignore[arg-type]


def plan_justice_sync(
    records: Sequence[tuple[int, InspectorRecord]],
    by_ref: Mapping[str, Inspector],
    by_cert: Mapping[str, Inspector],
    jurisdiction: Jurisdiction,
    units: KnownUnits,
    new_id: Callable[[], UUID] = uuid.uuid4,
) -> tuple[list[SyncOutcome], list[RowError]]:
    outcomes: list[SyncOutcome] = []
    errors: list[RowError] = []
    for line, record in records:
        current = (by_ref.get(record.justice_db_ref) if record.justice_db_ref else None) or (
            by_cert.get(record.cert_no)
        )
        refused = _refusals(line, record, current, jurisdiction, units)
        if refused:
            errors += refused
            continue
        if current is None:
            created = Inspector(new_id(), replace(record, status=InspectorStatus.active))
            outcomes.append(SyncOutcome(Change(line, ChangeKind.created, created)))
            continue
        merged, conflicts = merge_justice(current.record, record)
        if merged == current.record:
            change = Change(line, ChangeKind.unchanged, current)
        else:
            updated = replace(current, record=merged, version=current.version + 1)
            change = Change(line, ChangeKind.updated, updated)
        outcomes.append(SyncOutcome(change, conflicts))
    return outcomes, errors


def _refusals(
    line: int,
    record: InspectorRecord,
    current: Inspector | None,
    jurisdiction: Jurisdiction,
    units: KnownUnits,
) -> list[RowError]:
    """Why the record may not be merged. Jurisdiction is judged first, so that a writer learns
    nothing about the org directory of a region it may not write to."""
    if current is None:
        refused = jurisdiction.refusal(record)
        if refused is not None:
            return [RowError(line, *refused, key=record.cert_no)]
    elif jurisdiction.refusal(current.record) is not None:
        reason = "matches an officer of another jurisdiction"
        return [RowError(line, "justice_db_ref", reason, record.cert_no)]
    return [RowError(line, name, reason, record.cert_no) for name, reason in units.refusals(record)]
