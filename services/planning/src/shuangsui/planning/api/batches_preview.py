"""HTTP: what a batch's draw would take (批次抽取预览), the answer of `planning_batches_preview`.

Only the response model lives here; the route is with the other batch routes (api/batches.py).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shuangsui.drawspec.model import Ratio
from shuangsui.planning.domain.batch_preview import BatchPreview, Counted, StratumRange

_ITEM = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
_EXAMPLE: dict[str, Any] = {
    "exact": True,
    "population": 1250, "population_min": 1250, "population_max": 1250,
    "expected_sample": 47, "expected_sample_min": 47, "expected_sample_max": 47,
    "strata": [
        {"stratum": "A", "population": 500, "population_min": 500, "population_max": 500,
         "ratio": "1/50", "count": None, "expected_sample": 10, "expected_sample_min": 10,
         "expected_sample_max": 10},
        {"stratum": "B", "population": 700, "population_min": 700, "population_max": 700,
         "ratio": "1/25", "count": None, "expected_sample": 28, "expected_sample_min": 28,
         "expected_sample_max": 28},
        {"stratum": "C", "population": 42, "population_min": 42, "population_max": 42,
         "ratio": None, "count": 5, "expected_sample": 5, "expected_sample_min": 5,
         "expected_sample_max": 5},
        {"stratum": "D", "population": 8, "population_min": 8, "population_max": 8,
         "ratio": "1/2", "count": None, "expected_sample": 4, "expected_sample_min": 4,
         "expected_sample_max": 4},
    ],
    "method": "index",
    "counts": [
        {"item_id": _ITEM, "region_code": "330106", "subject_type": None, "industry_code": None,
         "total": 800, "method": "index", "classification": 7, "reclassifying": False},
        {"item_id": _ITEM, "region_code": "330108", "subject_type": None, "industry_code": None,
         "total": 450, "method": "index", "classification": 7, "reclassifying": False},
    ],
    "classification": 7, "classifications": [7], "reclassifying": False,
    "unclassified_drawn_as": "B", "warnings": [],
}  # fmt: skip


class BatchStratumOut(BaseModel):
    stratum: str = Field(description="Credit risk class A–D the draw makes a stratum of · 风险分类")
    population: int | None = Field(
        description="Subjects in the stratum, when the preview is exact (else null) · 对象数"
    )
    population_min: int = Field(
        description="At least this many subjects (the largest item's count) · 对象数下限"
    )
    population_max: int = Field(
        description="At most this many subjects (the items' counts summed) · 对象数上限"
    )
    ratio: str | None = Field(
        description="The batch's ratio, as the draw writes it (3% = `3/100`) · 抽查比例"
    )
    count: int | None = Field(description="The batch's count instead of a ratio · 抽取数量")
    expected_sample: int | None = Field(
        description="What the draw would take, when exact: ceil(ratio × population), or the "
        "count capped at the population (R12) · 预计抽取数"
    )
    expected_sample_min: int | None = Field(
        description="What the draw would take of `population_min` · 预计抽取数下限"
    )
    expected_sample_max: int | None = Field(
        description="What the draw would take of `population_max` · 预计抽取数上限"
    )

    @classmethod
    def of(cls, stratum: StratumRange, exact: bool) -> BatchStratumOut:
        rule = stratum.rule
        return cls(
            stratum=stratum.stratum,
            population=stratum.population_max if exact else None,
            population_min=stratum.population_min,
            population_max=stratum.population_max,
            ratio=str(rule) if isinstance(rule, Ratio) else None,
            count=rule if isinstance(rule, int) else None,
            expected_sample=stratum.expected_sample_max if exact else None,
            expected_sample_min=stratum.expected_sample_min,
            expected_sample_max=stratum.expected_sample_max,
        )


class CountOut(BaseModel):
    item_id: UUID = Field(description="The item counted (抽查事项)")
    region_code: str = Field(description="The region counted · 行政区划")
    subject_type: str | None = Field(description="The subject type counted, if any · 主体类型")
    industry_code: str | None = Field(description="The industry counted, if any · 行业代码")
    total: int = Field(description="Subjects the registry counted · 计数")
    method: str = Field(description="`index` (kept counts) or `scan` · 计数方式")
    classification: int = Field(description="The classification the count reflects · 分类版本")
    reclassifying: bool = Field(description="A re-classification was under way · 正在重新分类")

    @classmethod
    def of(cls, counted: Counted) -> CountOut:
        q = counted.query
        return cls(
            item_id=q.item_id, region_code=q.region_code, subject_type=q.subject_type,
            industry_code=q.industry_code, total=counted.total, method=counted.method,
            classification=counted.classification, reclassifying=counted.reclassifying,
        )  # fmt: skip


class BatchPreviewOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    exact: bool = Field(
        description="True for a one-item batch. With several items a subject within more than "
        "one is drawn once, which counts cannot tell: the numbers are then ranges · 是否精确"
    )
    population: int | None = Field(
        description="Subjects in the drawn strata, when exact · 对象合计"
    )
    population_min: int = Field(description="At least this many subjects · 对象合计下限")
    population_max: int = Field(description="At most this many subjects · 对象合计上限")
    expected_sample: int | None = Field(
        description="What the draw would take over all strata, when exact · 预计抽取合计"
    )
    expected_sample_min: int | None = Field(description="Least it would take · 预计抽取合计下限")
    expected_sample_max: int | None = Field(description="Most it would take · 预计抽取合计上限")
    strata: list[BatchStratumOut] = Field(
        description="The drawn strata, A–D; the unclassified counted in `unclassified_drawn_as`'s "
        "· 分层"
    )
    method: str = Field(
        description="`index` when every count came from the registry's kept counts, `scan` when "
        "any was counted over the directory (subject types and industries are) · 计数方式"
    )
    counts: list[CountOut] = Field(
        description="Each `registry_population_count` asked, one item × region × subject type × "
        "industry · 各次计数"
    )
    classification: int = Field(
        description="The newest classification the counts reflect · 分类版本"
    )
    classifications: list[int] = Field(
        description="Every classification the counts reflect: more than one means they straddle "
        "a re-classification · 涉及的分类版本"
    )
    reclassifying: bool = Field(
        description="A re-classification is under way in the registry: counts may still move · "
        "正在重新分类"
    )
    unclassified_drawn_as: str = Field(
        description="The class subjects without one are drawn as (R11, Q4) · 未分类对象按此类抽取"
    )
    warnings: list[str] = Field(description="What the planner should know · 提示")

    @classmethod
    def of(cls, preview: BatchPreview) -> BatchPreviewOut:
        exact = preview.exact
        return cls(
            exact=exact,
            population=preview.population_max if exact else None,
            population_min=preview.population_min,
            population_max=preview.population_max,
            expected_sample=preview.expected_sample_max if exact else None,
            expected_sample_min=preview.expected_sample_min,
            expected_sample_max=preview.expected_sample_max,
            strata=[BatchStratumOut.of(s, exact) for s in preview.strata],
            method=preview.method,
            counts=[CountOut.of(c) for c in preview.counts],
            classification=preview.classification,
            classifications=list(preview.classifications),
            reclassifying=preview.reclassifying,
            unclassified_drawn_as=preview.unclassified_drawn_as,
            warnings=list(preview.warnings),
        )
