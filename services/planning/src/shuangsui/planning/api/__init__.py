"""HTTP routers of this service, in the order they appear in the OpenAPI document."""

from fastapi import APIRouter

from shuangsui.planning.api import policies, population, probes

ROUTERS: list[APIRouter] = [population.router, probes.router, policies.router]
