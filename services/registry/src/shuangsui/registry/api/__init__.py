"""HTTP routers of this service, in the order they appear in the OpenAPI document."""

from fastapi import APIRouter

from shuangsui.registry.api import inspectors, institutions, items, probes, subjects

ROUTERS: list[APIRouter] = [
    probes.router,
    subjects.router,
    inspectors.router,
    institutions.router,
    items.router,
]
