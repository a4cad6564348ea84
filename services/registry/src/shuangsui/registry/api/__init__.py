"""HTTP routers of this service, in the order they appear in the OpenAPI document."""

from fastapi import APIRouter

from shuangsui.registry.api import (
    exports,
    inspectors,
    institutions,
    items,
    orgs,
    probes,
    subjects,
    tag_corrections,
    tag_rules,
)

ROUTERS: list[APIRouter] = [
    probes.router,
    subjects.router,
    exports.router,
    tag_rules.router,
    tag_corrections.router,
    inspectors.router,
    institutions.router,
    items.router,
    orgs.router,
]
