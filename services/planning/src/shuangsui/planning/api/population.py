"""HTTP: preview a draw's population before planning a batch on it (抽查对象预览)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from shuangsui.drawspec.model import Ratio
from shuangsui.kernel.auth import Principal, Role, require
from shuangsui.kernel.param_types import RegionFilter, TagFilters
from shuangsui.kernel.problems import (
    FORBIDDEN,
    SERVICE_CALL_FAILED,
    SERVICE_UNAVAILABLE,
    VALIDATION,
    FieldError,
    Problem,
)
from shuangsui.kernel.responses import problem_responses
from shuangsui.kernel.service_client import ServiceClient, client_of
from shuangsui.planning.domain.population import RISK_CLASSES, RatioNotValid, parse_ratio
from shuangsui.planning.service.population import PopulationPreview, preview_population

router = APIRouter(prefix="/api/v1/planning", tags=["population · 抽查对象预览"])

PLANNERS = (Role.provincial_admin, Role.department_admin)


class StratumOut(BaseModel):
    stratum: str = Field(
        description="Credit risk class A–D (信用风险分类); B holds the unclassified"
    )
    population: int = Field(description="Subjects in the stratum · 对象数")
    ratio: str | None = Field(
        description="The ratio asked for, as the draw writes it (3% = `3/100`) · 抽查比例"
    )
    expected_sample: int | None = Field(
        description="What the draw would take: ceil(ratio × population) · 预计抽取数"
    )


class PopulationPreviewOut(BaseModel):
    item_id: UUID = Field(description="The item (抽查事项)")
    region_code: str = Field(description="The region counted (行政区划)")
    domain: str = Field(description="Risk-class domain the strata refer to · 分类领域")
    total: int = Field(description="Subjects in the population · 合计")
    expected_sample: int | None = Field(
        description="The sum over strata, when every stratum has a ratio · 预计抽取合计"
    )
    strata: list[StratumOut]
    method: str = Field(
        description="How the registry counted: `index` (kept counts) or `scan` · 计数方式"
    )
    classification: int = Field(description="The registry's classification number (分类版本)")
    reclassifying: bool = Field(
        description="A re-classification is under way in the registry: counts may still move"
    )

    @classmethod
    def of(cls, preview: PopulationPreview) -> PopulationPreviewOut:
        strata = [
            StratumOut(
                stratum=s.stratum,
                population=s.population,
                ratio=str(s.ratio) if s.ratio is not None else None,
                expected_sample=s.expected_sample,
            )
            for s in preview.strata
        ]
        samples = [s.expected_sample for s in strata]
        return cls(
            item_id=preview.item_id,
            region_code=preview.region_code,
            domain=preview.domain,
            total=preview.total,
            expected_sample=None if None in samples else sum(s or 0 for s in samples),
            strata=strata,
            method=preview.method,
            classification=preview.classification,
            reclassifying=preview.reclassifying,
        )


def _ratio_query(risk_class: str) -> Any:
    return Query(
        None,
        alias=f"ratio_{risk_class.lower()}",
        description=f"Ratio for class {risk_class}, e.g. `5%` or `1/20` · {risk_class}类抽查比例",
        examples=["5%"],
    )


@router.get(
    "/population:preview",
    operation_id="planning_population_preview",
    response_model=PopulationPreviewOut,
    summary="抽查对象预览 · Preview a draw's population",
    description="Before a batch commits to an item and a region, how many subjects the draw "
    "would start from per credit risk class (strata A–D, the unclassified drawn as B) and, "
    "for each class given a ratio, how many it would take (the ceiling of ratio × stratum, "
    "the draw's own rule). Planning asks the registry (`registry_population_count`) as its "
    "service principal; `method` and `classification` say how the registry counted. The "
    "region must lie within yours (default: yours).",
    responses=problem_responses(FORBIDDEN, SERVICE_CALL_FAILED, SERVICE_UNAVAILABLE),
)
async def preview(
    item_id: UUID = Query(description="An item in force (抽查事项)"),
    region_code: RegionFilter = None,
    tag: TagFilters = (),
    domain: str = Query("general", pattern="^[a-z][a-z_]{0,39}$", description="分类领域"),
    ratio_a: str | None = _ratio_query("A"),
    ratio_b: str | None = _ratio_query("B"),
    ratio_c: str | None = _ratio_query("C"),
    ratio_d: str | None = _ratio_query("D"),
    registry: ServiceClient = Depends(client_of("registry")),
    by: Principal = Depends(require(*PLANNERS)),
) -> PopulationPreviewOut:
    asked = dict(zip(RISK_CLASSES, (ratio_a, ratio_b, ratio_c, ratio_d), strict=True))
    found = await preview_population(
        registry, by, item_id=item_id, region_code=region_code, tags=tag,
        domain=domain, ratios=_ratios(asked),
    )  # fmt: skip
    return PopulationPreviewOut.of(found)


def _ratios(asked: dict[str, str | None]) -> dict[str, Ratio]:
    ratios, errors = {}, []
    for risk_class, text in asked.items():
        if text is None:
            continue
        try:
            ratios[risk_class] = parse_ratio(text)
        except RatioNotValid as exc:
            errors.append(FieldError(f"ratio_{risk_class.lower()}", str(exc)))
    if errors:
        raise Problem(VALIDATION, "a ratio is not valid", errors=errors)
    return ratios
