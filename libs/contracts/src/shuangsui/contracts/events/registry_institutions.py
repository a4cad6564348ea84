"""Events of the directory of professional institutions and experts (委托专业机构与专家), R23.

Sampling keeps the institutions and experts an entrusted check (检查方式 `entrusted`) may name
from these, matching their qualification codes against the items' required qualifications;
inspection records which one assisted. Both carry the entry's whole state, so a consumer
replaces its row when ``version`` is higher than the one it holds and ignores the others.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from shuangsui.contracts.events.base import EventPayload
from shuangsui.contracts.regions import RegionCode
from shuangsui.contracts.uscc import Uscc

__all__ = ["ExpertUpserted", "InstitutionUpserted"]

# What institutions and experts both carry, described once.
Jurisdiction = Annotated[RegionCode, Field(description="Registering jurisdiction (行政区划代码).")]
Qualifications = Annotated[
    list[str],
    Field(
        description="Qualification codes, sorted; the vocabulary of the inspector directory and "
        "of the items' required qualifications (资质)."
    ),
]
ValidUntil = Annotated[
    dt.date | None,
    Field(description="Last day the qualification is valid; null = no end (资质有效期至)."),
]
EntryStatus = Annotated[
    Literal["active", "suspended", "revoked"],
    Field(
        description="active, suspended or revoked; only an active entry whose qualification is "
        "valid that day may assist a check (状态)."
    ),
]
Version = Annotated[int, Field(ge=1, description="Increases with every change (版本).")]
ChangedAt = Annotated[AwareDatetime, Field(description="When the change was committed (变更时间).")]


class InstitutionUpserted(EventPayload):
    """A professional institution was added to the directory or changed."""

    event_type: ClassVar[str] = "registry.institution.upserted.v1"

    institution_id: UUID = Field(description="The entry's directory id (机构编号).")
    uscc: Uscc = Field(description="The institution's USCC, its key (统一社会信用代码).")
    name: str = Field(description="Name (机构名称).")
    kind: Literal["testing", "inspection", "certification"] = Field(
        description="testing 检验检测机构, inspection 检查机构 or certification 认证机构 (类别)."
    )
    region_code: Jurisdiction
    qualifications: Qualifications
    valid_until: ValidUntil
    status: EntryStatus
    version: Version
    changed_at: ChangedAt


class ExpertUpserted(EventPayload):
    """An expert was added to the directory or changed.

    An expert is a person: named by the province's expert code, never by an ID-card number.
    """

    event_type: ClassVar[str] = "registry.expert.upserted.v1"

    expert_id: UUID = Field(description="The entry's directory id (专家编号).")
    expert_code: str = Field(
        pattern=r"^[0-9A-Z][0-9A-Z_.\-]{0,39}$",
        description="The province's code for the expert, unique within the province, its key "
        "(专家编码).",
    )
    name: str = Field(description="The expert's name (专家姓名).")
    region_code: Jurisdiction
    qualifications: Qualifications
    valid_until: ValidUntil
    status: EntryStatus
    version: Version
    changed_at: ChangedAt
