"""What a batch's draw would take, before it is published (issue 12 item 4, R11, R12, R15).

The registry counts one item in one region at a time (`registry_population_count`), with at most
one subject type and one industry code. A batch is several items over several regions, so its
preview is a set of count questions and a rule to combine the answers:

- Regions, subject types and industries of one item's questions are disjoint (nested regions
  and industry codes are asked once, by the widest: the registry's filters select every code
  below the one named), so one item's stratum is the sum of its answers.
- Several items draw the union of their subjects (R10: one visit per subject), and counts
  cannot tell how far the items' subjects overlap: the union is at least the largest item's
  count and at most their sum. The preview says so (`exact: false`) instead of guessing.

The sample per stratum is the draw's own rule (DRAW_SPEC §7.1, the ceiling of ratio × stratum
or a count capped at the stratum), computed by the draw library; over a range of populations it
is a range too, the rule being monotone. The counts are taken before the batch's exclusion
policy (B.7) removes anyone, which only sampling knows at draw time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from shuangsui.contracts.regions import contains
from shuangsui.drawspec.model import Ratio
from shuangsui.drawspec.phase_a import sample_size
from shuangsui.planning.domain.batches import BatchDraft, strata_of
from shuangsui.planning.domain.population import RISK_CLASSES, UNCLASSIFIED, UNCLASSIFIED_DRAWN_AS

# Each question is one registry call; a preview is interactive, so a scope that needs more
# calls than this is refused as too broad (ask for a county, a city or fewer conditions).
QUERY_CAP = 64


@dataclass(frozen=True)
class CountQuery:
    """One `registry_population_count` question (the registry takes one of each)."""

    item_id: UUID
    region_code: str
    subject_type: str | None
    industry_code: str | None
    tags: tuple[str, ...]
    domain: str


@dataclass(frozen=True)
class Counted:
    """The registry's answer to one question."""

    query: CountQuery
    by_risk_class: Mapping[str, int]  # A–D and `unclassified`
    method: str  # `index` (kept counts) or `scan`
    classification: int
    reclassifying: bool

    @property
    def total(self) -> int:
        return sum(self.by_risk_class.values())


class PreviewTooBroad(ValueError):
    """The scope would need more count questions than a preview asks."""

    def __init__(self, factors: Mapping[str, int], cap: int) -> None:
        self.factors = dict(factors)
        self.cap = cap
        self.product = 1
        for n in self.factors.values():
            self.product *= n
        spelled = " × ".join(f"{n} {name}" for name, n in self.factors.items())
        super().__init__(
            f"{spelled} = {self.product} registry counts, more than the {cap} a preview asks; "
            "narrow the scope or preview fewer items at a time"
        )


@dataclass(frozen=True)
class StratumRange:
    """One drawn stratum. `population_min == population_max` when the preview is exact."""

    stratum: str
    population_min: int
    population_max: int
    rule: Ratio | int | None  # the draft's ratio (B.4) or count; None when it names none
    expected_sample_min: int | None
    expected_sample_max: int | None


@dataclass(frozen=True)
class BatchPreview:
    exact: bool
    strata: tuple[StratumRange, ...]  # the drawn classes, A–D order
    population_min: int
    population_max: int
    expected_sample_min: int | None  # None when a drawn stratum has no rule
    expected_sample_max: int | None
    method: str  # `index` only when every question was answered from the kept counts
    counts: tuple[Counted, ...]  # in the order the questions were built
    classifications: tuple[int, ...]  # every classification number the counts reflect
    reclassifying: bool
    unclassified_drawn_as: str
    warnings: tuple[str, ...]

    @property
    def classification(self) -> int:
        return max(self.classifications, default=0)


def count_queries(draft: BatchDraft, *, cap: int = QUERY_CAP) -> tuple[CountQuery, ...]:
    """The questions whose answers make the batch's preview; `PreviewTooBroad` beyond `cap`."""
    scope = draft.scope
    items = tuple(dict.fromkeys(draft.item_ids))
    regions = widest(scope.region_codes, contains)
    types: tuple[str | None, ...] = tuple(dict.fromkeys(scope.subject_types)) or (None,)
    industries: tuple[str | None, ...] = widest(
        scope.industry_codes, lambda wide, code: code.startswith(wide)
    ) or (None,)
    factors = {
        "items": len(items), "regions": len(regions),
        "subject types": len(types), "industries": len(industries),
    }  # fmt: skip
    if len(items) * len(regions) * len(types) * len(industries) > cap:
        raise PreviewTooBroad(factors, cap)
    return tuple(
        CountQuery(item, region, subject_type, industry, scope.tag_filters, draft.risk_domain)
        for item in items
        for region in regions
        for subject_type in types
        for industry in industries
    )


def widest(codes: Sequence[str], within: Callable[[str, str], bool]) -> tuple[str, ...]:
    """The codes not inside another one named (`within(wide, code)`), first-named order: a
    county under a city named too is already counted with the city."""
    unique = tuple(dict.fromkeys(codes))
    return tuple(
        code
        for code in unique
        if not any(other != code and within(other, code) for other in unique)
    )


def combine(
    draft: BatchDraft,
    counted: Sequence[Counted],
    *,
    unclassified_drawn_as: str = UNCLASSIFIED_DRAWN_AS,
) -> BatchPreview:
    """The batch's preview from the registry's answers to `count_queries(draft)`."""
    if unclassified_drawn_as not in RISK_CLASSES:
        raise ValueError(f"the unclassified are drawn as a class A–D, not {unclassified_drawn_as}")
    drawn = draft.scope.drawn_classes
    per_item: dict[UUID, dict[str, int]] = {}
    for answer in counted:
        into = per_item.setdefault(answer.query.item_id, dict.fromkeys(RISK_CLASSES, 0))
        for stratum, n in folded(answer.by_risk_class, unclassified_drawn_as).items():
            into[stratum] += n
    rules = {rule.stratum: rule.rule for rule in strata_of(draft.quantity)}
    strata = tuple(
        _stratum(c, [item[c] for item in per_item.values()], rules.get(c)) for c in drawn
    )
    samples_min = [s.expected_sample_min for s in strata]
    samples_max = [s.expected_sample_max for s in strata]
    classifications = tuple(sorted({a.classification for a in counted}))
    return BatchPreview(
        exact=len(per_item) <= 1,
        strata=strata,
        population_min=sum(s.population_min for s in strata),
        population_max=sum(s.population_max for s in strata),
        expected_sample_min=_sum_or_none(samples_min),
        expected_sample_max=_sum_or_none(samples_max),
        method="index" if all(a.method == "index" for a in counted) else "scan",
        counts=tuple(counted),
        classifications=classifications,
        reclassifying=any(a.reclassifying for a in counted),
        unclassified_drawn_as=unclassified_drawn_as,
        warnings=_warnings(draft, counted, classifications, unclassified_drawn_as),
    )


def folded(by_risk_class: Mapping[str, int], drawn_as: str) -> dict[str, int]:
    """A–D as the draw makes them: the unclassified counted in `drawn_as`'s stratum (R11, Q4)."""
    strata = {c: by_risk_class.get(c, 0) for c in RISK_CLASSES}
    strata[drawn_as] += by_risk_class.get(UNCLASSIFIED, 0)
    return strata


def _stratum(stratum: str, per_item: Sequence[int], rule: Ratio | int | None) -> StratumRange:
    low, high = max(per_item, default=0), sum(per_item)
    return StratumRange(
        stratum, low, high, rule,
        sample_size(low, rule) if rule is not None else None,
        sample_size(high, rule) if rule is not None else None,
    )  # fmt: skip


def _sum_or_none(values: Sequence[int | None]) -> int | None:
    return None if None in values else sum(v or 0 for v in values)


def _warnings(
    draft: BatchDraft,
    counted: Sequence[Counted],
    classifications: Sequence[int],
    drawn_as: str,
) -> tuple[str, ...]:
    found = []
    if len(classifications) > 1:
        found.append(
            "the counts straddle a re-classification (classifications "
            f"{', '.join(map(str, classifications))}): preview again once it is done · "
            "计数跨越了重新分类"
        )
    if any(a.reclassifying for a in counted):
        found.append("the registry is re-classifying: counts may still move · 正在重新分类")
    if drawn_as not in draft.scope.drawn_classes:
        per_item: dict[UUID, int] = {}
        for a in counted:
            per_item[a.query.item_id] = per_item.get(a.query.item_id, 0) + a.by_risk_class.get(
                UNCLASSIFIED, 0
            )
        low, high = max(per_item.values(), default=0), sum(per_item.values())
        if high:
            how_many = f"{high}" if low == high else f"{low}–{high}"
            found.append(
                f"{how_many} unclassified subjects are drawn as class {drawn_as}, which this "
                f"batch does not draw · 未分类对象按{drawn_as}类抽取，本批次不抽该类"
            )
    if len(set(draft.item_ids)) > 1:
        found.append(
            "several items: a subject within more than one is drawn once, so each stratum "
            "lies between the largest item's count and their sum · 多个事项，对象数为区间"
        )
    if draft.exclusion_policy:
        found.append("counted before the exclusion policy, which the draw applies · 未扣除排除名单")
    return tuple(found)
