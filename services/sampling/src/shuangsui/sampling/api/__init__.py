"""HTTP routers of this service, in the order they appear in the OpenAPI document."""

from fastapi import APIRouter

from shuangsui.sampling.api import (
    batches,
    draw_verifications,
    draws,
    overlaps,
    read_models,
    recusals,
)  # fmt: skip

ROUTERS: list[APIRouter] = [
    batches.router, draws.router, draw_verifications.router, read_models.router, recusals.router,
    overlaps.router,
]  # fmt: skip
