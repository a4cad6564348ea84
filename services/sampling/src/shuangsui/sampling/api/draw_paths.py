"""How the API names a draw in its paths: by its public code (抽取编号, DRAW_SPEC B.6), the
`draw_id` of its commitment document — never an internal id."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Path

from shuangsui.kernel.db import UnitOfWork
from shuangsui.messaging.platform import unit_of_work
from shuangsui.sampling.service import draw_access as access

DRAW_CODE_PATTERN = r"^[0-9]{18}-[0-9]{2,}$"
DRAW_CODE = Path(
    description="The draw's public code: its batch's code, '-', its sequence in the batch "
    "(抽取编号, B.6)",
    pattern=DRAW_CODE_PATTERN,
    examples=["330106202603150001-01"],
)


async def draw_key(
    draw_id: Annotated[str, DRAW_CODE], uow: UnitOfWork = Depends(unit_of_work)
) -> UUID:
    return await access.draw_key(uow, draw_id)


# A route's `draw_id: DrawKey` is the draw the path's public code names (404 if none).
DrawKey = Annotated[UUID, Depends(draw_key)]
