"""The catalogue planning validates against (抽查事项清单 and 组织机构), as the registry's events
told it: which list version is in force for a plan, what its items allow, and who an org's
superior is. Pure: the rows come in, the answers go out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Literal
from uuid import UUID

from shuangsui.contracts.regions import InvalidRegionCode, contains, province_region
from shuangsui.drawspec.model import Ratio
from shuangsui.planning.domain.population import parse_ratio

PlanLevel = Literal["national", "provincial", "city", "county"]
ListLevel = Literal["national", "provincial"]


@dataclass(frozen=True)
class ListVersion:
    """A published version of an item list (清单版本), as `registry.item_list.published.v1`
    announced it."""

    list_id: UUID
    level: ListLevel
    province: str | None  # `330000`; None for the national list
    version: int
    effective_from: date


def province_code(region: str | None) -> str | None:
    """The `XX0000` code lists name their province by, from the province's 2 digits (a token's
    `province`) or any region code inside it (an org's `region_code`); None stays national."""
    if region is None:
        return None
    return f"{region}0000" if len(region) == 2 else province_region(region)


def list_level_of(plan_level: PlanLevel) -> ListLevel:
    """A national plan works from the national list; every other tier from its province's."""
    return "national" if plan_level == "national" else "provincial"


def version_in_force(versions: Iterable[ListVersion], on: date) -> ListVersion | None:
    """The version of one list (one level, one province) in force on `on`: the one with the
    latest `effective_from` on or before that day. It stays in force until the next one's
    `effective_from`. On equal dates the higher version wins (the registry refuses such a pair;
    a read model must still answer one way whatever order the events came in)."""
    started = [v for v in versions if v.effective_from <= on]
    return max(started, key=lambda v: (v.effective_from, v.version), default=None)


def list_in_force(
    versions: Iterable[ListVersion], province: str | None, plan_level: PlanLevel, on: date
) -> ListVersion | None:
    """The list version a plan of `plan_level` in `province` works from on `on` (`330000`, its
    2 digits or any region code inside it).

    A national plan (or one without a province) uses the national list. A province applies its
    own list once a version of it is in force, and the national list until then (R1: the
    provincial list is the national list plus the province's items), as the registry does.
    """
    known = list(versions)
    province = province_code(province)
    national = version_in_force((v for v in known if v.level == "national"), on)
    if list_level_of(plan_level) == "national" or province is None:
        return national
    own = version_in_force(
        (v for v in known if v.level == "provincial" and v.province == province), on
    )
    return own if own is not None else national


@dataclass(frozen=True)
class ItemInForce:
    """A check item (抽查事项) of the list version in force: what a batch is validated against
    (R1, R8, R11, R17, R20)."""

    item_id: UUID
    list_id: UUID
    list_level: ListLevel
    list_version: int
    origin: Literal["national", "provincial"]
    code: str
    name: str
    business_line: str
    item_category: Literal["general", "key"]
    allowed_methods: tuple[str, ...]
    subject_types: tuple[str, ...]
    subject_tags: tuple[str, ...]
    required_qualification: str | None
    min_ratio: Ratio | None
    lead_department: str | None
    partner_departments: tuple[str, ...]
    joint: bool
    inspection_level: PlanLevel | None
    version: int

    @property
    def is_key(self) -> bool:
        return self.item_category == "key"


ACTIVE = "active"


def is_in_force(status: str) -> bool:
    """A withdrawn item is kept in its version for the record, but nothing may be planned on it."""
    return status == ACTIVE


def ratio_of_share(share: float) -> Ratio:
    """The item's `min_ratio` as the event carries it (a decimal such as 0.03) as the reduced
    fraction the draw writes (`3/100`). The event's decimal is read as written, not as the
    nearest binary float (0.1 is 1/10, not 3602879701896397/36028797018963968)."""
    exact = Fraction(repr(share))
    return parse_ratio(f"{exact.numerator}/{exact.denominator}")


OrgLevel = Literal["national", "provincial", "city", "county", "station"]


@dataclass(frozen=True)
class CatalogueOrg:
    """An org (组织机构) as the latest `registry.org.upserted.v1` described it."""

    org_id: UUID
    code: str
    name: str
    level: OrgLevel
    region_code: str
    parent_org_id: UUID | None
    parent_code: str | None
    department_type: str
    is_hq: bool
    status: Literal["active", "closed"]
    version: int


def superior_of(org: CatalogueOrg, orgs: Mapping[UUID, CatalogueOrg]) -> CatalogueOrg | None:
    """The org a plan is filed with (备案): the parent — for a station its county bureau, which
    the registry makes every station's parent. None for a root, or while the parent's own event
    has not arrived."""
    if org.parent_org_id is None:
        return None
    return orgs.get(org.parent_org_id)


def within_jurisdiction(org: CatalogueOrg, region_code: str) -> bool:
    """Whether `region_code` lies in the org's jurisdiction: a province's org covers the codes
    that start with its 2 digits, a city's its 4, a county's (and its stations') the county.
    A national org's seat is one province, yet its jurisdiction is the whole country. An
    unknown code lies in no jurisdiction."""
    if org.level == "national":
        return True
    try:
        return contains(org.region_code, region_code)
    except InvalidRegionCode:
        return False
