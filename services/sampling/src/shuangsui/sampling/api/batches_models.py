"""The batches read model as the API shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shuangsui.contracts.events.planning_batches import BatchPublished
from shuangsui.sampling.domain.batches import BatchStatus, StoredBatch


class CancellationOut(BaseModel):
    reason: str = Field(description="Why planning cancelled it (撤销原因, R7)")
    cancelled_from: Literal["published", "drawn", "in_progress"] = Field(
        description="The status it left (撤销前状态)"
    )
    cancelled_at: datetime = Field(description="撤销时间")


class SamplingBatchOut(BaseModel):
    """A batch as sampling holds it: planning's publication unchanged, and sampling's status."""

    model_config = ConfigDict(extra="forbid")

    batch_id: UUID = Field(description="批次标识")
    batch_code: str = Field(description="Public code; draw codes derive from it (批次编号, B.6)")
    plan_id: UUID = Field(description="年度计划标识")
    status: BatchStatus = Field(
        description="published 可抽取 · cancelled 已撤销 · drawing 抽取中 · drawn 已抽取 "
        "(sampling's side of DOMAIN §5.2)"
    )
    published: BatchPublished = Field(
        description="`planning.batch.published.v1` as received: everything the draw takes "
        "(批次发布内容)"
    )
    cancellation: CancellationOut | None = Field(description="撤销信息; null unless cancelled")
    drawn_at: datetime | None = Field(
        None, description="When its last draw completed it (`drawn`); null otherwise (抽取完成时间)"
    )

    @classmethod
    def of(cls, batch: StoredBatch) -> SamplingBatchOut:
        assert batch.published is not None  # lists hold published batches only
        cancelled = batch.cancellation
        return cls(
            batch_id=batch.batch_id,
            batch_code=batch.batch_code,
            plan_id=batch.plan_id,
            status=batch.status,
            published=batch.published,
            cancellation=(
                CancellationOut(
                    reason=cancelled.reason,
                    cancelled_from=cancelled.cancelled_from,
                    cancelled_at=cancelled.cancelled_at,
                )
                if cancelled is not None
                else None
            ),
            drawn_at=batch.drawn_at,
        )
