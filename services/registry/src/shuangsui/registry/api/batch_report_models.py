"""The answer of a batch planned whole (a directory's sheet import, the justice sync).

It is the report of every bulk push without `stale`: these rows carry no source time, so none is
ever older than the directory. Each directory subclasses the models only to say in its own words
what a row is (an org, an officer) — the OpenAPI text is all that differs.
"""

from __future__ import annotations

from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from shuangsui.registry.service.push import PushReport


class BatchRowErrorOut(BaseModel):
    """A subclass describes `line` and `field` as its rows count them."""

    line: int
    field: str
    reason: str = Field(description="What is wrong · 原因")


RowErrorT = TypeVar("RowErrorT", bound=BatchRowErrorOut)


class BatchReportOut(BaseModel, Generic[RowErrorT]):
    """A subclass describes `created` and `updated` in the words of its directory."""

    mode: str = Field(description="atomic / per_row · 导入模式")
    received: int = Field(description="Data rows received · 收到行数")
    created: int
    updated: int
    unchanged: int = Field(description="Rows equal to the directory · 未变化")
    rejected: int = Field(description="Rows rejected · 拒绝")
    applied: bool = Field(description="Whether valid rows were applied · 是否已生效")
    errors: list[RowErrorT] = Field(
        description="One entry per refused field, first 1,000 · 逐行错误（最多 1,000 条）"
    )
    errors_truncated: bool = Field(description="More errors than listed · 错误未全部列出")

    @classmethod
    def of(cls, report: PushReport, **more: Any) -> Self:
        return cls(
            mode=report.mode.value, received=report.received, created=report.created,
            updated=report.updated, unchanged=report.unchanged, rejected=report.rejected,
            applied=report.applied,
            errors=[{"line": e.line, "field": e.field, "reason": e.reason} for e in report.errors],
            errors_truncated=report.errors_truncated, **more,
        )  # fmt: skip


def per_row_example(created: int, updated: int, error: dict[str, Any]) -> ConfigDict:
    """The example answer: three rows imported row by row, the third refused for `error`."""
    example: dict[str, Any] = {
        "mode": "per_row", "received": 3, "created": created, "updated": updated,
        "unchanged": 0, "rejected": 1, "applied": True, "errors": [error],
        "errors_truncated": False,
    }  # fmt: skip
    return ConfigDict(json_schema_extra={"examples": [example]})
