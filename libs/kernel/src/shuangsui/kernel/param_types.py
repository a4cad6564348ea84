"""Typed path and query parameters: the contract types (`shuangsui.contracts`) as FastAPI
parameters, each described once so every router reads the same in OpenAPI.

A value that breaks its type is a 422 naming the parameter, before any handler runs: a handler
never sees a region code that is no GB/T 2260 division or a USCC whose check character is wrong.
Declare them as ``region_code: RegionFilter = None`` or ``uscc: UsccPath``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from shuangsui.contracts.codes import IndustryCode, Tag, UnitCode
from shuangsui.contracts.regions import RegionCode
from shuangsui.contracts.uscc import Uscc

__all__ = [
    "MAX_INT4",
    "IndustryFilter",
    "RegionFilter",
    "StationCodeFilter",
    "TagFilters",
    "UnitCodeFilter",
    "UnitCodePath",
    "UsccFilter",
    "UsccPath",
    "VersionPath",
]

# PostgreSQL's `integer`: a larger number in a path would fail in the driver, not validate.
MAX_INT4 = 2**31 - 1

RegionFilter = Annotated[
    RegionCode | None,
    Query(
        description="Only this region (行政区划代码), e.g. 330106; a region outside yours "
        "matches nothing · 行政区划"
    ),
]
UsccPath = Annotated[Uscc, Path(description="统一社会信用代码 · Unified Social Credit Code")]
UsccFilter = Annotated[Uscc | None, Query(description="Only this subject · 统一社会信用代码")]
IndustryFilter = Annotated[
    IndustryCode | None,
    Query(description="GB/T 4754 code or a prefix of it, e.g. C13 · 行业代码"),
]
UnitCodePath = Annotated[UnitCode, Path(description="Unit code · 单位编码")]
UnitCodeFilter = Annotated[UnitCode | None, Query(description="Unit code · 单位编码")]
StationCodeFilter = Annotated[
    UnitCode | None, Query(description="Unit code of a station · 市场监管所编码")
]
# A tuple, so that `tag: TagFilters = ()` is an immutable default.
TagFilters = Annotated[
    tuple[Tag, ...],
    Query(
        description="Tags such as `format:餐饮服务` (repeat the parameter for more): tags of one "
        "dimension are alternatives, every dimension named must match · 标签"
    ),
]
VersionPath = Annotated[int, Path(ge=1, le=MAX_INT4, description="Version number · 版本号")]
