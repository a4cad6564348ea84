"""Request and response schemas of the directory of professional institutions and experts
(委托专业机构与专家)."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shuangsui.contracts.regions import CurrentRegionCode
from shuangsui.registry.domain.inspectors import clean_name, clean_tags
from shuangsui.registry.domain.institutions import (
    NAME_MAX,
    Institution,
    InstitutionKind,
    InstitutionStatus,
)

_QUALIFICATIONS = (
    "Qualification codes, the inspector directory's vocabulary (e.g. `CMA`, `CNAS`, "
    "`food_safety`); trimmed, de-duplicated and sorted, at most 50 of at most 60 characters · 资质"
)
_STATUS = "active 有效 / suspended 暂停 / revoked 撤销 · 状态"


class _EntryIn(BaseModel):
    """What both kinds of entry state; the key is in the path."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=NAME_MAX, description="Name · 名称")
    region_code: CurrentRegionCode = Field(
        description="Registering jurisdiction, within yours · 行政区划代码"
    )
    qualifications: list[str] = Field(default=[], max_length=50, description=_QUALIFICATIONS)
    valid_until: date | None = Field(
        None, description="Qualification valid until; null = no end · 资质有效期至"
    )
    status: InstitutionStatus = Field(InstitutionStatus.active, description=_STATUS)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return clean_name(value, NAME_MAX)

    @field_validator("qualifications")
    @classmethod
    def _codes(cls, values: list[str]) -> list[str]:
        # The inspector directory's rule, so that sampling matches the same codes: a refusal is
        # a 422 naming the field.
        return list(clean_tags(values))


class InstitutionIn(_EntryIn):
    """An institution's full state; its USCC is in the path."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "浙江省某检验检测研究院有限公司", "kind": "testing",
                          "region_code": "330100", "qualifications": ["CMA", "CNAS"],
                          "valid_until": "2027-12-31", "status": "active"}]
        },
    )  # fmt: skip

    kind: Literal["testing", "inspection", "certification"] = Field(
        description="testing 检验检测机构 / inspection 检查机构 / certification 认证机构 · 类别"
    )


class ExpertIn(_EntryIn):
    """An expert's full state; the province's code for them is in the path."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "李明", "region_code": "330100",
                          "qualifications": ["food_safety", "special_equipment"],
                          "valid_until": "2026-12-31", "status": "active"}]
        },
    )  # fmt: skip


class InstitutionOut(BaseModel):
    institution_id: UUID = Field(description="Directory id · 机构编号")
    kind: InstitutionKind = Field(
        description="testing 检验检测机构 / inspection 检查机构 / certification 认证机构 / "
        "expert 专家 · 类别"
    )
    uscc: str | None = Field(
        description="An institution's key; null for an expert · 统一社会信用代码"
    )
    expert_code: str | None = Field(
        description="An expert's key within the province; null for an institution · 专家编码"
    )
    name: str = Field(description="Name · 名称 / 专家姓名")
    region_code: str = Field(description="Registering jurisdiction · 行政区划代码")
    qualifications: list[str] = Field(description="Qualification codes, sorted · 资质")
    valid_until: date | None = Field(description="Qualification valid until · 资质有效期至")
    status: InstitutionStatus = Field(description=_STATUS)
    version: int = Field(description="Version; the ETag · 版本")

    @classmethod
    def fields_of(cls, entry: Institution) -> dict[str, object]:
        r = entry.record
        return {
            "institution_id": entry.institution_id, "kind": r.kind, "uscc": r.uscc,
            "expert_code": r.expert_code, "name": r.name, "region_code": r.region_code,
            "qualifications": list(r.qualifications), "valid_until": r.valid_until,
            "status": r.status, "version": entry.version,
        }  # fmt: skip

    @classmethod
    def of(cls, entry: Institution) -> InstitutionOut:
        return cls.model_validate(cls.fields_of(entry))


class InstitutionWrittenOut(InstitutionOut):
    """The entry after a PUT, and what the PUT did to it."""

    outcome: Literal["created", "updated", "unchanged"] = Field(
        description="created 新建 (201) / updated 已更新 / unchanged 未变 (the entry already held "
        "this state; nothing recorded) · 处理结果"
    )
