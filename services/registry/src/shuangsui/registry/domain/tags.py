"""Automatic subject tags (业态 / 品类 / 载体 / 规模) from rules that administrators edit.

A tag is written `dimension:value`, e.g. `format:餐饮服务`, so a subject's tags are one flat,
sorted tuple that a database array can index. A rule gives one tag to every subject that meets
all of its conditions; each condition that lists values holds when any of them matches. Several
rules may tag the same dimension: a subject that sells food and runs a restaurant carries both
formats. DOMAIN.md R2 and §3.1 (Subject.tags).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from shuangsui.registry.domain.subjects import SubjectType

MAX_RULES = 500
MAX_TAG_LENGTH = 40


class TagDimension(StrEnum):
    business_format = "format"  # 业态 (named so as not to hide str.format)
    category = "category"  # 品类
    carrier = "carrier"  # 载体
    scale = "scale"  # 规模


DIMENSION_LABELS = {
    TagDimension.business_format: "业态",
    TagDimension.category: "品类",
    TagDimension.carrier: "载体",
    TagDimension.scale: "规模",
}


# Plain tuples: iterating the enum class costs more than the grouping itself on the push path.
_DIMENSION_ORDER = tuple(d.value for d in TagDimension)
_DIMENSIONS = frozenset(_DIMENSION_ORDER)


class Taggable(Protocol):
    @property
    def uscc(self) -> str: ...
    @property
    def subject_type(self) -> str: ...
    @property
    def industry_code(self) -> str | None: ...
    @property
    def licences(self) -> Iterable[Mapping[str, Any]]: ...
    @property
    def business_scope(self) -> str | None: ...
    @property
    def online_shops(self) -> Sequence[str]: ...
    @property
    def registered_capital_wan(self) -> Decimal | None: ...
    @property
    def employee_band(self) -> str | None: ...


@dataclass(frozen=True)
class TagInput:
    """What of a subject the rules may look at (from a push, or from a stored row)."""

    subject_type: str
    industry_code: str | None
    licence_types: frozenset[str]
    business_scope: str | None
    has_online_shop: bool
    capital_wan: Decimal | None
    employee_band: str | None
    # Not for the rules: it finds the subject's approved tag correction (标签纠正), if any.
    uscc: str = ""

    @classmethod
    def of(cls, subject: Taggable) -> TagInput:
        """From a pushed subject or a stored row: both carry these fields by these names."""
        return cls(
            subject_type=str(subject.subject_type),
            industry_code=subject.industry_code,
            licence_types=licence_types(subject.licences),
            business_scope=subject.business_scope,
            has_online_shop=bool(subject.online_shops),
            capital_wan=subject.registered_capital_wan,
            employee_band=subject.employee_band,
            uscc=subject.uscc,
        )


def licence_types(licences: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    return frozenset(str(licence.get("type")) for licence in licences if licence.get("type"))


@dataclass(frozen=True)
class Condition:
    """Every part that is given must hold; a part listing several values holds if any does."""

    industry_code_prefixes: tuple[str, ...] = ()  # GB/T 4754, e.g. H62 for 餐饮业
    licence_types: tuple[str, ...] = ()
    scope_keywords: tuple[str, ...] = ()  # words found in the business scope (经营范围)
    subject_types: tuple[SubjectType, ...] = ()
    has_online_shop: bool | None = None
    capital_wan_min: Decimal | None = None  # inclusive
    capital_wan_max: Decimal | None = None  # exclusive
    employee_bands: tuple[str, ...] = ()
    _tests: tuple[Callable[[TagInput], bool], ...] = field(
        default=(), init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # Only the parts the rule gives are tested: a push asks every rule about every row.
        object.__setattr__(self, "_tests", tuple(self._tests_given()))

    def is_empty(self) -> bool:
        return self == Condition()

    def holds(self, subject: TagInput) -> bool:
        for test in self._tests:  # noqa: SIM110 - a plain loop: all(generator) costs more per row
            if not test(subject):
                return False
        return True

    def _tests_given(self) -> Iterator[Callable[[TagInput], bool]]:
        if self.industry_code_prefixes:
            prefixes = self.industry_code_prefixes
            yield lambda s: (s.industry_code or "").startswith(prefixes)
        if self.licence_types:
            licence_types = frozenset(self.licence_types)
            yield lambda s: not s.licence_types.isdisjoint(licence_types)
        if self.scope_keywords:
            words = self.scope_keywords
            yield lambda s: any(word in (s.business_scope or "") for word in words)
        if self.subject_types:
            subject_types = frozenset(self.subject_types)
            yield lambda s: s.subject_type in subject_types
        if self.has_online_shop is not None:
            online = self.has_online_shop
            yield lambda s: s.has_online_shop is online
        if self.capital_wan_min is not None or self.capital_wan_max is not None:
            yield lambda s: self._capital_holds(s.capital_wan)
        if self.employee_bands:
            bands = frozenset(self.employee_bands)
            yield lambda s: s.employee_band in bands

    def _capital_holds(self, capital: Decimal | None) -> bool:
        if capital is None:
            return False
        return (self.capital_wan_min is None or capital >= self.capital_wan_min) and (
            self.capital_wan_max is None or capital < self.capital_wan_max
        )


@dataclass(frozen=True)
class TagRule:
    dimension: TagDimension
    value: str  # e.g. 餐饮服务
    when: Condition
    note: str = ""

    @property
    def tag(self) -> str:
        return f"{self.dimension.value}:{self.value}"


@dataclass(frozen=True)
class RuleProblem:
    index: int
    field: str
    reason: str


@dataclass(frozen=True)
class TagRules:
    """One version of a province's rules. Version 0 is the empty set before any is saved."""

    version: int
    rules: tuple[TagRule, ...] = field(default_factory=tuple)

    def tags_of(self, subject: TagInput) -> tuple[str, ...]:
        return tuple(sorted({rule.tag for rule in self.rules if rule.when.holds(subject)}))


def rule_problems(rules: Sequence[TagRule]) -> list[RuleProblem]:
    """Why a proposed rule set cannot be saved; empty when it can."""
    problems: list[RuleProblem] = []
    if len(rules) > MAX_RULES:
        problems.append(RuleProblem(MAX_RULES, "rules", f"at most {MAX_RULES} rules"))
    for index, rule in enumerate(rules):
        value = rule.value.strip()
        if not value or value != rule.value or len(value) > MAX_TAG_LENGTH or ":" in value:
            problems.append(
                RuleProblem(
                    index,
                    "value",
                    f"1–{MAX_TAG_LENGTH} characters, no ':' and no surrounding spaces",
                )
            )
        if rule.when.is_empty():
            problems.append(
                RuleProblem(index, "when", "at least one condition (a rule may not tag everyone)")
            )
        low, high = rule.when.capital_wan_min, rule.when.capital_wan_max
        if low is not None and high is not None and low >= high:
            problems.append(
                RuleProblem(index, "when.capital_wan_max", "must be above capital_wan_min")
            )
        if any(not prefix.strip() for prefix in rule.when.industry_code_prefixes):
            problems.append(RuleProblem(index, "when.industry_code_prefixes", "empty prefix"))
        if any(not word.strip() for word in rule.when.scope_keywords):
            problems.append(RuleProblem(index, "when.scope_keywords", "empty keyword"))
    return problems


def tags_by_dimension(tags: Iterable[str]) -> dict[str, list[str]]:
    """`format:餐饮服务` … → {"format": ["餐饮服务"], "category": [], …} for people to read."""
    grouped: dict[str, list[str]] = {d: [] for d in _DIMENSION_ORDER}
    for tag in tags:
        dimension, _, value = tag.partition(":")
        grouped.setdefault(dimension, []).append(value)
    return grouped


def parse_tag(text: str) -> str | None:
    """A tag filter as users write it (`format:餐饮服务`), or None if it names no dimension."""
    dimension, colon, value = text.partition(":")
    if not colon or not value or dimension not in _DIMENSIONS:
        return None
    return f"{dimension}:{value}"


def rule_to_json(rule: TagRule) -> dict[str, Any]:
    """A rule as stored and shown: only the conditions that are set."""
    when: dict[str, Any] = {}
    c = rule.when
    for name in ("industry_code_prefixes", "licence_types", "scope_keywords", "employee_bands"):
        if getattr(c, name):
            when[name] = list(getattr(c, name))
    if c.subject_types:
        when["subject_types"] = [t.value for t in c.subject_types]
    if c.has_online_shop is not None:
        when["has_online_shop"] = c.has_online_shop
    for name in ("capital_wan_min", "capital_wan_max"):
        if getattr(c, name) is not None:
            when[name] = str(getattr(c, name))
    return {"dimension": rule.dimension.value, "value": rule.value, "when": when, "note": rule.note}


def rule_from_json(data: Mapping[str, Any]) -> TagRule:
    when = data.get("when") or {}

    def decimal(name: str) -> Decimal | None:
        value = when.get(name)
        return None if value is None else Decimal(str(value))

    return TagRule(
        dimension=TagDimension(data["dimension"]),
        value=str(data["value"]),
        note=str(data.get("note") or ""),
        when=Condition(
            industry_code_prefixes=tuple(when.get("industry_code_prefixes", ())),
            licence_types=tuple(when.get("licence_types", ())),
            scope_keywords=tuple(when.get("scope_keywords", ())),
            subject_types=tuple(SubjectType(t) for t in when.get("subject_types", ())),
            has_online_shop=when.get("has_online_shop"),
            capital_wan_min=decimal("capital_wan_min"),
            capital_wan_max=decimal("capital_wan_max"),
            employee_bands=tuple(when.get("employee_bands", ())),
        ),
    )


def rules_from_json(version: int, rules: Iterable[Mapping[str, Any]]) -> TagRules:
    return TagRules(version=version, rules=tuple(rule_from_json(r) for r in rules))
