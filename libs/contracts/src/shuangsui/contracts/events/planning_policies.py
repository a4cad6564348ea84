"""Planning events about risk-ratio policies (风险分类抽查比例与频次, DOMAIN.md §3.2, R11).

A policy decides how many subjects of each credit risk class a batch may draw; changing it
changes what later draws take. Each change is announced with the state before and after, so
disclosure and auditors (§(十六)) can trace who set which ratios, when, without asking
planning for its history.
"""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shuangsui.contracts.events.base import EventPayload

__all__ = ["PolicyClassRule", "PolicyDeleted", "PolicyUpserted"]

RATIO_PATTERN = r"^(0|[1-9][0-9]*)/[1-9][0-9]*$"


class PolicyClassRule(BaseModel):
    """One risk class's ratios and frequency (风险分类的抽查比例与频次)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_ratio: str = Field(
        pattern=RATIO_PATTERN,
        description="Lowest ratio a batch may draw, the reduced fraction of DRAW_SPEC B.4 "
        "(5% = `1/20`) · 最低抽查比例",
    )
    max_ratio: str = Field(
        pattern=RATIO_PATTERN, description="Highest ratio, as `min_ratio` · 最高抽查比例"
    )
    frequency_per_year: int = Field(
        ge=0, description="Most batches a year that sample the class for one item · 抽查频次"
    )


class _PolicyHeld(BaseModel):
    """Whose policy it is, for which year and item (the policy's natural key)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    policy_id: UUID = Field(description="The policy's stable id (策略标识).")
    holder: Literal["national", "province", "org"] = Field(
        description="Who set it: the national default, a province, or one department (设定层级)."
    )
    province: str | None = Field(
        pattern=r"^[0-9]{2}$",
        description="The 2-digit province code; null for the national default (省份).",
    )
    org_id: UUID | None = Field(description="The department, for an org's policy (部门).")
    region_code: str = Field(
        pattern=r"^[0-9]{6}$",
        description="The holder's region: 100000 nationally, the province's or the "
        "department's code (行政区划).",
    )
    effective_year: int = Field(ge=2000, le=2999, description="The plan year it governs (年度).")
    item_id: UUID | None = Field(
        description="The item it is specific to, e.g. a key-supervision item (R13); null for "
        "all items (抽查事项)."
    )


class PolicyUpserted(_PolicyHeld, EventPayload):
    """A risk-ratio policy was created or replaced."""

    event_type: ClassVar[str] = "planning.policy.upserted.v1"

    classes: dict[Literal["A", "B", "C", "D"], PolicyClassRule] = Field(
        description="Per credit risk class A (lowest risk) … D (highest) (风险分类)."
    )
    unclassified_treatment: Literal["A", "B", "C", "D"] = Field(
        description="The class unclassified subjects are drawn as (未分类对象按此类抽取)."
    )
    version: int = Field(ge=1, description="Increases with every change (版本).")
    previous: dict[Literal["A", "B", "C", "D"], PolicyClassRule] | None = Field(
        description="The classes before this change; null when the policy was created (变更前)."
    )
    previous_unclassified_treatment: Literal["A", "B", "C", "D"] | None = Field(
        description="`unclassified_treatment` before this change; null when created."
    )
    changed_at: AwareDatetime = Field(description="When the change was committed (变更时间).")


class PolicyDeleted(_PolicyHeld, EventPayload):
    """A risk-ratio policy was withdrawn: batches fall back to the next, less specific one
    (an org's to its province's, an item's to the general one)."""

    event_type: ClassVar[str] = "planning.policy.deleted.v1"

    version: int = Field(ge=1, description="The version withdrawn (版本).")
    previous: dict[Literal["A", "B", "C", "D"], PolicyClassRule] = Field(
        description="The classes as they stood when withdrawn (撤销前)."
    )
    previous_unclassified_treatment: Literal["A", "B", "C", "D"] = Field(
        description="`unclassified_treatment` when withdrawn."
    )
    deleted_at: AwareDatetime = Field(description="When it was withdrawn (撤销时间).")
