"""HTTP: how far behind the registry sampling's read models are (读模型延迟)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from shuangsui.kernel.auth import Principal, Role, require
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.responses import problem_responses
from shuangsui.messaging.platform import unit_of_work
from shuangsui.sampling.domain.subjects import Lag
from shuangsui.sampling.service.subjects import subjects_lag

router = APIRouter(prefix="/api/v1/sampling", tags=["read models · 读模型"])


class ReadModelOut(BaseModel):
    model: str = Field(description="`subjects` 检查对象 · the read model")
    loaded: bool = Field(description="Loaded from the registry's export · 已从导出装载")
    lag_seconds: float | None = Field(
        description="Every registry event published longer ago than this is applied; null when "
        "it cannot be told (not loaded, never checked) · 落后秒数"
    )
    max_lag_seconds: float = Field(
        description="The bound a draw is prepared within (READ_MODEL_MAX_LAG_SECONDS) · 允许延迟"
    )
    within_bound: bool = Field(description="A draw may be prepared from it · 可用于抽取")
    current_to: datetime | None = Field(description="Holds every event published before · 截至")
    pending: int | None = Field(description="Events not applied yet when checked · 待处理事件")
    checked_at: datetime | None = Field(description="When the worker last looked · 检查时间")
    loaded_at: datetime | None = Field(description="When the export was loaded · 装载时间")
    loaded_rows: int | None = Field(description="Rows the export held · 装载条数")

    @classmethod
    def of(cls, lag: Lag) -> ReadModelOut:
        return cls(
            model=lag.model, loaded=lag.loaded, lag_seconds=lag.seconds,
            max_lag_seconds=lag.max_seconds, within_bound=lag.within_bound,
            current_to=lag.current_to, pending=lag.pending, checked_at=lag.checked_at,
            loaded_at=lag.loaded_at, loaded_rows=lag.loaded_rows,
        )  # fmt: skip


class ReadModelsOut(BaseModel):
    items: list[ReadModelOut]


@router.get(
    "/read-models",
    operation_id="sampling_read_models_get",
    response_model=ReadModelsOut,
    summary="How far behind the registry each read model is · 读模型延迟",
    responses=problem_responses(401, 403),
)
async def get_read_models(
    request: Request,
    uow: UnitOfWork = Depends(unit_of_work),
    _by: Principal = Depends(require(Role.provincial_admin, Role.department_admin, Role.auditor)),
) -> ReadModelsOut:
    bound = request.app.state.settings.read_model_max_lag_seconds
    return ReadModelsOut(items=[ReadModelOut.of(await subjects_lag(uow, bound))])
