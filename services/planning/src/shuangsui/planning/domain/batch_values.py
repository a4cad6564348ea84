"""The vocabulary of batches (抽查批次): what a department drafts, the facts a draft is checked
against, and what a check answers (DOMAIN §3.2, R8–R18, R20; DRAW_SPEC Appendix B).

Plain values, no rules: the rules are in `batch_rules`, the entry points in `batches`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Literal, get_args
from uuid import UUID

from shuangsui.contracts.codes import CodeFormat, IndustryCode, Tag, UnitCode
from shuangsui.contracts.regions import scope_prefix
from shuangsui.drawspec.model import Ratio, StratumRule

NAME_MAX = 200
CLUE_REF_MAX = 64
NOTE_MAX = 100
TEAM_SIZE_MAX = 1000  # IDS-1 §4.1: a team's size is 1..1000
COUNT_MAX = 2**53 - 1  # IDS-1 §2.9: integers a JSON reader keeps exactly
RISK_DOMAIN = re.compile(r"^[a-z][a-z_]{0,39}$")  # as the registry's classification push has it


def _pattern_of(code: object) -> re.Pattern[str]:
    """The pattern of a `contracts.codes` type, so the domain checks what the API and the events
    accept, never a copy of it."""
    fmt = get_args(code)[1]
    assert isinstance(fmt, CodeFormat)
    return re.compile(fmt.pattern)


TAG = _pattern_of(Tag)
INDUSTRY_CODE = _pattern_of(IndustryCode)
UNIT_CODE = _pattern_of(UnitCode)
RiskClass = Literal["A", "B", "C", "D"]


class Origin(StrEnum):
    random = "random"  # 双随机 (R9: the default for routine inspections)
    key_supervision = "key_supervision"  # 重点监管 (R13)
    clue_targeted = "clue_targeted"  # 根据线索 (targeted by a specific lead)


class DrawMode(StrEnum):
    undirected = "undirected"  # 不定向抽查: every subject the items apply to
    directed = "directed"  # 定向抽查: narrowed by type, scale, industry, tags or risk class


class Method(StrEnum):
    on_site = "on_site"  # 现场检查
    documentary = "documentary"  # 书面检查
    online = "online"  # 网络检查
    entrusted = "entrusted"  # 委托专业机构


class SelectionMode(StrEnum):
    bureau_wide = "bureau_wide"  # 全局内随机
    hq_and_stations = "hq_and_stations"  # 局机关与所随机
    station_group = "station_group"  # 若干所内随机
    single_station = "single_station"  # 单一所内随机


class JointKind(StrEnum):
    none = "none"
    internal = "internal"  # 内部综合 (R10)
    cross_department = "cross_department"  # 跨部门联合检查 (R20)


class ExclusionReason(StrEnum):
    """DRAW_SPEC B.7: the only reasons an exclusion list may give."""

    INSPECTED_RECENTLY = "INSPECTED_RECENTLY"
    REGISTERED_RECENTLY = "REGISTERED_RECENTLY"
    UNDER_INVESTIGATION = "UNDER_INVESTIGATION"
    DEREGISTERED = "DEREGISTERED"
    KEY_SUPERVISION_SEPARATE = "KEY_SUPERVISION_SEPARATE"
    OTHER_WITH_NOTE = "OTHER_WITH_NOTE"


MONTHS_REASONS = frozenset(
    {ExclusionReason.INSPECTED_RECENTLY, ExclusionReason.REGISTERED_RECENTLY}
)


# ---- facts from elsewhere ------------------------------------------------------------------


@dataclass(frozen=True)
class ItemFacts:
    """An item in force in the plan's list (the catalogue read model), as far as a batch needs it.

    `department_type` is the department that carries the check out, in the orgs' vocabulary; None
    when the catalogue cannot tell, and then the item counts as the list owner's, the lead's.
    """

    item_id: UUID
    list_id: UUID
    version: int
    code: str
    name: str
    item_category: Literal["general", "key"]
    allowed_methods: frozenset[Method]
    subject_types: tuple[str, ...]
    subject_tags: tuple[str, ...] = ()
    required_qualification: str | None = None
    min_ratio: Ratio | None = None
    department_type: str | None = None
    in_force: bool = True


def department_of(item: ItemFacts, lead: OrgFacts) -> str:
    """The department type whose officers check the item in this batch."""
    return item.department_type or lead.department_type


@dataclass(frozen=True)
class PlanFacts:
    plan_id: UUID
    org_id: UUID
    year: int


@dataclass(frozen=True)
class OrgFacts:
    """An org as the catalogue knows it. `station_codes` are the public codes of the stations
    (所) beneath it, the only ones a station group may name."""

    org_id: UUID
    code: str
    level: Literal["national", "provincial", "city", "county", "station"]
    region_code: str
    department_type: str
    active: bool = True
    station_codes: frozenset[str] = frozenset()

    @property
    def jurisdiction_prefix(self) -> str:
        """The digits every region code of the jurisdiction starts with; "" for national."""
        if self.level == "national":
            return ""
        return scope_prefix(self.region_code)


@dataclass(frozen=True)
class BatchRules:
    """The configurable numbers (R18 per method, the bounds of offsets and periods)."""

    min_team_size: Mapping[Method, int] = field(
        default_factory=lambda: {m: 2 for m in Method}
    )  # R18, Q8: two officers for every method
    max_entry_offset_workdays: int = 60
    max_exclusion_months: int = 120


# ---- the draft --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Where and whom a batch draws from. `region_codes` is the batch's area (R8); the other
    fields narrow the population and are a directed draw's conditions (R15)."""

    region_codes: tuple[str, ...]
    subject_types: tuple[str, ...] = ()
    tag_filters: tuple[str, ...] = ()  # within a dimension any, every dimension named must match
    industry_codes: tuple[str, ...] = ()  # GB/T 4754 codes, each selecting every code below it
    risk_classes: tuple[str, ...] = ()  # empty: every class A–D

    @property
    def conditions(self) -> dict[str, tuple[str, ...]]:
        return {
            "subject_types": self.subject_types,
            "tag_filters": self.tag_filters,
            "industry_codes": self.industry_codes,
            "risk_classes": self.risk_classes,
        }

    @property
    def drawn_classes(self) -> tuple[RiskClass, ...]:
        """The strata the draw makes: the classes named, or all four (a name that is no class
        is a breach of its own, and names nothing here)."""
        named = set(self.risk_classes) & set(_CLASSES)
        return tuple(c for c in _CLASSES if not named or c in named)


_CLASSES: tuple[RiskClass, ...] = ("A", "B", "C", "D")  # RISK_CLASSES, typed


@dataclass(frozen=True)
class WindowEnd:
    """Q10 default: results are due by the batch's window end (R26)."""

    kind: Literal["window_end"] = "window_end"


@dataclass(frozen=True)
class WorkdaysAfterWindowEnd:
    """R26: the window end plus an offset in working days."""

    workdays: int
    kind: Literal["workdays_after_window_end"] = "workdays_after_window_end"


@dataclass(frozen=True)
class WorkdaysAfterTaskStart:
    """N working days after the task's initiation (启动) is recorded."""

    workdays: int
    kind: Literal["workdays_after_task_start"] = "workdays_after_task_start"


EntryDeadlineRule = WindowEnd | WorkdaysAfterWindowEnd | WorkdaysAfterTaskStart


@dataclass(frozen=True)
class ExclusionRule:
    """One reason the department removes subjects before the manifest is built (B.7)."""

    reason: ExclusionReason
    months: int | None = None  # the configured period of INSPECTED_/REGISTERED_RECENTLY
    note: str | None = None  # the public note of OTHER_WITH_NOTE

    @property
    def committed_reason(self) -> str:
        """The `reason` string the exclusion list commits (B.7)."""
        if self.reason is ExclusionReason.OTHER_WITH_NOTE:
            return f"{self.reason.value}:{self.note}"
        return self.reason.value


Quantity = Mapping[str, str | int]  # per risk class: a ratio as written ("3%", "1/40") or a count


@dataclass(frozen=True)
class BatchDraft:
    """What the department writes (R8, DOMAIN §3.2)."""

    name: str
    item_ids: tuple[UUID, ...]
    scope: Scope
    quantity: Quantity
    window_start: date
    window_end: date
    methods: tuple[Method, ...]
    selection_mode: SelectionMode
    origin: Origin = Origin.random
    key_supervision_item_id: UUID | None = None
    clue_ref: str | None = None
    draw_mode: DrawMode = DrawMode.undirected
    station_group: tuple[str, ...] = ()
    team_size: int = 2
    entry_deadline_rule: EntryDeadlineRule = WindowEnd()
    exclusion_policy: tuple[ExclusionRule, ...] = ()
    joint_kind: JointKind = JointKind.none
    participant_org_ids: tuple[UUID, ...] = ()
    risk_domain: str = "general"  # the classification the strata refer to (B.2)


# ---- breaches ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemGroup:
    """One batch of a proposed split: the items that need one lead qualification."""

    lead_qualification: str
    item_ids: tuple[UUID, ...]


@dataclass(frozen=True)
class Breach:
    """A broken rule: `rule` is stable (docs/planning.md lists them), `field` the input's path."""

    rule: str
    field: str
    reason: str
    proposed_split: tuple[ItemGroup, ...] = ()


class BatchRefused(ValueError):
    def __init__(self, breaches: Sequence[Breach]) -> None:
        self.breaches = tuple(breaches)
        super().__init__("; ".join(f"{b.field}: {b.reason} ({b.rule})" for b in self.breaches))


@dataclass(frozen=True)
class ValidBatch:
    """A draft that keeps every rule, with what the draw derives from it."""

    draft: BatchDraft
    plan: PlanFacts
    lead: OrgFacts
    items: tuple[ItemFacts, ...]  # in the draft's order
    participants: tuple[OrgFacts, ...]
    strata: tuple[StratumRule, ...]  # by class, in byte order (B.2)
    # B.5 per department taking part (B.11: each makes its own team phase); the lead's is
    # `lead_expertise`.
    expertise: Mapping[str, str | None]

    @property
    def lead_expertise(self) -> str | None:
        return self.expertise[self.lead.department_type]
