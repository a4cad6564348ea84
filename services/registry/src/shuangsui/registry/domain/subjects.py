"""Subjects of inspection (检查对象) as registration and permit systems push them.

Pure rules: reading one pushed row into a subject, and deciding what a batch changes. No I/O.
The push contract is in docs/registry-push.md; DOMAIN.md §3.1 (Subject) and R2, R44.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import orjson

from shuangsui.contracts.batches import ChangeKind, RowError
from shuangsui.registry.domain.rows import RowReader


class SubjectType(StrEnum):
    enterprise = "enterprise"  # 企业
    individual = "individual"  # 个体工商户
    cooperative = "cooperative"  # 农民专业合作社
    other = "other"


class SubjectStatus(StrEnum):
    active = "active"  # 存续
    cancelled = "cancelled"  # 注销
    revoked = "revoked"  # 吊销
    suspended = "suspended"  # 停业


class PushMode(StrEnum):
    atomic = "atomic"
    per_row = "per_row"


# A subject's personal data (its legal representative, 法定代表人) is shown only to the roles
# that act on subjects; the other readers (reviewers, auditors, partner departments) see the
# business facts (DOMAIN §7, R34).
PERSONAL_DATA_ROLES = frozenset(
    {"national_admin", "provincial_admin", "department_admin", "station_staff", "inspector"}
)


def sees_personal_data(roles: Iterable[str]) -> bool:
    return not PERSONAL_DATA_ROLES.isdisjoint(roles)


# The business content of a subject; `source` and `source_updated_at` say where and when from.
CONTENT_FIELDS = (
    "name", "subject_type", "status", "region_code", "registered_address", "business_address",
    "legal_representative", "industry_code", "business_scope", "licences", "online_shops",
    "registered_capital_wan", "employee_band", "unit_code", "registered_on", "registration_no",
    "extra",
)  # fmt: skip
KNOWN_KEYS = {*CONTENT_FIELDS, "uscc", "source", "source_updated_at"} - {"extra"}
# The content's canonical form: sorted keys, no spaces, UTF-8. Stored hashes are taken over it,
# so changing it makes every stored subject look changed once (and get one more version).
_CANONICAL = orjson.OPT_SORT_KEYS
_CANONICAL_FALLBACK = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
)


@dataclass(frozen=True)
class Subject:
    uscc: str
    name: str
    subject_type: SubjectType
    status: SubjectStatus
    region_code: str
    source: str
    source_updated_at: datetime
    registered_address: str | None = None
    business_address: str | None = None
    legal_representative: str | None = None
    industry_code: str | None = None
    business_scope: str | None = None
    licences: tuple[dict[str, Any], ...] = ()
    online_shops: tuple[str, ...] = ()
    registered_capital_wan: Decimal | None = None
    employee_band: str | None = None
    unit_code: str | None = None
    registered_on: date | None = None
    registration_no: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.uscc

    def content(self) -> dict[str, Any]:
        """The business fields as JSON-ready values (what history and events carry)."""
        values = {name: getattr(self, name) for name in CONTENT_FIELDS}
        values["licences"] = list(self.licences)
        values["online_shops"] = list(self.online_shops)
        if self.registered_capital_wan is not None:
            values["registered_capital_wan"] = str(self.registered_capital_wan)
        if self.registered_on is not None:
            values["registered_on"] = self.registered_on.isoformat()
        return values

    # Kept once worked out: planning, staging and history all need them, and a subject never
    # changes. (Not functools.cached_property: on Python 3.11 it takes a lock on every read.)
    @property
    def content_json(self) -> str:
        """The content as canonical JSON: what the hash is taken over, and what history stores."""
        known: str | None = self.__dict__.get("_content_json")
        if known is None:
            known = canonical_json(self.content())
            object.__setattr__(self, "_content_json", known)
        return known

    @property
    def content_hash(self) -> str:
        known: str | None = self.__dict__.get("_content_hash")
        if known is None:
            known = hashlib.sha256(self.content_json.encode()).hexdigest()
            object.__setattr__(self, "_content_hash", known)
        return known


@dataclass(frozen=True)
class Stored:
    """What the directory holds for a subject, as far as planning a change needs."""

    source_updated_at: datetime
    content_hash: str
    version: int


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    subject: Subject
    line: int
    version: int  # the version after the change (the stored one if nothing changes)

    @property
    def applies(self) -> bool:
        return self.kind.applies


def canonical_json(content: dict[str, Any]) -> str:
    try:
        return orjson.dumps(content, option=_CANONICAL, default=str).decode()
    except orjson.JSONEncodeError:  # integers beyond 64 bits, kept in `extra`
        return _CANONICAL_FALLBACK.encode(content)


def read_row(
    raw: Mapping[str, Any], line: int, now: datetime, scope_prefix: str
) -> Subject | list[RowError]:
    """One pushed row → a subject within the caller's region, or every reason it is refused.

    `scope_prefix` is the caller's region prefix (`33` for a province's systems)."""
    reader = RowReader(raw, line)
    uscc = reader.uscc()
    subject = Subject(
        uscc=uscc or "",
        name=reader.text("name", required=True) or "",
        subject_type=reader.choice("subject_type", SubjectType, SubjectType.enterprise),
        status=reader.choice("status", SubjectStatus, SubjectStatus.active),
        region_code=reader.region("region_code", scope_prefix),
        source=reader.text("source", required=True) or "",
        source_updated_at=reader.instant("source_updated_at", now),
        registered_address=reader.text("registered_address"),
        business_address=reader.text("business_address"),
        legal_representative=reader.text("legal_representative"),
        industry_code=reader.industry_code(),
        business_scope=reader.text("business_scope"),
        licences=reader.licences(),
        online_shops=reader.urls("online_shops"),
        registered_capital_wan=reader.decimal("registered_capital_wan"),
        employee_band=reader.text("employee_band"),
        unit_code=reader.text("unit_code"),
        registered_on=reader.day("registered_on", now),
        registration_no=reader.registration_no(),
        extra=_extra(raw),
    )
    if reader.errors:
        return reader.errors
    # Every accepted subject's hash is needed (to plan, or to stage it); taken now, while the
    # rows are being read, it costs nothing on the path that writes to the database.
    subject.content_hash  # noqa: B018 - fills the cached property
    return subject


def _extra(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Keys we do not know are kept, not refused: a province may send more than we model."""
    given = raw.get("extra")
    extra: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
    extra.update({k: v for k, v in raw.items() if k not in KNOWN_KEYS and k != "extra"})
    return extra


def plan_changes(
    subjects: Iterable[tuple[int, Subject]], stored: Mapping[str, Stored]
) -> list[Change]:
    """Decide, per subject, what the push does. A change older than what is stored (by the
    source's own timestamp) is stale: reported, never applied (issue 4, push contract)."""
    changes = []
    for line, subject in subjects:
        current = stored.get(subject.uscc)
        if current is None:
            changes.append(Change(ChangeKind.created, subject, line, 1))
        elif subject.source_updated_at < current.source_updated_at:
            changes.append(Change(ChangeKind.stale, subject, line, current.version))
        elif subject.content_hash == current.content_hash:
            changes.append(Change(ChangeKind.unchanged, subject, line, current.version))
        else:
            changes.append(Change(ChangeKind.updated, subject, line, current.version + 1))
    return changes


class DuplicateGuard:
    """The same record twice in one batch is ambiguous: every later occurrence is refused."""

    def __init__(self) -> None:
        self._first_line: dict[str, int] = {}

    def check(self, line: int, key: str, uscc: str) -> RowError | None:
        first = self._first_line.setdefault(key, line)
        if first == line:
            return None
        return RowError(line, "uscc", f"duplicate of line {first}", uscc)
