"""Request and response schemas of the org directory API (组织机构)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shuangsui.registry.domain.orgs import Org, OrgLevel, OrgStatus, UnitUsage

CODE_PATTERN = r"^[0-9A-Za-z_\-]{1,32}$"
_LEVELS = "national 国家级 / provincial 省级 / city 市级 / county 县级 / station 市场监管所"


class OrgIn(BaseModel):
    """The org's full state; the unit code is in the path."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "西湖区市场监督管理局第一市场监管所", "level": "station",
                 "region_code": "330106", "parent_code": "330106-AMR",
                 "department_type": "market_supervision", "is_hq": False, "status": "active"}
            ]
        },
    )  # fmt: skip

    name: str = Field(min_length=1, max_length=100, description="Name · 机构名称")
    level: OrgLevel = Field(description=f"Level · 层级: {_LEVELS}")
    region_code: str = Field(
        pattern=r"^[0-9]{6}$", description="Jurisdiction, GB/T 2260 · 行政区划代码"
    )
    parent_code: str | None = Field(
        None,
        pattern=CODE_PATTERN,
        description="Parent org's unit code; null for a root · 上级机构编码",
    )
    department_type: str = Field(
        "market_supervision",
        pattern=r"^[a-z][a-z_]{1,39}$",
        description="market_supervision or e.g. ecology_environment, emergency_management · 部门类型",
    )
    is_hq: bool = Field(False, description="The bureau's head office; never a station · 局机关")
    status: OrgStatus = Field(OrgStatus.active, description="active 在用 / closed 撤销 · 状态")

    def cells(self, code: str) -> dict[str, str]:
        """The body as the text cells of an import row, so both paths apply the same rules."""
        return {
            "code": code, "name": self.name, "level": self.level.value,
            "region_code": self.region_code, "parent_code": self.parent_code or "",
            "department_type": self.department_type, "is_hq": str(self.is_hq).lower(),
            "status": self.status.value,
        }  # fmt: skip


class OrgOut(BaseModel):
    org_id: UUID = Field(description="Stable id · 机构标识")
    code: str = Field(description="Public unit code · 单位编码")
    name: str = Field(description="Name · 机构名称")
    level: OrgLevel = Field(description=f"Level · 层级: {_LEVELS}")
    region_code: str = Field(description="Jurisdiction · 行政区划代码")
    parent_code: str | None = Field(description="Parent org's unit code · 上级机构编码")
    department_type: str = Field(description="Department type · 部门类型")
    is_hq: bool = Field(description="Bureau head office · 局机关")
    status: OrgStatus = Field(description="active / closed · 状态")
    version: int = Field(description="Version; the ETag · 版本")

    @classmethod
    def of(cls, org: Org) -> OrgOut:
        r = org.record
        return cls(
            org_id=org.org_id, code=r.code, name=r.name, level=r.level,
            region_code=r.region_code, parent_code=r.parent_code,
            department_type=r.department_type, is_hq=r.is_hq, status=r.status,
            version=org.version,
        )  # fmt: skip


class OrgTreeOut(OrgOut):
    children: list[OrgTreeOut] = Field(description="Orgs directly below, by code · 下级机构")

    @classmethod
    def build(cls, orgs: Sequence[Org]) -> OrgTreeOut:
        """Nest a subtree given parents before children, the root first."""
        below: dict[str, list[Org]] = defaultdict(list)
        for org in orgs[1:]:
            below[org.record.parent_code or ""].append(org)

        def node(org: Org) -> OrgTreeOut:
            children = [node(c) for c in below[org.record.code]]
            return cls(**OrgOut.of(org).model_dump(), children=children)

        return node(orgs[0])


class UnknownUnitOut(BaseModel):
    """A unit code in use that the org directory of the province lacks (未登记的单位编码)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"code": "330102-09", "subjects": 412, "inspectors": 3}]}
    )

    code: str = Field(description="Unit code as subjects and officers name it · 单位编码")
    subjects: int = Field(description="Subjects whose unit_code it is · 检查对象数")
    inspectors: int = Field(
        description="Officers whose unit_code or station_code it is · 执法检查人员数"
    )

    @classmethod
    def of(cls, usage: UnitUsage) -> UnknownUnitOut:
        return cls(code=usage.code, subjects=usage.subjects, inspectors=usage.inspectors)
