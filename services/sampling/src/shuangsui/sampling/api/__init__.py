"""HTTP routers of this service, in the order they appear in the OpenAPI document."""

from fastapi import APIRouter

from shuangsui.sampling.api import batches, draws, overlaps, read_models, recusals

ROUTERS: list[APIRouter] = [
    batches.router, draws.router, read_models.router, recusals.router, overlaps.router,
]  # fmt: skip
