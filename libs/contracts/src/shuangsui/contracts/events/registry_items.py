"""Registry events about item lists (抽查事项清单), their items and work guides (DOMAIN.md §3.1).

They are recorded when a version is *published*, not while a draft is edited: a draft is not
in force, and consumers (planning validates batch items, disclosure publishes lists) must only
ever see what offices have made official.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shuangsui.contracts.events.base import EventPayload

__all__ = ["GuidePublished", "ItemListPublished", "ItemUpserted", "SubjectCriteria"]

Level = Literal["national", "provincial"]


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
