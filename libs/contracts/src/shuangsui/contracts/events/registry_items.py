"""Registry events about item lists (抽查事项清单), their items and work guides (DOMAIN.md §3.1).

They are recorded when a version is *published*, not while a draft is edited: a draft is not
in force, and consumers (planning validates batch items, disclosure publishes lists) must only
ever see what offices have made official.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shuangsui.contracts.events.base import EventPayload

__all__ = [
    "GuidePublished",
    "GuidePublishedV2",
    "GuideStep",
    "ItemListPublished",
    "ItemUpserted",
    "ItemUpsertedV2",
    "SubjectCriteria",
]

Level = Literal["national", "provincial"]
InspectionLevel = Literal["national", "provincial", "city", "county"]


class SubjectCriteria(BaseModel):
    """Which subjects an item applies to: a type it names and, for every tag dimension it
    names, one of its tags (检查对象, 适用标签)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject_types: list[Literal["enterprise", "individual", "cooperative", "other"]] = Field(
        description="Subject types the item applies to, as subjects are pushed (检查对象)."
    )
    subject_tags: list[str] = Field(
        default_factory=list,
        description="Tags such as `format:餐饮服务`; within a dimension any, every dimension named "
        "must match (适用标签). Empty: the types alone decide.",
    )


class ItemUpserted(EventPayload):
    """A check item (抽查事项) as it stands in a newly published list version.

    Recorded once per item of the version, changed or not, so a consumer's read model of
    a version is complete without replaying earlier versions.
    """

    event_type: ClassVar[str] = "registry.item.upserted.v1"

    item_id: UUID = Field(description="Stable across list versions; national items keep it "
                          "inside every provincial list (事项标识).")  # fmt: skip
    list_id: UUID = Field(description="The published list version (清单版本标识).")
    list_level: Level = Field(
        description="Level of the list this item was published in: national or provincial "
        "(清单层级)."
    )
    list_version: int = Field(ge=1, description="Version number of that list (清单版本号).")
    province: str | None = Field(
        pattern=r"^[0-9]{2}0000$",
        description="The province's 6-digit code for a provincial list; null if national (省份).",
    )
    effective_from: dt.date = Field(description="When the list version takes effect (生效日期).")
    origin: Literal["national", "provincial"] = Field(
        description="national = adopted unchanged from the national list (总局事项); provincial = "
        "added by the province under local regulations (省级增列事项)."
    )
    code: str = Field(description="Item code, unique within a list version (事项编码).")
    name: str = Field(description="Item name (抽查事项名称).")
    business_line: str = Field(description="Business line, e.g. 食品安全 (抽查类别).")
    item_category: Literal["general", "key"] = Field(
        description="general 一般检查事项 or key 重点检查事项 (事项类别)."
    )
    responsible_department: str = Field(
        description="The department that carries out the check (检查主体)."
    )
    legal_basis: list[str] = Field(
        description="Laws and articles the check rests on, one per entry (检查依据)."
    )
    allowed_methods: list[Literal["on_site", "documentary", "online", "entrusted"]] = Field(
        description="Methods the check may use: on_site 现场, documentary 书面, online 网络, "
        "entrusted 委托专业机构 (检查方式)."
    )
    content: str = Field(
        description="What the check looks at, as the list states it; may be empty (检查内容)."
    )
    subject_criteria: SubjectCriteria = Field(
        description="Which subjects the item applies to (检查对象)."
    )
    required_qualification: str | None = Field(
        min_length=1,
        max_length=60,
        description="Qualification code a drawn inspector must hold, in the inspector directory's "
        "vocabulary, e.g. food_safety; null when the law-enforcement certificate suffices "
        "(所需执法资格, R17).",
    )
    min_ratio: float | None = Field(
        gt=0,
        le=1,
        description="Least share of the population to draw, a fraction in (0, 1]; null when the "
        "item sets none (最低抽查比例).",
    )
    power_list_code: str | None = Field(
        description="Code in the list of powers and responsibilities, if any (权责清单编码)."
    )
    iplus_item_code: str = Field(
        pattern=r"^[0-9]{14}$",
        description="Code in the Internet Plus Supervision catalogue, 14 digits "
        "(互联网+监管 监管事项目录编码).",
    )
    implementation_codes: list[str] = Field(
        description="Implementation-list codes, one per implementing agency: its USCC and a "
        "digit 1–5 (检查实施清单编码)."
    )
    version: int = Field(ge=1, description="Content version of the item (事项版本).")
    status: Literal["active", "withdrawn"] = Field(
        description="active, or withdrawn: kept in the version for the record but not in force "
        "(状态)."
    )


class ItemListPublished(EventPayload):
    """A version of an item list was published; lists are public (seed §(七))."""

    event_type: ClassVar[str] = "registry.item_list.published.v1"

    list_id: UUID = Field(description="清单版本标识")
    level: Level = Field(description="national (总局) or provincial (省级).")
    province: str | None = Field(
        pattern=r"^[0-9]{2}0000$", description="The province's 6-digit code; null if national."
    )
    version: int = Field(ge=1, description="清单版本号")
    effective_from: dt.date = Field(description="生效日期; the version stays in force until "
                                    "the next one's effective date.")  # fmt: skip
    item_ids: list[UUID] = Field(description="Every item of the version, in code order.")
    adopted_list_id: UUID | None = Field(
        description="For a provincial list: the national version it adopts."
    )
    based_on_list_id: UUID | None = Field(description="The version this one adjusts, if any.")
    published_at: AwareDatetime = Field(description="发布时间")


class GuidePublished(EventPayload):
    """A version of an item's work guide (抽查工作指引) was published (R4)."""

    event_type: ClassVar[str] = "registry.guide.published.v1"

    guide_id: UUID = Field(description="指引版本标识")
    item_id: UUID = Field(description="The item the guide is for (事项标识).")
    version: int = Field(ge=1, description="指引版本号")
    published_at: AwareDatetime = Field(description="发布时间")


class ItemUpsertedV2(ItemUpserted):
    """A check item (抽查事项) as it stands in a newly published list version, with what joint
    inspections need: who leads, who takes part, at which tier (R20).

    Everything of `registry.item.upserted.v1`, under the same names, plus the joint fields: a
    planning read model of the items in force validates batches from these events alone.
    Recorded beside v1, once per item of the version, changed or not.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "item_id": "0b6f3c1e-8a52-4d59-9a51-3f0f5a0e2c11",
                    "list_id": "5c1d0c2a-7e1b-4f57-8d9e-2b6a1f4c9e30",
                    "list_level": "provincial",
                    "list_version": 3,
                    "province": "330000",
                    "effective_from": "2026-01-01",
                    "origin": "national",
                    "code": "TZSB-003",
                    "name": "电梯使用单位检查",
                    "business_line": "特种设备",
                    "item_category": "key",
                    "responsible_department": "市场监管部门",
                    "legal_basis": ["《中华人民共和国特种设备安全法》第五十七条"],
                    "allowed_methods": ["on_site"],
                    "content": "电梯使用登记、维护保养、定期检验情况",
                    "subject_criteria": {
                        "subject_types": ["enterprise"],
                        "subject_tags": ["carrier:电梯"],
                    },
                    "required_qualification": "special_equipment",
                    "min_ratio": 0.05,
                    "power_list_code": None,
                    "iplus_item_code": "11330000000009",
                    "implementation_codes": ["11330000002482150A1"],
                    "version": 2,
                    "status": "active",
                    "lead_department": "市场监管部门",
                    "partner_departments": ["住房城乡建设部门", "应急管理部门"],
                    "joint": True,
                    "inspection_level": "city",
                }
            ]
        }
    )

    event_type: ClassVar[str] = "registry.item.upserted.v2"

    lead_department: str | None = Field(
        min_length=1,
        max_length=50,
        description="The department that leads the joint inspection of this item; null for an "
        "item one department checks alone (发起部门).",
    )
    partner_departments: list[str] = Field(
        max_length=20,
        description="Departments that take part under the lead, in the list's order; empty for a "
        "single-department item (配合部门).",
    )
    joint: bool = Field(
        description="true when partner departments are named: a cross-department joint item, "
        "drawn once for all of them (跨部门联合抽查)."
    )
    inspection_level: InspectionLevel | None = Field(
        description="The tier of government that organises the inspection: national 国家级, "
        "provincial 省级, city 市级, county 县级; null when the list does not say (抽查层级)."
    )


class GuideStep(BaseModel):
    """One step of a work guide, with what the inspector confirms at it (检查步骤)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, description="What the step does, e.g. 核查许可证件 (步骤).")
    checkpoints: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1,
        description="What the inspector confirms at this step, in order (检查要点).",
    )


class GuidePublishedV2(GuidePublished):
    """A version of an item's work guide (抽查工作指引) was published (R4), with the guide itself.

    Everything of `registry.guide.published.v1` plus the checklist: inspection builds its
    result-entry forms from it without calling the registry. A published version never changes;
    a later version of the same item's guide replaces it for new tasks.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "guide_id": "9d2e4b71-3c6a-4e0f-b8a5-71c2d0e6f4a9",
                    "item_id": "0b6f3c1e-8a52-4d59-9a51-3f0f5a0e2c11",
                    "version": 2,
                    "published_at": "2026-01-05T09:30:00Z",
                    "steps": [
                        {
                            "title": "核查使用登记",
                            "checkpoints": ["电梯已办理使用登记", "登记标志置于显著位置"],
                        },
                        {"title": "核查维护保养", "checkpoints": ["每15日至少维保一次"]},
                    ],
                    "evidence_requirements": ["现场照片", "维保记录复印件"],
                    "record_form_schema": {
                        "type": "object",
                        "required": ["registered"],
                        "properties": {
                            "registered": {"type": "boolean", "title": "已办理使用登记"},
                            "last_maintenance": {"type": "string", "format": "date"},
                        },
                    },
                }
            ]
        }
    )

    event_type: ClassVar[str] = "registry.guide.published.v2"
    released: ClassVar[bool] = False  # until inspection's consumer ships

    steps: list[GuideStep] = Field(
        min_length=1, description="The steps, in the order they are carried out (检查步骤)."
    )
    evidence_requirements: list[str] = Field(
        description="What must be collected as evidence, e.g. 现场照片 (取证要求)."
    )
    record_form_schema: dict[str, Any] = Field(
        description="The inspection record form as a JSON schema; result entry is rendered and "
        "validated with it. May be empty ({}) when the guide sets no form (检查记录表)."
    )
