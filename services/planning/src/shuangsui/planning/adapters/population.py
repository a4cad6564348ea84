"""The registry's population counts, asked over its API (planning has no copy of subjects)."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel

from shuangsui.kernel.service_client import ServiceClient

COUNT_PATH = "/api/v1/registry/population:count"


class RegistryPopulation(BaseModel):
    """What `registry_population_count` answers (the fields planning reads)."""

    total: int
    by_risk_class: dict[str, int]
    method: str
    classification: int
    reclassifying: bool


async def count_in_registry(
    registry: ServiceClient,
    *,
    item_id: UUID,
    region_code: str,
    tags: tuple[str, ...],
    domain: str,
    subject_type: str | None = None,
    industry_code: str | None = None,
) -> RegistryPopulation:
    """One item in one region; `subject_type` and `industry_code` narrow it (the registry then
    counts by scanning its directory, `method: scan`)."""
    params: list[tuple[str, str]] = [
        ("item_id", str(item_id)),
        ("region_code", region_code),
        ("domain", domain),
        *(("tag", tag) for tag in tags),
    ]
    if subject_type is not None:
        params.append(("subject_type", subject_type))
    if industry_code is not None:
        params.append(("industry_code", industry_code))
    return await registry.get_model(
        COUNT_PATH, RegistryPopulation, operation="registry_population_count", params=params
    )
