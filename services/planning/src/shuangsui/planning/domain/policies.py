"""Risk-ratio policies (风险分类抽查比例与频次, R11, R13; DOMAIN.md §3.2, Q3, Q4).

A policy gives each credit risk class A (lowest risk) … D (highest) a range of ratios and a
number of batches a year. Ratios are exact fractions, written as the draw writes them
(DRAW_SPEC Appendix B.4: 3% is `3/100`); nothing here ever becomes a float.

Who holds a policy, and which one applies (`resolve`), most specific first:

1. an item-specific policy of the department (org) for that item (`org_item`);
2. an item-specific policy of the province for that item (`province_item`) — key-supervision
   items (R13) carry their own this way;
3. the department's own policy (`org`);
4. the province's policy (`province`);
5. the national default set by the national admin (`national`);
6. the platform default of DOMAIN.md Q3 (`platform_default`).

Only a policy of the same `effective_year` applies: a province restates its ratios for each
plan year, and last year's never silently carries over.

Readings of R11 this module fixes (ADR 0016):

- "a riskier class is never sampled at a lower ratio than a safer one": the minimums and the
  maximums each never decrease from A to D, and a batch's ratio for a class is never below the
  ratio it gives any safer class;
- frequencies never decrease from A to D either (a riskier class is visited at least as often);
- `frequency_per_year` is the most batches a year that sample a class for the same item: a new
  batch that would be one more is refused (`check_frequency`);
- an item's `min_ratio` (the 3% of 《企业公示信息抽查办法》) is a floor for every class's
  ratio in a batch of that item, whatever the policy's own minimum.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from uuid import UUID

from shuangsui.drawspec.model import Ratio
from shuangsui.drawspec.phase_a import sample_size
from shuangsui.planning.domain.population import (
    RISK_CLASSES,
    UNCLASSIFIED_DRAWN_AS,
    RatioNotValid,
    parse_ratio,
    ratio_of,
    share_of,
)

__all__ = [
    "FREQUENCY_MAX",
    "PLATFORM_DEFAULT_CLASSES",
    "BreachRule",
    "ClassRule",
    "Holder",
    "Policy",
    "PolicyBreach",
    "PolicyKey",
    "PolicyRecord",
    "PolicyViolation",
    "Source",
    "check_batch_quantities",
    "check_batch_ratios",
    "check_frequency",
    "platform_default",
    "read_class_rule",
    "resolve",
    "validate_policy",
]

# A batch a week is already more than any province plans for one item and class.
FREQUENCY_MAX = 52


@dataclass(frozen=True)
class ClassRule:
    """One risk class's part of a policy (风险分类的抽查比例与频次)."""

    min_ratio: Ratio
    max_ratio: Ratio
    frequency_per_year: int


class Holder(StrEnum):
    """Who set a policy."""

    national = "national"
    province = "province"
    org = "org"


@dataclass(frozen=True)
class PolicyKey:
    """The natural key: who holds the policy, for which year and (optionally) which item.

    `province` is the 2-digit province code (None for the national default); `org_id` the
    department for an org's policy."""

    holder: Holder
    effective_year: int
    province: str | None = None
    org_id: UUID | None = None
    item_id: UUID | None = None

    @property
    def text(self) -> str:
        """The key as one string (stored, unique, and the order lists follow)."""
        holder_id = {Holder.national: "-", Holder.province: self.province,
                     Holder.org: str(self.org_id)}[self.holder]  # fmt: skip
        return f"{self.effective_year}/{self.holder}/{holder_id}/{self.item_id or '*'}"


@dataclass(frozen=True)
class Policy:
    key: PolicyKey
    classes: Mapping[str, ClassRule]
    unclassified_treatment: str = UNCLASSIFIED_DRAWN_AS

    def rule(self, risk_class: str) -> ClassRule:
        return self.classes[risk_class]


@dataclass(frozen=True)
class PolicyRecord:
    """A stored policy: the policy with its id, the region that may see it, and its version."""

    policy_id: UUID
    policy: Policy
    region_code: str
    version: int
    updated_by: str
    updated_at: datetime


def _rule(low: str, high: str, frequency: int) -> ClassRule:
    return ClassRule(parse_ratio(low), parse_ratio(high), frequency)


# DOMAIN.md Q3: one province's practice, the platform's default where nothing is configured.
PLATFORM_DEFAULT_CLASSES: Mapping[str, ClassRule] = {
    "A": _rule("0%", "5%", 1),
    "B": _rule("5%", "20%", 1),
    "C": _rule("20%", "60%", 2),
    "D": _rule("60%", "100%", 2),
}


class Source(StrEnum):
    """Which policy applied, most specific first (the order `resolve` tries them)."""

    org_item = "org_item"
    province_item = "province_item"
    org = "org"
    province = "province"
    national = "national"
    platform_default = "platform_default"


def platform_default(year: int) -> Policy:
    return Policy(PolicyKey(Holder.national, year), PLATFORM_DEFAULT_CLASSES)


def _source_of(key: PolicyKey) -> Source:
    if key.holder is Holder.org:
        return Source.org_item if key.item_id is not None else Source.org
    if key.holder is Holder.province:
        return Source.province_item if key.item_id is not None else Source.province
    return Source.national


def resolve(
    candidates: Iterable[Policy],
    *,
    province: str,
    org_id: UUID | None,
    year: int,
    item_id: UUID | None,
) -> tuple[Policy, Source]:
    """The policy that applies to a batch of `org_id` in `province` for `item_id` in `year`,
    and which kind it was. `candidates` may hold anything: those that do not match are
    ignored, so the caller may over-fetch."""
    applicable: dict[Source, Policy] = {}
    for policy in candidates:
        key = policy.key
        if key.effective_year != year:
            continue
        if key.item_id is not None and key.item_id != item_id:
            continue
        if key.holder is Holder.org and (org_id is None or key.org_id != org_id):
            continue
        if key.holder is Holder.province and key.province != province:
            continue
        if key.holder is Holder.national and key.item_id is not None:
            continue  # no national item policies (validate_policy refuses them)
        applicable[_source_of(key)] = policy
    for source in Source:
        if source in applicable:
            return applicable[source], source
    return platform_default(year), Source.platform_default


# --- validating a policy -------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyViolation:
    """Why a policy cannot be stored: the rule, the class and the field concerned."""

    rule: str
    risk_class: str | None
    field: str
    detail: str


def read_class_rule(
    risk_class: str, min_text: str, max_text: str, frequency: int
) -> tuple[ClassRule | None, list[PolicyViolation]]:
    """A class's rule from what a client sent (`5%` or `1/20`), or why its ratios are none."""
    found: list[PolicyViolation] = []
    ratios: list[Ratio] = []
    for name, text in (("min_ratio", min_text), ("max_ratio", max_text)):
        try:
            ratios.append(parse_ratio(text))
        except RatioNotValid as exc:
            field_name = f"classes.{risk_class}.{name}"
            found.append(PolicyViolation("ratio_not_valid", risk_class, field_name, str(exc)))
    if found:
        return None, found
    return ClassRule(ratios[0], ratios[1], frequency), []


def validate_policy(policy: Policy) -> list[PolicyViolation]:
    """Every rule a policy breaks (none: it may be stored)."""
    found: list[PolicyViolation] = []
    key = policy.key
    missing = [c for c in RISK_CLASSES if c not in policy.classes]
    extra = sorted(set(policy.classes) - set(RISK_CLASSES))
    for risk_class in missing:
        found.append(
            PolicyViolation("class_missing", risk_class, f"classes.{risk_class}",
                            f"class {risk_class} needs its ratios and frequency")
        )  # fmt: skip
    for risk_class in extra:
        found.append(
            PolicyViolation("class_unknown", risk_class, f"classes.{risk_class}",
                            "risk classes are A, B, C and D")
        )  # fmt: skip
    if policy.unclassified_treatment not in RISK_CLASSES:
        found.append(
            PolicyViolation("unclassified_treatment_not_a_class", None, "unclassified_treatment",
                            "the unclassified are drawn as one of the classes A–D")
        )  # fmt: skip
    if key.holder is Holder.national and key.item_id is not None:
        found.append(
            PolicyViolation("national_item_policy", None, "item_id",
                            "item policies are set by a province or a department")
        )  # fmt: skip
    if missing:
        return found
    found.extend(_range_violations(policy))
    found.extend(_order_violations(policy))
    return found


def _range_violations(policy: Policy) -> list[PolicyViolation]:
    found = []
    for risk_class in RISK_CLASSES:
        rule = policy.rule(risk_class)
        low, high = share_of(rule.min_ratio), share_of(rule.max_ratio)
        for name, value in (("min_ratio", low), ("max_ratio", high)):
            if not 0 <= value <= 1:
                found.append(
                    PolicyViolation("ratio_out_of_range", risk_class,
                                    f"classes.{risk_class}.{name}",
                                    f"{ratio_of(value)} lies outside 0/1–1/1")
                )  # fmt: skip
        if low > high:
            found.append(
                PolicyViolation(
                    "min_above_max", risk_class, f"classes.{risk_class}.min_ratio",
                    f"class {risk_class}: min_ratio {rule.min_ratio} exceeds max_ratio "
                    f"{rule.max_ratio}",
                )
            )  # fmt: skip
        if not 0 <= rule.frequency_per_year <= FREQUENCY_MAX:
            found.append(
                PolicyViolation(
                    "frequency_out_of_range", risk_class,
                    f"classes.{risk_class}.frequency_per_year",
                    f"{rule.frequency_per_year}: between 0 and {FREQUENCY_MAX} batches a year",
                )
            )  # fmt: skip
    return found


def _order_violations(policy: Policy) -> list[PolicyViolation]:
    """A riskier class is never given less than the class just safer than it (R11)."""
    found = []
    for safer, riskier in pairwise(RISK_CLASSES):
        s, r = policy.rule(safer), policy.rule(riskier)
        for name, rule, lo, hi in (
            ("min_ratio", "riskier_class_min_below_safer", s.min_ratio, r.min_ratio),
            ("max_ratio", "riskier_class_max_below_safer", s.max_ratio, r.max_ratio),
        ):
            if share_of(hi) < share_of(lo):
                found.append(
                    PolicyViolation(
                        rule, riskier, f"classes.{riskier}.{name}",
                        f"class {riskier}'s {name} {hi} is below class {safer}'s {lo}: a "
                        "riskier class is never sampled at a lower ratio than a safer one",
                    )
                )  # fmt: skip
        if r.frequency_per_year < s.frequency_per_year:
            found.append(
                PolicyViolation(
                    "riskier_class_less_frequent", riskier,
                    f"classes.{riskier}.frequency_per_year",
                    f"class {riskier} is sampled {r.frequency_per_year} times a year, class "
                    f"{safer} {s.frequency_per_year}: a riskier class is never sampled less often",
                )
            )  # fmt: skip
    return found


# --- checking a batch against its policy ---------------------------------------------------


class BreachRule(StrEnum):
    ratio_below_policy_min = "ratio_below_policy_min"
    ratio_above_policy_max = "ratio_above_policy_max"
    riskier_class_sampled_less = "riskier_class_sampled_less"
    below_item_floor = "below_item_floor"
    count_below_policy_min = "count_below_policy_min"
    count_above_policy_max = "count_above_policy_max"
    count_below_item_floor = "count_below_item_floor"
    frequency_exceeded = "frequency_exceeded"


@dataclass(frozen=True)
class PolicyBreach:
    """One way a batch breaks its policy, with the numbers: `actual` is the batch's ratio
    (B.4) or sample count, `limit` the bound it crosses, in the same unit."""

    rule: BreachRule
    risk_class: str
    actual: str
    limit: str
    safer_class: str | None = None
    item_id: UUID | None = None
    population: int | None = None
    detail: str = field(default="", compare=False)


_RATIO_RULES = (
    BreachRule.ratio_below_policy_min,
    BreachRule.ratio_above_policy_max,
    BreachRule.below_item_floor,
)
_COUNT_RULES = (
    BreachRule.count_below_policy_min,
    BreachRule.count_above_policy_max,
    BreachRule.count_below_item_floor,
)


def _bound_breaches(
    policy: Policy,
    risk_class: str,
    item_min_ratios: Mapping[UUID, Ratio],
    taken: Fraction | int,
    measure: Callable[[Ratio], Fraction | int],
    population: int | None = None,
) -> list[PolicyBreach]:
    """What a class takes (`taken`, a share, or a count of `population`) against the policy's
    minimum and maximum and every item floor, each bound measured as `taken` is (a share, or
    the draw's own sample size of the stratum)."""
    rule = policy.rule(risk_class)
    below_min, above_max, below_floor = _RATIO_RULES if population is None else _COUNT_RULES
    bounds: list[tuple[BreachRule, Ratio, UUID | None, str]] = [
        (below_min, rule.min_ratio, None, "below the policy's minimum"),
        (above_max, rule.max_ratio, None, "above the policy's maximum"),
    ]
    bounds += [
        (below_floor, floor, item_id, f"below item {item_id}'s minimum ratio")
        for item_id, floor in sorted(item_min_ratios.items(), key=lambda kv: str(kv[0]))
    ]
    shown = str(ratio_of(Fraction(taken))) if population is None else str(taken)
    what = f"class {risk_class}: " + (f"ratio {shown}" if population is None else
                                      f"{taken} of {population}")  # fmt: skip
    found = []
    for breach_rule, bound, item_id, words in bounds:
        limit = measure(bound)
        if taken > limit if breach_rule is above_max else taken < limit:
            limit_shown = str(bound) if population is None else str(limit)
            taking = "" if population is None else f", which takes {limit}"
            found.append(
                PolicyBreach(
                    breach_rule, risk_class, shown, limit_shown, item_id=item_id,
                    population=population, detail=f"{what} is {words} {bound}{taking}",
                )
            )  # fmt: skip
    return found


def _ratio_breaches(
    policy: Policy, risk_class: str, ratio: Ratio, item_min_ratios: Mapping[UUID, Ratio]
) -> list[PolicyBreach]:
    return _bound_breaches(policy, risk_class, item_min_ratios, share_of(ratio), share_of)


def _riskier_sampled_less(shares: Mapping[str, tuple[Fraction, str]]) -> list[PolicyBreach]:
    """Each class sampled at a smaller share than some safer class (the largest such one is
    named). `shares`: the classes the batch samples, with their share and how it reads."""
    found = []
    safest_highest: tuple[str, Fraction, str] | None = None
    for risk_class in RISK_CLASSES:
        if risk_class not in shares:
            continue
        value, shown = shares[risk_class]
        if safest_highest is not None and value < safest_highest[1]:
            safer, _, safer_shown = safest_highest
            found.append(
                PolicyBreach(
                    BreachRule.riskier_class_sampled_less, risk_class, shown, safer_shown,
                    safer_class=safer,
                    detail=f"class {risk_class} is sampled at {shown}, below safer class "
                    f"{safer}'s {safer_shown}",
                )
            )  # fmt: skip
        if safest_highest is None or value > safest_highest[1]:
            safest_highest = (risk_class, value, shown)
    return found


def check_batch_ratios(
    policy: Policy,
    ratios_per_class: Mapping[str, Ratio],
    item_min_ratios: Mapping[UUID, Ratio],
) -> list[PolicyBreach]:
    """Every breach of a batch that samples each class in `ratios_per_class` at that ratio.

    A class the batch leaves out of its scope is not checked. `item_min_ratios`: the items of
    the batch that set a `min_ratio`, with it (the item floor applies to every class)."""
    found: list[PolicyBreach] = []
    for risk_class in RISK_CLASSES:
        if risk_class in ratios_per_class:
            found += _ratio_breaches(
                policy, risk_class, ratios_per_class[risk_class], item_min_ratios
            )
    shares = {c: (share_of(r), str(r)) for c, r in ratios_per_class.items() if c in RISK_CLASSES}
    return found + _riskier_sampled_less(shares)


def _count_breaches(
    policy: Policy,
    risk_class: str,
    count: int,
    population: int,
    item_min_ratios: Mapping[UUID, Ratio],
) -> list[PolicyBreach]:
    """A fixed count against what the policy's ratios would take from `population` by the
    draw's own rule (R12, ceil): at least the minimum's sample, at most the maximum's."""
    taken = min(population, count)
    return _bound_breaches(
        policy, risk_class, item_min_ratios, taken,
        lambda bound: sample_size(population, bound), population,
    )  # fmt: skip


def check_batch_quantities(
    policy: Policy,
    quantities_per_class: Mapping[str, Ratio | int],
    stratum_sizes: Mapping[str, int],
    item_min_ratios: Mapping[UUID, Ratio],
) -> list[PolicyBreach]:
    """As `check_batch_ratios`, for a batch that may give a class a fixed count, now that the
    population of each stratum is known (`stratum_sizes`, the unclassified already counted in
    the class they are drawn as). A count is judged by what it takes of its stratum; an empty
    stratum takes nothing whatever the count, so it breaks nothing. Ratios are judged as in
    `check_batch_ratios`."""
    found: list[PolicyBreach] = []
    shares: dict[str, tuple[Fraction, str]] = {}
    for risk_class in RISK_CLASSES:
        if risk_class not in quantities_per_class:
            continue
        quantity = quantities_per_class[risk_class]
        if isinstance(quantity, Ratio):
            found += _ratio_breaches(policy, risk_class, quantity, item_min_ratios)
            shares[risk_class] = (share_of(quantity), str(quantity))
            continue
        population = stratum_sizes.get(risk_class, 0)
        if population == 0:
            continue
        taken = min(population, quantity)
        found += _count_breaches(policy, risk_class, quantity, population, item_min_ratios)
        shares[risk_class] = (Fraction(taken, population), f"{taken}/{population}")
    return found + _riskier_sampled_less(shares)


def check_frequency(
    policy: Policy, risk_class: str, batches_already_this_year: int
) -> PolicyBreach | None:
    """Whether one more batch sampling `risk_class` for the same item this year would exceed
    the policy's `frequency_per_year` (None: it may be planned)."""
    allowed = policy.rule(risk_class).frequency_per_year
    planned = batches_already_this_year + 1
    if planned <= allowed:
        return None
    return PolicyBreach(
        BreachRule.frequency_exceeded, risk_class, str(planned), str(allowed),
        detail=f"class {risk_class} would be sampled in {planned} batches this year; the "
        f"policy allows {allowed}",
    )  # fmt: skip
