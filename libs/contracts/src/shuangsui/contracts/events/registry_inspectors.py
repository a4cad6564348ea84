"""Events of the inspector directory (执法检查人员名录库), DOMAIN.md §3.1.

Sampling keeps its inspector pools (R16, R17) and recusals (R19) from these; inspection keeps
team details. Certificate numbers and the reasons of conflicts are personal data and stay in the
registry: consumers need eligibility, not the certificate itself.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from shuangsui.contracts.events.base import EventPayload
from shuangsui.contracts.regions import RegionCode
from shuangsui.contracts.uscc import Uscc

__all__ = ["InspectorConflictDeclared", "InspectorUpserted"]


class InspectorUpserted(EventPayload):
    """An officer was added to the directory or changed (import, sync, status change).

    Carries the officer's whole eligibility state, so a consumer replaces its row when
    ``version`` is higher than the one it holds and ignores older or equal versions.
    """

    event_type: ClassVar[str] = "registry.inspector.upserted.v1"

    inspector_id: UUID = Field(description="The officer's directory id (执法检查人员编号).")
    name: str = Field(description="Officer's name (姓名).")
    org_code: str = Field(
        description="Public unit code of the officer's organisation, as pushed data uses it "
        "(单位编码; DOMAIN's org_id until the registry keeps Org rows).",
    )
    region_code: RegionCode = Field(description="Jurisdiction of that organisation (行政区划代码).")
    station_code: str | None = Field(
        description="The station (市场监管所); null = bureau head office (局机关)."
    )
    department_type: str = Field(
        description="market_supervision or the partner department's type (部门类型)."
    )
    qualifications: list[str] = Field(description="Qualification codes (执法资格), sorted.")
    specialties: list[str] = Field(description="Specialty codes (专业领域), sorted.")
    cert_valid_until: dt.date = Field(
        description="Last day the law-enforcement certificate is valid (执法证有效期至), R17."
    )
    status: Literal["active", "suspended", "on_leave", "left"] = Field(
        description="Only active officers may be drawn (状态)."
    )
    version: int = Field(ge=1, description="Increases with every change (版本).")
    changed_at: AwareDatetime = Field(description="When the change was committed (变更时间).")


class InspectorConflictDeclared(EventPayload):
    """A conflict of interest (回避事由) between an officer and a subject was declared or withdrawn.

    Sampling must not draw the officer for the subject while a declaration is not withdrawn (R19).
    """

    event_type: ClassVar[str] = "registry.inspector.conflict_declared.v1"

    conflict_id: UUID = Field(description="The declaration's id (回避登记编号).")
    inspector_id: UUID = Field(description="The officer (执法检查人员编号).")
    subject_uscc: Uscc = Field(description="The subject's USCC (统一社会信用代码).")
    since: dt.date = Field(description="Since when the relationship exists (起始日期).")
    source: Literal["directory", "inspector", "subject_application"] = Field(
        description="Who raised it: the directory keeper, the officer, or the subject's "
        "application (登记来源).",
    )
    withdrawn: bool = Field(description="True when this event withdraws the declaration (已撤回).")
    inspector_version: int = Field(ge=1, description="The officer's version after the change.")
    changed_at: AwareDatetime = Field(description="When the change was committed (变更时间).")
