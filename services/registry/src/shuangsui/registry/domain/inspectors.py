"""Inspector directory (执法检查人员名录库): officers who may be drawn, and their conflicts.

Pure rules (DOMAIN.md §3.1, R3, R17, R19): no I/O, no framework. The import-row parsing lives in
`inspectors_import.py`; the justice-database merge rule in `inspectors_sync.py`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date
from enum import StrEnum
from uuid import UUID

from shuangsui.contracts.batches import ChangeKind, RowError

MARKET_SUPERVISION = "market_supervision"


class InspectorStatus(StrEnum):
    """Only `active` inspectors may be drawn (R17)."""

    active = "active"
    suspended = "suspended"
    on_leave = "on_leave"
    left = "left"


class ConflictSource(StrEnum):
    """Who raised a conflict of interest (R19): the directory keeper, the officer, the subject."""

    directory = "directory"
    inspector = "inspector"
    subject_application = "subject_application"


@dataclass(frozen=True)
class DeclaredConflict:
    """A declared conflict of interest (回避事由) between an officer and a subject (R19)."""

    conflict_id: UUID
    subject_uscc: str
    since: date
    source: ConflictSource
    reason: str = ""
    withdrawn: bool = False


@dataclass(frozen=True)
class InspectorRecord:
    """The directory fields of an officer: what an import row or a justice record carries."""

    name: str
    unit_code: str  # the org's public unit code, as pushed data uses it (DOMAIN §3.1 Org.code)
    region_code: str  # jurisdiction of that org; scopes every read and write (DOMAIN §7)
    cert_no: str  # law-enforcement certificate number (执法证号): the natural key
    cert_valid_until: date
    station_code: str | None = None  # null = bureau HQ (局机关)
    department_type: str = MARKET_SUPERVISION
    position: str | None = None
    qualifications: tuple[str, ...] = ()
    specialties: tuple[str, ...] = ()
    status: InspectorStatus = InspectorStatus.active
    justice_db_ref: str | None = None


RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(InspectorRecord))


@dataclass(frozen=True)
class Inspector:
    inspector_id: UUID
    record: InspectorRecord
    version: int = 1
    conflicts: tuple[DeclaredConflict, ...] = field(default=())

    def active_conflict_with(self, uscc: str) -> DeclaredConflict | None:
        return next((c for c in self.conflicts if c.subject_uscc == uscc and not c.withdrawn), None)


@dataclass(frozen=True)
class Jurisdiction:
    """Where a writer may write: a region prefix ("" = all) and, for a partner department's admin,
    only its own department's officers (DOMAIN §7: partner_admin writes its own entries)."""

    region_prefix: str
    department_type: str | None = None

    def refusal(self, record: InspectorRecord) -> tuple[str, str] | None:
        """(field, reason) when this writer may not hold `record`, else None."""
        if not record.region_code.startswith(self.region_prefix):
            return "region_code", "outside the jurisdiction of your organisation"
        if self.department_type is not None and record.department_type != self.department_type:
            return "department_type", f"you may only write {self.department_type} officers"
        return None


# Fields that name an org of the directory by its public unit code (DOMAIN §3.1 Org.code).
UNIT_FIELDS = ("unit_code", "station_code")


def province_of(region_code: str) -> str:
    """The 2-digit province part of a 6-digit GB/T 2260 code (the stored codes are all 6 digits)."""
    return region_code[:2]


@dataclass(frozen=True)
class KnownUnits:
    """What the org directory says about the unit codes a batch names, by province.

    `codes` maps each province that has at least one org loaded to those of the named codes that
    are orgs of that province. A province without any org is absent and its rows are not checked:
    a new province may load its officers before its orgs."""

    codes: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def refusals(self, record: InspectorRecord) -> list[tuple[str, str]]:
        """(field, reason) for each unit field naming no org of the record's province."""
        known = self.codes.get(province_of(record.region_code))
        if known is None:
            return []
        named = ((name, getattr(record, name)) for name in UNIT_FIELDS)
        return [
            (name, f"unknown unit {code}: not in the organisation directory · 单位不在机构名录中")
            for name, code in named
            if code is not None and code not in known
        ]


# --- field rules --------------------------------------------------------------------------------

_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.\-]{0,39}$")
_CERT = re.compile(r"^[0-9A-Z][0-9A-Z\-]{3,39}$")
_DEPARTMENT = re.compile(r"^[a-z][a-z_]{1,39}$")
_TAG_MAX = 60
_TAGS_MAX = 50


class InvalidField(ValueError):
    """A field value that breaks a rule; the caller attaches the field name and line."""


def clean_name(value: str, limit: int = 50) -> str:
    value = " ".join(value.split())
    if not value:
        raise InvalidField("required")
    if len(value) > limit:
        raise InvalidField(f"at most {limit} characters")
    return value


def clean_code(
    value: str,
    *,
    required: bool = True,
    pattern: re.Pattern[str] = _CODE,
    rule: str = "1–40 letters, digits, '-', '_' or '.'",
) -> str | None:
    """A unit or station code; `pattern` and its `rule` differ by directory (an org's is shorter)."""
    value = value.strip()
    if not value:
        if required:
            raise InvalidField("required")
        return None
    if not pattern.match(value):
        raise InvalidField(rule)
    return value


def clean_cert_no(value: str) -> str:
    # Certificates are printed in upper case; offices type them any way, so compare normalised.
    value = value.strip().upper()
    if not value:
        raise InvalidField("required")
    if not _CERT.match(value):
        raise InvalidField("4–40 letters, digits or '-'")
    return value


def clean_department_type(value: str) -> str:
    value = value.strip() or MARKET_SUPERVISION
    if not _DEPARTMENT.match(value):
        raise InvalidField("a snake_case department code such as market_supervision")
    return value


def clean_date(value: str) -> date:
    value = value.strip()
    if not value:
        raise InvalidField("required")
    # Spreadsheets kept in Chinese offices often write 2026/12/31; ISO is the API's form.
    try:
        return date.fromisoformat(value.replace("/", "-"))
    except ValueError:
        raise InvalidField(f"{value!r} is not a date in the form YYYY-MM-DD") from None


def clean_status(value: str) -> InspectorStatus:
    value = value.strip() or InspectorStatus.active.value
    try:
        return InspectorStatus(value)
    except ValueError:
        allowed = ", ".join(s.value for s in InspectorStatus)
        raise InvalidField(f"{value!r} is not one of {allowed}") from None


def clean_tags(values: Iterable[str]) -> tuple[str, ...]:
    """Qualification and specialty codes: trimmed, de-duplicated, sorted (order carries no
    meaning, and a stable order makes an unchanged row compare equal)."""
    tags = {v.strip() for v in values if v.strip()}
    if len(tags) > _TAGS_MAX:
        raise InvalidField(f"at most {_TAGS_MAX} entries")
    long = [t for t in tags if len(t) > _TAG_MAX]
    if long:
        raise InvalidField(f"{long[0][:20]!r}… is longer than {_TAG_MAX} characters")
    return tuple(sorted(tags))


def clean_optional_text(value: str, limit: int) -> str | None:
    value = " ".join(value.split())
    if len(value) > limit:
        raise InvalidField(f"at most {limit} characters")
    return value or None


# --- import planning ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    line: int
    kind: ChangeKind
    inspector: Inspector  # the state after the change

    @property
    def applies(self) -> bool:
        return self.kind.applies


def merge_import(stored: InspectorRecord, incoming: InspectorRecord) -> InspectorRecord:
    """An import row is the office's full record of the officer, so it replaces the stored
    directory fields. One exception: a blank `justice_db_ref` keeps the stored link, because
    spreadsheets kept by hand rarely carry it and losing it would break the justice sync."""
    return replace(incoming, justice_db_ref=incoming.justice_db_ref or stored.justice_db_ref)


def plan_import(
    rows: Sequence[tuple[int, InspectorRecord]],
    stored: Mapping[str, Inspector],
    jurisdiction: Jurisdiction,
    units: KnownUnits,
    new_id: Callable[[], UUID] = uuid.uuid4,
) -> tuple[list[Change], list[RowError]]:
    """Decide per row (keyed by certificate number) whether it creates, updates or leaves an
    officer unchanged. A stored officer outside the writer's jurisdiction is not overwritten:
    the row is rejected, naming `cert_no`. A row naming a unit the org directory of its province
    lacks is rejected, naming the field, even when the stored officer already names it: an
    import is the office's full record, and it should be the one to correct."""
    changes: list[Change] = []
    errors: list[RowError] = []
    for line, record in rows:
        refused = jurisdiction.refusal(record)
        if refused is not None:
            errors.append(RowError(line, *refused, key=record.cert_no))
            continue
        unknown = units.refusals(record)
        if unknown:
            errors += [RowError(line, name, reason, record.cert_no) for name, reason in unknown]
            continue
        current = stored.get(record.cert_no)
        if current is None:
            changes.append(Change(line, ChangeKind.created, Inspector(new_id(), record)))
            continue
        if jurisdiction.refusal(current.record) is not None:
            reason = "registered to an officer of another jurisdiction"
            errors.append(RowError(line, "cert_no", reason, record.cert_no))
            continue
        merged = merge_import(current.record, record)
        if merged == current.record:
            changes.append(Change(line, ChangeKind.unchanged, current))
        else:
            updated = replace(current, record=merged, version=current.version + 1)
            changes.append(Change(line, ChangeKind.updated, updated))
    return changes, errors


def duplicate_errors(rows: Sequence[tuple[int, object]], key: str, label: str) -> list[RowError]:
    """Rows that repeat an earlier row's `key` in one batch: which one wins would be arbitrary."""
    first: dict[object, int] = {}
    errors = []
    for line, record in rows:
        value = getattr(record, key)
        if value is None:
            continue
        if value in first:
            errors.append(RowError(line, key, f"{label} repeats line {first[value]}"))
        else:
            first[value] = line
    return errors


# --- single changes -----------------------------------------------------------------------------


def with_status(inspector: Inspector, status: InspectorStatus) -> Inspector | None:
    """The officer with a new status, or None when nothing changes (no version, no event)."""
    if inspector.record.status is status:
        return None
    record = replace(inspector.record, status=status)
    return replace(inspector, record=record, version=inspector.version + 1)


def declare_conflict(inspector: Inspector, conflict: DeclaredConflict) -> Inspector:
    """Add a conflict; one active declaration per officer and subject (a second adds nothing)."""
    if inspector.active_conflict_with(conflict.subject_uscc) is not None:
        raise ConflictAlreadyDeclared(conflict.subject_uscc)
    return replace(
        inspector, conflicts=(*inspector.conflicts, conflict), version=inspector.version + 1
    )


def withdraw_conflict(
    inspector: Inspector, conflict_id: UUID
) -> tuple[Inspector, DeclaredConflict]:
    found = next((c for c in inspector.conflicts if c.conflict_id == conflict_id), None)
    if found is None:
        raise UnknownConflict(conflict_id)
    if found.withdrawn:
        raise ConflictAlreadyWithdrawn(conflict_id)
    withdrawn = replace(found, withdrawn=True)
    conflicts = tuple(withdrawn if c.conflict_id == conflict_id else c for c in inspector.conflicts)
    return replace(inspector, conflicts=conflicts, version=inspector.version + 1), withdrawn


class ConflictAlreadyDeclared(Exception):
    pass


class UnknownConflict(Exception):
    pass


class ConflictAlreadyWithdrawn(Exception):
    pass
