"""Request and response schemas of the inspector directory API (执法检查人员名录库)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shuangsui.contracts.uscc import Uscc
from shuangsui.kernel.bulk import BulkReportOut
from shuangsui.registry.domain.inspectors import (
    DeclaredConflict,
    InspectorStatus,
    clean_tags,
)
from shuangsui.registry.domain.inspectors_visibility import Shown
from shuangsui.registry.service.inspectors import JusticeSyncReport


class ConflictOut(BaseModel):
    conflict_id: UUID = Field(description="Declaration id · 回避登记编号")
    subject_uscc: str = Field(description="Subject's USCC · 统一社会信用代码")
    since: date = Field(description="Relationship exists since · 起始日期")
    source: str = Field(description="directory / inspector / subject_application · 登记来源")
    reason: str = Field(description="The relationship · 回避事由")
    withdrawn: bool = Field(description="Withdrawn · 已撤回")

    @classmethod
    def of(cls, c: DeclaredConflict) -> ConflictOut:
        return cls(
            conflict_id=c.conflict_id, subject_uscc=c.subject_uscc, since=c.since,
            source=c.source.value, reason=c.reason, withdrawn=c.withdrawn,
        )  # fmt: skip


class InspectorOut(BaseModel):
    """An officer. `cert_no`, `justice_db_ref` and `conflicts` are personal data: null unless
    `personal_data_shown` (admins, a partner admin for its own officers, the officer themself)."""

    inspector_id: UUID = Field(description="Directory id · 执法检查人员编号")
    name: str = Field(description="Name · 姓名")
    unit_code: str = Field(description="Organisation's public unit code · 单位编码")
    region_code: str = Field(description="Organisation's jurisdiction · 行政区划代码")
    station_code: str | None = Field(description="Station; null = bureau HQ · 市场监管所 / 局机关")
    department_type: str = Field(description="Department type · 部门类型")
    position: str | None = Field(description="Position · 职务")
    cert_no: str | None = Field(description="Law-enforcement certificate number · 执法证号")
    cert_valid_until: date = Field(description="Certificate valid until · 执法证有效期至")
    qualifications: list[str] = Field(description="Qualification codes · 执法资格")
    specialties: list[str] = Field(description="Specialty codes · 专业领域")
    status: InspectorStatus = Field(description="active / suspended / on_leave / left · 状态")
    justice_db_ref: str | None = Field(description="Justice database id · 司法行政执法人员库编号")
    conflicts: list[ConflictOut] | None = Field(description="Declared conflicts · 回避事由")
    version: int = Field(description="Version; the ETag · 版本")
    personal_data_shown: bool = Field(
        description="Whether personal fields are filled · 个人信息可见"
    )

    @classmethod
    def of(cls, shown: Shown) -> InspectorOut:
        inspector, personal = shown.inspector, shown.personal
        r = inspector.record
        return cls(
            inspector_id=inspector.inspector_id, name=r.name, unit_code=r.unit_code,
            region_code=r.region_code, station_code=r.station_code,
            department_type=r.department_type, position=r.position,
            cert_no=r.cert_no if personal else None, cert_valid_until=r.cert_valid_until,
            qualifications=list(r.qualifications), specialties=list(r.specialties),
            status=r.status, justice_db_ref=r.justice_db_ref if personal else None,
            conflicts=[ConflictOut.of(c) for c in inspector.conflicts] if personal else None,
            version=inspector.version, personal_data_shown=personal,
        )  # fmt: skip


class FieldConflictOut(BaseModel):
    line: int = Field(description="Record position (1-based) · 记录序号")
    inspector_id: UUID = Field(description="The stored officer · 执法检查人员编号")
    field: str = Field(description="Field that differs · 字段")
    stored: str | list[str] | None = Field(description="Kept value in the directory · 名录库现值")
    incoming: str | list[str] | None = Field(description="Justice database value · 司法库值")


class SyncReportOut(BulkReportOut):
    """处理报告 · What a sync did: the report of every bulk write, plus the differences found."""

    conflicts: list[FieldConflictOut] = Field(
        description="Differences reported, not applied · 冲突（未覆盖）"
    )

    @classmethod
    def of_sync(cls, report: JusticeSyncReport) -> SyncReportOut:
        conflicts = [
            FieldConflictOut(
                line=line, inspector_id=inspector_id, field=c.field, stored=c.stored,
                incoming=c.incoming,
            )
            for line, inspector_id, c in report.conflicts
        ]  # fmt: skip
        return cls.of(report, conflicts=conflicts)


class JusticeRecordIn(BaseModel):
    """One officer as the justice administration's enforcement-staff database holds them. Values
    are checked per record, so one bad record is reported by its position, not the whole push."""

    model_config = ConfigDict(extra="ignore")

    justice_db_ref: str = Field(description="Id in the justice database · 司法行政执法人员库编号")
    name: str = Field(description="姓名")
    cert_no: str = Field(description="执法证号")
    cert_valid_until: str = Field(description="YYYY-MM-DD · 执法证有效期至")
    unit_code: str = Field(description="单位编码")
    region_code: str = Field(description="行政区划代码")
    station_code: str = Field(default="", description="市场监管所编码")
    position: str = Field(default="", description="职务")
    department_type: str = Field(default="", description="部门类型; empty = market_supervision")
    qualifications: list[str] = Field(default=[], description="执法资格")

    def cells(self) -> dict[str, Any]:
        values: dict[str, Any] = self.model_dump()
        values["qualifications"] = ";".join(self.qualifications)
        return values


class JusticeSyncIn(BaseModel):
    records: list[JusticeRecordIn] = Field(
        min_length=1, max_length=20_000, description="Officers · 执法人员记录"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "records": [
                        {"justice_db_ref": "SF-33-000123", "name": "王芳", "cert_no": "33010012345",
                         "cert_valid_until": "2027-06-30", "unit_code": "330106001",
                         "region_code": "330106", "qualifications": ["food_safety"]}
                    ]
                }
            ]
        }
    )  # fmt: skip


class InspectorPatch(BaseModel):
    """Only the fields sent change (JSON merge patch of the hand-kept fields)."""

    model_config = ConfigDict(extra="forbid")

    status: InspectorStatus | None = Field(None, description="状态", examples=["on_leave"])
    position: str | None = Field(None, min_length=1, max_length=50, description="职务")
    station_code: str | None = Field(
        None, pattern=r"^[0-9A-Za-z][0-9A-Za-z_.\-]{0,39}$", description="市场监管所编码"
    )
    cert_valid_until: date | None = Field(None, description="执法证有效期至")
    qualifications: list[str] | None = Field(None, max_length=50, description="执法资格")
    specialties: list[str] | None = Field(None, max_length=50, description="专业领域")

    @field_validator("qualifications", "specialties")
    @classmethod
    def _codes(cls, values: list[str] | None) -> list[str] | None:
        # The directory's own rule (trimmed, de-duplicated, at most 60 characters each): a
        # refusal is a 422 naming the field, like any other.
        return None if values is None else list(clean_tags(values))


class StatusIn(BaseModel):
    status: InspectorStatus = Field(description="New status · 新状态", examples=["suspended"])


class ConflictIn(BaseModel):
    subject_uscc: Uscc = Field(description="Subject's USCC · 检查对象统一社会信用代码")
    since: date | None = Field(None, description="Since when; default today · 起始日期")
    reason: str = Field(
        "", max_length=200, description="The relationship · 回避事由", examples=["配偶任该公司监事"]
    )
