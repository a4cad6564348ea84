"""Preview of a draw's population before a batch commits to it (R11, R12, R15)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from shuangsui.drawspec.model import Ratio
from shuangsui.kernel.auth import Principal
from shuangsui.kernel.problems import FORBIDDEN, VALIDATION, FieldError, Problem
from shuangsui.kernel.scope import RegionScope
from shuangsui.kernel.service_client import ServiceCallError, ServiceClient, ServiceUnreachable
from shuangsui.planning.adapters.population import count_in_registry
from shuangsui.planning.domain.population import StratumPreview, preview_strata


@dataclass(frozen=True)
class PopulationPreview:
    item_id: UUID
    region_code: str
    domain: str
    total: int
    strata: list[StratumPreview]
    method: str
    classification: int
    reclassifying: bool


async def preview_population(
    registry: ServiceClient,
    by: Principal,
    *,
    item_id: UUID,
    region_code: str | None,
    tags: tuple[str, ...],
    domain: str,
    ratios: Mapping[str, Ratio],
) -> PopulationPreview:
    """The registry counts as the service principal of the whole province, so the caller's
    own jurisdiction is enforced here, before asking."""
    region = region_code or by.region_code
    if not RegionScope.of(by).allows(region):
        raise Problem(
            FORBIDDEN,
            f"region {region} lies outside your jurisdiction ({by.region_code})",
            errors=[FieldError("region_code", "outside your jurisdiction")],
        )
    try:
        counted = await count_in_registry(
            registry, item_id=item_id, region_code=region, tags=tags, domain=domain
        )
    except ServiceUnreachable:
        raise
    except ServiceCallError as refused:
        # The registry judges what only it knows (an item not in force, a tag it does not
        # have); those are the caller's to fix, so they are answered as the caller's errors.
        if refused.status in (404, 422):
            errors = [FieldError(field, reason) for field, reason in refused.problem.errors]
            raise Problem(
                VALIDATION, f"the registry refused the count: {refused.problem.detail}",
                errors=errors or [FieldError("item_id", refused.problem.detail or "refused")],
            ) from None  # fmt: skip
        raise
    return PopulationPreview(
        item_id=item_id,
        region_code=region,
        domain=domain,
        total=counted.total,
        strata=preview_strata(counted.by_risk_class, ratios),
        method=counted.method,
        classification=counted.classification,
        reclassifying=counted.reclassifying,
    )
