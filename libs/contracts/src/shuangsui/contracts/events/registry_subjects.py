"""Events of the subject directory (检查对象名录库): what sampling and inspection build on."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shuangsui.contracts.events.base import EventPayload

__all__ = [
    "RiskClassChanged",
    "RiskClassChangedV2",
    "SubjectTags",
    "SubjectUpserted",
    "TagsChanged",
]


RiskClass = Literal["A", "B", "C", "D"]  # A lowest risk … D highest (信用风险分类)


class SubjectUpserted(EventPayload):
    """A subject was created or its registered content changed (DOMAIN.md §3.1).

    Carries what other contexts select and visit by; personal data (the legal representative)
    stays in the registry. Tags and applicable items are those of classification number
    `classification`; a later `registry.subject.tags_changed.v1` with a higher number replaces
    them.
    """

    event_type: ClassVar[str] = "registry.subject.upserted.v1"

    subject_id: UUID = Field(description="Stable id of the subject (检查对象编号)")
    uscc: str = Field(description="Unified social credit code (统一社会信用代码)")
    name: str = Field(description="Registered name (名称)")
    subject_type: str = Field(
        description="enterprise 企业 / individual 个体工商户 / cooperative 农民专业合作社 / other"
    )
    status: str = Field(description="active 存续 / cancelled 注销 / revoked 吊销 / suspended 停业")
    region_code: str = Field(description="GB/T 2260 code of its region (行政区划代码)")
    unit_code: str | None = Field(description="The station (所) that supervises it (监管单位)")
    industry_code: str | None = Field(description="GB/T 4754 industry (行业代码)")
    registered_address: str | None = Field(description="住所")
    business_address: str | None = Field(description="经营场所")
    registered_on: date | None = Field(description="成立日期")
    tags: dict[str, list[str]] = Field(description="业态/品类/载体/规模 tags by dimension (标签)")
    applicable_item_ids: list[UUID] = Field(
        description="Items whose scope it falls in (适用抽查事项)"
    )
    classification: int = Field(
        ge=0, description="The classification (tag rules + items in force) they come from"
    )
    version: int = Field(ge=1, description="Directory version of this subject (版本)")
    source: str = Field(description="The system that pushed the change (数据来源)")
    source_updated_at: AwareDatetime = Field(description="The change's time at its source")


class RiskClassChanged(EventPayload):
    """The classification system changed a subject's credit risk class (信用风险分类变更)."""

    event_type: ClassVar[str] = "registry.subject.risk_class_changed.v1"

    subject_id: UUID = Field(description="检查对象编号")
    uscc: str = Field(description="统一社会信用代码")
    domain: str = Field(description="`general` or a field such as `food` (领域)")
    old_class: str | None = Field(description="A–D before the change; null for the first (原分类)")
    new_class: str = Field(description="A–D (新分类)")
    source: str = Field(description="The classification system (来源)")
    as_of: AwareDatetime = Field(description="When the classifier decided it")


class RiskClassChangedV2(RiskClassChanged):
    """The classification system changed a subject's credit risk class (信用风险分类变更), with
    where the subject is supervised, so a consumer routes it without a lookup.

    Everything of `registry.subject.risk_class_changed.v1` under the same names (the classes now
    spelled out as A–D), plus the subject's region and station when the change was recorded.
    Per subject and domain, a later event never carries an older `as_of` (the registry refuses
    stale classifications); with equal `as_of`, the later event wins.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subject_id": "3f9a6c2d-1b4e-4c8f-a0d7-5e2b9c1f7a64",
                    "uscc": "91330106MA2CFTE04A",
                    "domain": "general",
                    "old_class": "B",
                    "new_class": "C",
                    "source": "zj-credit",
                    "as_of": "2026-02-01T00:00:00Z",
                    "region_code": "330106",
                    "unit_code": "330106-XH01",
                }
            ]
        }
    )

    event_type: ClassVar[str] = "registry.subject.risk_class_changed.v2"

    old_class: RiskClass | None = Field(
        description="A–D before the change; null for the first (原分类)"
    )
    new_class: RiskClass = Field(description="A–D (新分类)")
    region_code: str = Field(
        pattern=r"^[0-9]{6}$", description="GB/T 2260 code of its region (行政区划代码)"
    )
    unit_code: str | None = Field(
        description="The station (所) that supervises it, as subjects are pushed; null when the "
        "push named none (监管单位)"
    )


class SubjectTags(BaseModel):
    subject_id: UUID = Field(description="检查对象编号")
    uscc: str = Field(description="统一社会信用代码")
    tags: dict[str, list[str]] = Field(description="业态/品类/载体/规模 tags by dimension (标签)")
    applicable_item_ids: list[UUID] = Field(description="适用抽查事项")


class TagsChanged(EventPayload):
    """A change of the tag rules or of the items in force re-classified subjects (标签变更).

    Sent in batches of up to a few thousand subjects, so a rule change does not cost one full
    upsert event per subject. Only subjects whose tags or items changed are listed."""

    event_type: ClassVar[str] = "registry.subject.tags_changed.v1"

    classification: int = Field(ge=1, description="The classification they now carry")
    rules_version: int = Field(ge=0, description="Version of the tag rules (标签规则版本)")
    changes: list[SubjectTags] = Field(description="Each re-tagged subject's tags and items")
