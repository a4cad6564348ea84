"""Request and response schemas of the org directory API (组织机构)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shuangsui.registry.domain.orgs import Org, OrgLevel, OrgStatus
from shuangsui.registry.service.push import PushReport

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


class OrgRowErrorOut(BaseModel):
    line: int = Field(description="File line (header = 1) or sheet row · 行号")
    field: str = Field(description="Column · 字段")
    reason: str = Field(description="What is wrong · 原因")


class OrgImportReportOut(BaseModel):
    """处理报告 · What an import did: the report of every bulk push, without `stale` (an org's
    row carries no source time, so none is ever older than the directory)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "mode": "per_row", "received": 3, "created": 2, "updated": 0, "unchanged": 0,
                    "rejected": 1, "applied": True,
                    "errors": [{"line": 4, "field": "parent_code",
                                "reason": "no org 330106-AMR: neither stored nor in this file"}],
                    "errors_truncated": False,
                }
            ]
        }
    )  # fmt: skip

    mode: str = Field(description="atomic / per_row · 导入模式")
    received: int = Field(description="Data rows received · 收到行数")
    created: int = Field(description="Orgs added · 新增")
    updated: int = Field(description="Orgs changed · 更新")
    unchanged: int = Field(description="Rows equal to the directory · 未变化")
    rejected: int = Field(description="Rows rejected · 拒绝")
    applied: bool = Field(description="Whether valid rows were applied · 是否已生效")
    errors: list[OrgRowErrorOut] = Field(
        description="One entry per refused field, first 1,000 · 逐行错误（最多 1,000 条）"
    )
    errors_truncated: bool = Field(description="More errors than listed · 错误未全部列出")

    @classmethod
    def of(cls, report: PushReport) -> OrgImportReportOut:
        return cls(
            mode=report.mode.value, received=report.received, created=report.created,
            updated=report.updated, unchanged=report.unchanged, rejected=report.rejected,
            applied=report.applied,
            errors=[OrgRowErrorOut(line=e.line, field=e.field, reason=e.reason)
                    for e in report.errors],
            errors_truncated=report.errors_truncated,
        )  # fmt: skip
