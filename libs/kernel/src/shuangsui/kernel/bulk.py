"""The report every bulk write answers with — a push, an import sheet, a sync — in one shape.

Counts per change kind (`shuangsui.contracts.batches.ChangeKind`), and each refused row's errors
with its line, key, field and reason. At most 1,000 errors and 1,000 stale rows are listed; the
counts are always complete. An all-or-nothing batch with a refused row is answered with the
`batch-rejected` problem, which carries the same report (nothing applied).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from shuangsui.contracts.batches import ChangeKind, RowError
from shuangsui.kernel.problems import BATCH_REJECTED, Problem

MAX_LISTED = 1000
ATOMIC = "atomic"  # the default mode: all rows or none; `per_row` applies every valid row
STALE_REASON = "older than stored"


@dataclass(frozen=True)
class StaleRow:
    line: int
    key: str


@dataclass
class BulkReport:
    """Filled while a batch is read and applied; `mode` is `atomic` or `per_row`."""

    mode: str
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    rejected: int = 0
    applied: bool = True
    errors: list[RowError] = field(default_factory=list)
    stale_rows: list[StaleRow] = field(default_factory=list)

    def reject(self, errors: Sequence[RowError]) -> None:
        """One row refused, for `errors` (listed while there is room)."""
        self.rejected += 1
        room = MAX_LISTED - len(self.errors)
        self.errors.extend(errors[: max(room, 0)])

    def count(self, kind: ChangeKind, line: int, key: str) -> None:
        setattr(self, kind.value, getattr(self, kind.value) + 1)
        if kind is ChangeKind.stale and len(self.stale_rows) < MAX_LISTED:
            self.stale_rows.append(StaleRow(line, key))

    @property
    def errors_truncated(self) -> bool:
        return self.rejected > 0 and len(self.errors) >= MAX_LISTED

    @property
    def refused_whole(self) -> bool:
        """An atomic batch with any refused row applies nothing."""
        return self.mode == ATOMIC and self.rejected > 0

    def refusal(self) -> Problem:
        """The atomic refusal (422 `batch-rejected`): this report, with nothing applied."""
        self.applied = False
        self.created = self.updated = self.unchanged = self.stale = 0
        self.stale_rows = []
        detail = f"{self.rejected} of {self.received} rows are invalid; nothing was applied"
        problem = Problem(BATCH_REJECTED, detail)
        # Row errors carry their line and key beside the field (a plain problem error has
        # neither), so they go in as the report has them, in place of the problem's own list.
        problem.extensions.update(BulkReportOut.of(self).model_dump(mode="json"))
        return problem


class RowErrorOut(BaseModel):
    line: int = Field(
        description="The row's line: NDJSON line, CSV line or XLSX row (header = 1), or its "
        "position in a JSON body · 行号"
    )
    key: str | None = Field(
        description="The row's key (USCC, certificate number, code…), if readable · 行标识"
    )
    field: str = Field(description="The field at fault · 字段")
    reason: str = Field(description="What is wrong · 原因")


class StaleRowOut(BaseModel):
    line: int = Field(description="行号")
    key: str = Field(description="The row's key · 行标识")
    reason: str = Field(description="Why it was not applied · 原因")


_EXAMPLE: dict[str, Any] = {
    "mode": "per_row", "applied": True, "received": 3, "created": 1, "updated": 1,
    "unchanged": 0, "stale": 0, "rejected": 1,
    "errors": [{"line": 4, "key": "91330106MA2GXXXX0D", "field": "region_code",
                "reason": "440106 is outside your region (33*): push it there"}],
    "errors_truncated": False, "stale_rows": [],
}  # fmt: skip


class BulkReportOut(BaseModel):
    """处理报告 · What a bulk write did: a count per change kind and every refused row."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    mode: Literal["atomic", "per_row"] = Field(description="atomic 整批生效 / per_row 逐行生效")
    applied: bool = Field(description="False when an atomic batch was refused whole · 是否生效")
    received: int = Field(description="Rows read · 收到")
    created: int = Field(description="Rows that added a record · 新增")
    updated: int = Field(description="Rows that changed a record · 更新")
    unchanged: int = Field(description="Rows equal to what is stored · 未变")
    stale: int = Field(description="Rows older than what is stored, not applied · 过期")
    rejected: int = Field(description="Refused rows · 拒收")
    errors: list[RowErrorOut] = Field(
        description="One entry per refused field, first 1,000 · 逐行错误（最多 1,000 条）"
    )
    errors_truncated: bool = Field(description="More errors than listed · 错误未全部列出")
    stale_rows: list[StaleRowOut] = Field(description="The stale rows, first 1,000 · 过期行")

    @classmethod
    def of(cls, report: BulkReport, **more: Any) -> Self:
        """`more`: the fields a subclass adds (a sync's conflicts)."""
        return cls.model_validate(
            {
                "mode": str(report.mode), "applied": report.applied, "received": report.received,
                "created": report.created, "updated": report.updated,
                "unchanged": report.unchanged, "stale": report.stale,
                "rejected": report.rejected,
                "errors": [vars(e) for e in report.errors],
                "errors_truncated": report.errors_truncated,
                "stale_rows": [
                    {"line": s.line, "key": s.key, "reason": STALE_REASON}
                    for s in report.stale_rows
                ],
                **more,
            }
        )  # fmt: skip
