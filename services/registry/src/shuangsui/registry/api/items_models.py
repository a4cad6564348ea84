"""Request and response schemas of the item-list API (抽查事项清单)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shuangsui.registry.domain.guides import GuideStep, WorkGuide
from shuangsui.registry.domain.item_fields import (
    DEPARTMENT_NAME_MAX,
    PARTNER_DEPARTMENTS_MAX,
)
from shuangsui.registry.domain.items import (
    CheckItem,
    InspectionLevel,
    ItemCategory,
    ItemContent,
    ItemList,
    ItemOrigin,
    ItemStatus,
    ListLevel,
    ListStatus,
    Method,
    SubjectType,
)

IPLUS_PATTERN = r"^[0-9]{14}$"
PROVINCE_PATTERN = r"^[0-9]{2}0000$"

ITEM_EXAMPLE: dict[str, Any] = {
    "code": "SC-001",
    "name": "食品生产者生产行为的检查",
    "business_line": "食品安全",
    "item_category": "key",
    "responsible_department": "市场监管部门",
    "legal_basis": ["《中华人民共和国食品安全法》第一百一十条"],
    "content": "生产环境条件、进货查验、生产过程控制、出厂检验",
    "subject_types": ["enterprise"],
    "subject_tags": ["format:食品生产"],
    "required_qualification": "food_safety",
    "allowed_methods": ["on_site", "documentary"],
    "iplus_item_code": "11330000000001",
    "implementation_codes": ["11330000002482150A1"],
    "power_list_code": "330217001000",
    "min_ratio": 0.05,
    "status": "active",
}
# A joint cross-department item (跨部门联合检查, R20) as a joint list writes it.
JOINT_ITEM_EXAMPLE: dict[str, Any] = {
    **ITEM_EXAMPLE,
    "code": "LH-003",
    "name": "建设工程质量与建筑材料联合检查",
    "business_line": "产品质量",
    "item_category": "general",
    "responsible_department": "住房城乡建设部门、市场监管部门",
    "legal_basis": ["《建设工程质量管理条例》", "《中华人民共和国产品质量法》"],
    "subject_types": ["enterprise"],
    "subject_tags": [],
    "required_qualification": None,
    "lead_department": "住房城乡建设部门",
    "partner_departments": ["市场监管部门", "应急管理部门"],
    "inspection_level": "city",
}
LEAD_DEPARTMENT_DESCRIPTION = (
    "The department that leads the joint inspection of this item, usually the industry "
    "regulator (R20); required when partner_departments is not empty · 发起部门"
)
PARTNER_DEPARTMENTS_DESCRIPTION = (
    f"Departments that take part in the joint inspection, at most {PARTNER_DEPARTMENTS_MAX}, "
    "each named once, in the order given; not empty makes the item a joint cross-department "
    "item (跨部门联合检查) · 配合部门"
)
INSPECTION_LEVEL_DESCRIPTION = (
    "The tier that organises the inspection: national 国家级 / provincial 省级 / city 市级 / "
    "county 县级; null when the list does not say · 抽查层级"
)
DepartmentName = Annotated[str, StringConstraints(max_length=DEPARTMENT_NAME_MAX)]


class ItemIn(BaseModel):
    """One check item (抽查事项) as an office writes it."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [ITEM_EXAMPLE, JOINT_ITEM_EXAMPLE]}
    )

    code: str = Field(min_length=1, max_length=40, description="事项编码, unique in the version")
    name: str = Field(min_length=1, max_length=500, description="抽查事项")
    business_line: str = Field(min_length=1, max_length=100, description="抽查类别")
    item_category: ItemCategory = Field(description="事项类别: general 一般 / key 重点")
    responsible_department: str = Field(min_length=1, max_length=200, description="检查主体")
    legal_basis: list[str] = Field(min_length=1, description="检查依据")
    content: str = Field(default="", max_length=5000, description="检查内容")
    subject_types: list[SubjectType] = Field(min_length=1, description="检查对象")
    subject_tags: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="适用标签: the subjects also carry, in each dimension named, at least one of "
        "these tags (`format:` 业态, `category:` 品类, `carrier:` 载体, `scale:` 规模)",
    )
    required_qualification: str | None = Field(
        default=None,
        max_length=60,
        description="Qualification a drawn inspector must hold, one code as the inspector "
        "directory writes it, e.g. food_safety; null or absent: none beyond the law-enforcement "
        "certificate · 所需执法资格",
    )
    allowed_methods: list[Method] = Field(min_length=1, description="检查方式")
    iplus_item_code: str = Field(
        pattern=IPLUS_PATTERN, description="监管事项目录编码 (互联网+监管, 14 digits)"
    )
    implementation_codes: list[str] = Field(
        default_factory=list, description="检查实施清单编码: agency USCC (18) + a digit 1–5"
    )
    power_list_code: str | None = Field(default=None, max_length=64, description="权责清单编码")
    min_ratio: Decimal | None = Field(
        default=None, gt=0, le=1, description="最低抽查比例 as a fraction, e.g. 0.05"
    )
    status: ItemStatus = Field(default=ItemStatus.active, description="active / withdrawn 已撤销")
    lead_department: str | None = Field(
        default=None, max_length=DEPARTMENT_NAME_MAX, description=LEAD_DEPARTMENT_DESCRIPTION
    )
    partner_departments: list[DepartmentName] = Field(
        default_factory=list,
        max_length=PARTNER_DEPARTMENTS_MAX,
        description=PARTNER_DEPARTMENTS_DESCRIPTION,
    )
    inspection_level: InspectionLevel | None = Field(
        default=None, description=INSPECTION_LEVEL_DESCRIPTION
    )

    def content_of(self) -> ItemContent:
        return ItemContent(
            code=self.code.strip(),
            name=self.name.strip(),
            business_line=self.business_line.strip(),
            item_category=self.item_category,
            responsible_department=self.responsible_department.strip(),
            legal_basis=tuple(b.strip() for b in self.legal_basis),
            content=self.content.strip(),
            subject_types=tuple(dict.fromkeys(self.subject_types)),
            allowed_methods=tuple(dict.fromkeys(self.allowed_methods)),
            iplus_item_code=self.iplus_item_code,
            implementation_codes=tuple(c.strip().upper() for c in self.implementation_codes),
            power_list_code=(self.power_list_code or "").strip() or None,
            min_ratio=self.min_ratio,
            status=self.status,
            subject_tags=tuple(dict.fromkeys(t.strip() for t in self.subject_tags)),
            required_qualification=(self.required_qualification or "").strip() or None,
            lead_department=(self.lead_department or "").strip() or None,
            partner_departments=tuple(dict.fromkeys(d.strip() for d in self.partner_departments)),
            inspection_level=self.inspection_level,
        )


class ItemOut(BaseModel):
    item_id: UUID = Field(description="Stable across versions of the list (事项标识)")
    list_id: UUID = Field(description="The list version this row belongs to")
    origin: ItemOrigin = Field(description="national = adopted unchanged from the national list")
    version: int = Field(description="Content version; the item's ETag in a draft")
    code: str
    name: str
    business_line: str
    item_category: ItemCategory
    responsible_department: str
    legal_basis: list[str]
    content: str
    subject_types: list[SubjectType]
    subject_tags: list[str] = Field(description="适用标签")
    required_qualification: str | None = Field(
        description="Qualification a drawn inspector must hold; null: none beyond the "
        "law-enforcement certificate · 所需执法资格"
    )
    allowed_methods: list[Method]
    iplus_item_code: str
    implementation_codes: list[str]
    power_list_code: str | None
    min_ratio: float | None
    status: ItemStatus
    lead_department: str | None = Field(description=LEAD_DEPARTMENT_DESCRIPTION)
    partner_departments: list[str] = Field(description=PARTNER_DEPARTMENTS_DESCRIPTION)
    inspection_level: InspectionLevel | None = Field(description=INSPECTION_LEVEL_DESCRIPTION)
    joint: bool = Field(
        description="True when partner departments take part: a joint cross-department item "
        "· 跨部门联合检查"
    )

    @classmethod
    def of(cls, list_id: UUID, item: CheckItem) -> ItemOut:
        c = item.content
        return cls(
            item_id=item.item_id,
            list_id=list_id,
            origin=item.origin,
            version=item.version,
            code=c.code,
            name=c.name,
            business_line=c.business_line,
            item_category=c.item_category,
            responsible_department=c.responsible_department,
            legal_basis=list(c.legal_basis),
            content=c.content,
            subject_types=list(c.subject_types),
            subject_tags=list(c.subject_tags),
            required_qualification=c.required_qualification,
            allowed_methods=list(c.allowed_methods),
            iplus_item_code=c.iplus_item_code,
            implementation_codes=list(c.implementation_codes),
            power_list_code=c.power_list_code,
            min_ratio=None if c.min_ratio is None else float(c.min_ratio),
            status=c.status,
            lead_department=c.lead_department,
            partner_departments=list(c.partner_departments),
            inspection_level=c.inspection_level,
            joint=c.is_joint,
        )


class ItemListIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"level": "provincial", "effective_from": "2025-01-01"}]},
    )

    level: ListLevel = Field(description="national 总局清单 / provincial 省级清单")
    province: str | None = Field(
        default=None,
        pattern=PROVINCE_PATTERN,
        description="For a provincial list: the province's code (default: the caller's)",
    )
    effective_from: date = Field(description="生效日期: after the latest published version's")


class ItemListOut(BaseModel):
    list_id: UUID
    level: ListLevel
    province: str | None
    version: int = Field(description="清单版本号")
    status: ListStatus = Field(description="draft 草稿 / published 已发布")
    effective_from: date = Field(description="生效日期")
    published_at: datetime | None = Field(description="发布时间")
    revision: int = Field(description="Bumped by each draft change; the list's ETag")
    adopted_list_id: UUID | None = Field(description="Provincial: the national version adopted")
    based_on_list_id: UUID | None = Field(description="The version this one adjusts")

    @classmethod
    def of(cls, lst: ItemList) -> ItemListOut:
        return cls(
            list_id=lst.list_id,
            level=lst.level,
            province=lst.province,
            version=lst.version,
            status=lst.status,
            effective_from=lst.effective_from,
            published_at=lst.published_at,
            revision=lst.revision,
            adopted_list_id=lst.adopted_list_id,
            based_on_list_id=lst.based_on_list_id,
        )


class GuideStepIn(BaseModel):
    title: str = Field(min_length=1, max_length=200, description="步骤, e.g. 核查许可证件")
    checkpoints: list[str] = Field(min_length=1, description="检查要点")


class GuideIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "steps": [
                        {"title": "核查许可证件", "checkpoints": ["食品生产许可证在有效期内"]}
                    ],
                    "evidence_requirements": ["现场照片"],
                    "record_form_schema": {"type": "object"},
                }
            ]
        },
    )

    steps: list[GuideStepIn] = Field(min_length=1, description="检查步骤")
    evidence_requirements: list[str] = Field(default_factory=list, description="取证要求")
    record_form_schema: dict[str, Any] = Field(
        default_factory=dict, description="检查记录表 as a JSON schema"
    )

    def steps_of(self) -> list[GuideStep]:
        return [
            GuideStep(s.title.strip(), tuple(c.strip() for c in s.checkpoints)) for s in self.steps
        ]


class GuideOut(BaseModel):
    guide_id: UUID
    item_id: UUID
    version: int = Field(description="指引版本号")
    status: Literal["draft", "published"]
    steps: list[GuideStepIn]
    evidence_requirements: list[str]
    record_form_schema: dict[str, Any]
    published_at: datetime | None

    @classmethod
    def of(cls, guide: WorkGuide) -> GuideOut:
        return cls(
            guide_id=guide.guide_id,
            item_id=guide.item_id,
            version=guide.version,
            status=guide.status.value,
            steps=[
                GuideStepIn(title=s.title, checkpoints=list(s.checkpoints)) for s in guide.steps
            ],
            evidence_requirements=list(guide.evidence_requirements),
            record_form_schema=dict(guide.record_form_schema),
            published_at=guide.published_at,
        )
