"""HTTP routers of this service, in the order they appear in the OpenAPI document."""

from fastapi import APIRouter

from shuangsui.sampling.api import batches, draw_verifications, draws, read_models, recusals

ROUTERS: list[APIRouter] = [
    batches.router, draws.router, draw_verifications.router, read_models.router, recusals.router,
]  # fmt: skip
