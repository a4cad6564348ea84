"""Professional institutions and experts (委托专业机构与专家) that assist entrusted checks (R23).

Pure rules: no I/O, no framework. An entrusted institution only assists; its identity,
qualifications and validity are what the department records and checks (R23), and sampling
matches its qualification codes against the items' required qualifications — so they are the
inspector directory's codes, cleaned by the same rule (`clean_tags`).

Natural keys: what a repeated or retried write is matched by, so that it can never add a second
entry for the same institution or person.

- An institution (检验检测机构 / 检查机构 / 认证机构) by its USCC (统一社会信用代码): every
  organisation has one, it is unique nationwide, and it is printed on the CMA/CNAS certificates
  an office copies from.
- An expert (专家) by province and `expert_code`, the code the province's expert database (专家库)
  gives the person. The directory held nothing else that names a person: an expert has no USCC;
  the ID-card number (身份证号) would be unique but is sensitive personal information the
  directory has no need to keep (PIPL Art. 28); a qualification certificate is no key either,
  since an expert may hold several or (a professor, a retired engineer) none. The code is unique
  within the province, not nationwide, because each province keeps its own expert database, and
  an expert who moves to another city of the province keeps it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from uuid import UUID

from shuangsui.contracts.batches import ChangeKind
from shuangsui.registry.domain.inspectors import InvalidField, province_of


class InstitutionKind(StrEnum):
    testing = "testing"  # 检验检测机构
    inspection = "inspection"  # 检查机构
    certification = "certification"  # 认证机构
    expert = "expert"  # 专家 (a natural person)


class InstitutionStatus(StrEnum):
    active = "active"
    suspended = "suspended"
    revoked = "revoked"


@dataclass(frozen=True)
class InstitutionRecord:
    """What an office states about an institution or an expert: the body of a PUT."""

    name: str
    kind: InstitutionKind
    region_code: str  # the registering jurisdiction; scopes every read and write (DOMAIN §7)
    uscc: str | None = None  # an institution's key; an expert, a person, has none
    expert_code: str | None = None  # an expert's key within the province; institutions have none
    qualifications: tuple[str, ...] = ()
    valid_until: date | None = None
    status: InstitutionStatus = InstitutionStatus.active

    @property
    def is_expert(self) -> bool:
        return self.kind is InstitutionKind.expert


@dataclass(frozen=True)
class Institution:
    institution_id: UUID
    record: InstitutionRecord
    version: int = 1


@dataclass(frozen=True)
class NaturalKey:
    """An institution's USCC, or an expert's province and code (see the module docstring)."""

    uscc: str | None = None
    province: str | None = None
    expert_code: str | None = None

    @property
    def field(self) -> str:
        """The request field that carries the key, for the errors that concern it."""
        return "uscc" if self.uscc is not None else "expert_code"

    def __str__(self) -> str:
        if self.uscc is not None:
            return f"uscc:{self.uscc}"
        return f"expert:{self.province}:{self.expert_code}"


def natural_key(record: InstitutionRecord) -> NaturalKey:
    if record.is_expert:
        return NaturalKey(province=province_of(record.region_code), expert_code=record.expert_code)
    return NaturalKey(uscc=record.uscc)


# --- field rules --------------------------------------------------------------------------------

_EXPERT_CODE = re.compile(r"^[0-9A-Z][0-9A-Z_.\-]{0,39}$")
NAME_MAX = 100


def clean_expert_code(value: str) -> str:
    # A key must not split on how an office typed it: compared in upper case, like cert numbers.
    value = value.strip().upper()
    if not value:
        raise InvalidField("required")
    if not _EXPERT_CODE.match(value):
        raise InvalidField("1–40 letters, digits, '-', '_' or '.', starting with a letter or digit")
    return value


def record_problems(record: InstitutionRecord) -> list[tuple[str, str]]:
    """(field, reason) for each rule the record breaks: each kind carries its own key only."""
    if record.is_expert:
        problems = []
        if not record.expert_code:
            problems.append(("expert_code", "required for an expert: the province's code for them"))
        if record.uscc is not None:
            problems.append(
                ("uscc", "an expert is a person and has none; register their institution apart")
            )
        return problems
    problems = []
    if not record.uscc:
        problems.append(("uscc", "required for an institution (only an expert may have none)"))
    if record.expert_code is not None:
        problems.append(("expert_code", "only an expert has one"))
    return problems


def jurisdiction_refusal(
    record: InstitutionRecord, stored: Institution | None, region_prefix: str
) -> tuple[str, str] | None:
    """(field, reason) when a writer whose region is `region_prefix` may not write the entry:
    neither place it outside that region nor take over one another jurisdiction registered."""
    if not record.region_code.startswith(region_prefix):
        return "region_code", "outside the jurisdiction of your organisation"
    if stored is not None and not stored.record.region_code.startswith(region_prefix):
        return natural_key(record).field, "registered by another jurisdiction"
    return None


# --- changes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstitutionChange:
    kind: ChangeKind
    institution: Institution  # the state after the change

    @property
    def applies(self) -> bool:
        return self.kind.applies


def plan_upsert(
    record: InstitutionRecord,
    stored: Institution | None,
    new_id: Callable[[], UUID] = uuid.uuid4,
) -> InstitutionChange:
    """The entry with this natural key after the write: created, replaced, or left as it is
    when it already holds this state (no new version, no event — a retry changes nothing)."""
    if stored is None:
        return InstitutionChange(ChangeKind.created, Institution(new_id(), record))
    if stored.record == record:
        return InstitutionChange(ChangeKind.unchanged, stored)
    updated = replace(stored, record=record, version=stored.version + 1)
    return InstitutionChange(ChangeKind.updated, updated)


def may_be_entrusted(institution: Institution, on: date) -> bool:
    """R23: only an active institution whose qualification is valid that day may assist."""
    record = institution.record
    valid = record.valid_until is None or record.valid_until >= on
    return record.status is InstitutionStatus.active and valid
