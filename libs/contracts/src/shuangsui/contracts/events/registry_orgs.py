"""Events of the org directory (组织机构), DOMAIN.md §3.1.

Sampling builds its selection pools from these (bureau_wide, hq_and_stations, station_group,
single_station need to know which stations sit under which county bureau, and which org is the
bureau's head office); inspection and indicators name executing orgs with them.
"""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from shuangsui.contracts.events.base import EventPayload
from shuangsui.contracts.regions import RegionCode

__all__ = ["OrgUpserted"]


class OrgUpserted(EventPayload):
    """An org was added to the directory or changed (import, single upsert, closing).

    Carries the org's whole state, so a consumer replaces its row when ``version`` is higher
    than the one it holds and ignores older or equal versions. A parent is named both by its
    stable ``parent_org_id`` and by its public ``parent_code``.
    """

    event_type: ClassVar[str] = "registry.org.upserted.v1"

    org_id: UUID = Field(description="The org's stable id (机构标识).")
    code: str = Field(
        pattern=r"^[0-9A-Za-z_\-]{1,32}$",
        description="Public unit code, as pushed data uses it (单位编码), e.g. a subject's "
        "supervising station or an inspector's unit_code.",
    )
    name: str = Field(description="Name (机构名称).")
    level: Literal["national", "provincial", "city", "county", "station"] = Field(
        description="Level: national 国家级, provincial 省级, city 市级, county 县级, or station "
        "市场监管所 (层级)."
    )
    region_code: RegionCode = Field(description="Jurisdiction (行政区划代码).")
    parent_org_id: UUID | None = Field(
        description="The parent org's id; null for a root (上级机构标识)."
    )
    parent_code: str | None = Field(
        description="The parent org's unit code; null for a root (上级机构编码)."
    )
    department_type: str = Field(
        description="market_supervision or another department's type, e.g. "
        "ecology_environment (部门类型)."
    )
    is_hq: bool = Field(description="The bureau's head office (局机关); never a station.")
    status: Literal["active", "closed"] = Field(
        description="active, or closed: a closed org is not drawn from (状态)."
    )
    version: int = Field(ge=1, description="Increases with every change (版本).")
    changed_at: AwareDatetime = Field(description="When the change was committed (变更时间).")
