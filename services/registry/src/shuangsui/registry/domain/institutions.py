"""Professional institutions and experts (委托专业机构) that assist entrusted checks (R23)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID


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
    name: str
    kind: InstitutionKind
    region_code: str
    uscc: str | None  # required for organisations; an expert is a person and has none
    qualifications: tuple[str, ...] = ()
    valid_until: date | None = None
    status: InstitutionStatus = InstitutionStatus.active


@dataclass(frozen=True)
class Institution:
    institution_id: UUID
    record: InstitutionRecord
    version: int = 1


def record_problems(record: InstitutionRecord) -> list[tuple[str, str]]:
    """(field, reason) for each rule the record breaks."""
    if record.kind is not InstitutionKind.expert and not record.uscc:
        return [("uscc", "required for an institution (only an expert may have none)")]
    return []


def may_be_entrusted(institution: Institution, on: date) -> bool:
    """R23: only an active institution whose qualification is valid that day may assist."""
    record = institution.record
    valid = record.valid_until is None or record.valid_until >= on
    return record.status is InstitutionStatus.active and valid
