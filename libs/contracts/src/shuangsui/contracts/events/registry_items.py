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
    # Not consumed yet; released once planning reads it (its subject types were aligned with
    # the subject push before anything consumed it).
    released: ClassVar[bool] = False

    item_id: UUID = Field(description="Stable across list versions; national items keep it "
                          "inside every provincial list (事项标识).")  # fmt: skip
    list_id: UUID = Field(description="The published list version (清单版本标识).")
    list_level: Level = Field(description="Level of the list this item was published in.")
    list_version: int = Field(ge=1, description="Version number of that list (清单版本号).")
    province: str | None = Field(
        pattern=r"^[0-9]{2}0000$",
        description="The province's 6-digit code for a provincial list; null if national.",
    )
    effective_from: dt.date = Field(description="When the list version takes effect (生效日期).")
    origin: Literal["national", "provincial"] = Field(
        description="national = adopted unchanged from the national list (总局事项)."
    )
    code: str = Field(description="Item code, unique within a list version (事项编码).")
    name: str = Field(description="抽查事项")
    business_line: str = Field(description="抽查类别, e.g. 食品安全")
    item_category: Literal["general", "key"] = Field(description="一般 / 重点检查事项")
    responsible_department: str = Field(description="检查主体")
    legal_basis: list[str] = Field(description="检查依据")
    allowed_methods: list[Literal["on_site", "documentary", "online", "entrusted"]] = Field(
        description="检查方式"
    )
    subject_criteria: SubjectCriteria = Field(description="检查对象")
    min_ratio: float | None = Field(description="最低抽查比例 as a fraction, if set.")
    power_list_code: str | None = Field(description="权责清单编码")
    iplus_item_code: str = Field(
        pattern=r"^[0-9]{14}$", description="互联网+监管 监管事项目录编码 (14 digits)."
    )
    implementation_codes: list[str] = Field(
        description="检查实施清单编码, one per implementing agency (its USCC + a digit 1–5)."
    )
    version: int = Field(ge=1, description="Content version of the item (事项版本).")
    status: Literal["active", "withdrawn"] = Field(description="withdrawn items are not in force.")


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
