"""HTTP: has a pipeline probe arrived? (链路探测)"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from shuangsui.kernel.auth import Principal, Role, require
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.responses import problem_responses
from shuangsui.messaging.platform import unit_of_work
from shuangsui.planning.service.probes import received_probe

router = APIRouter(prefix="/api/v1/planning", tags=["probes · 链路探测"])


class ReceivedProbeOut(BaseModel):
    probe_id: UUID = Field(description="探测编号")
    event_id: UUID = Field(description="The event that carried it · 事件编号")
    note: str = Field(description="备注")
    sent_at: datetime = Field(description="发送时间")
    received_at: datetime = Field(description="接收时间")


@router.get(
    "/probes/{probe_id}",
    operation_id="planning_probes_get",
    response_model=ReceivedProbeOut,
    summary="A probe received from the registry · 查询链路探测",
    responses=problem_responses(404, descriptions={404: "Not arrived (yet) · 尚未到达"}),
)
async def get_probe(
    probe_id: UUID,
    uow: UnitOfWork = Depends(unit_of_work),
    _by: Principal = Depends(require(Role.provincial_admin, Role.department_admin)),
) -> ReceivedProbeOut:
    return ReceivedProbeOut.model_validate(await received_probe(uow, probe_id))
