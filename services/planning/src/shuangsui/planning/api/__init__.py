"""HTTP routers of this service, in the order they appear in the OpenAPI document."""

from fastapi import APIRouter

from shuangsui.planning.api import batches, catalogue, plans, policies, population, probes

ROUTERS: list[APIRouter] = [
    population.router,
    probes.router,
    catalogue.router,
    plans.router,
    plans.deadlines,
    policies.router,
    batches.router,
]
