"""Org directory (组织机构): the bureaus and stations that supervise, inspect and are drawn from.

Pure rules (DOMAIN.md §3.1): an org's fields, where it may sit in the hierarchy (bureau →
stations, HQ vs station, which sampling's selection modes rely on), and the planning of an
import whose rows may name parents that appear earlier or later in the same file.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from uuid import UUID

from shuangsui.contracts.batches import ChangeKind, RowError
from shuangsui.contracts.regions import InvalidRegionCode, RegionLevel, contains, region_info
from shuangsui.registry.domain.inspectors import (
    MARKET_SUPERVISION,
    InvalidField,
    clean_code,
    clean_department_type,
    clean_name,
)
from shuangsui.registry.domain.sheets import Cleaners, Sheet, clean_cells, parse_rows


class OrgLevel(StrEnum):
    """From the top down; a parent is always of a higher level than its child."""

    national = "national"
    provincial = "provincial"
    city = "city"
    county = "county"
    station = "station"

    @property
    def rank(self) -> int:
        return list(OrgLevel).index(self)


class OrgStatus(StrEnum):
    active = "active"
    closed = "closed"


@dataclass(frozen=True)
class OrgRecord:
    """What an office states about an org: an import row or the body of a PUT."""

    code: str  # the public unit code (单位编码) subjects and inspectors refer to
    name: str
    level: OrgLevel
    region_code: str
    parent_code: str | None = None
    department_type: str = MARKET_SUPERVISION
    is_hq: bool = False  # the bureau's head office (局机关), drawn with its stations
    status: OrgStatus = OrgStatus.active


@dataclass(frozen=True)
class Org:
    org_id: UUID
    record: OrgRecord
    version: int = 1


@dataclass(frozen=True)
class UnitUsage:
    """A unit code that subjects or officers name and the org directory of their province lacks:
    what an office fixes, by loading the org or correcting the rows that name it."""

    code: str
    subjects: int  # subjects whose unit_code it is
    inspectors: int  # officers whose unit_code or station_code it is


# A national org sits in the province of its seat (SAMR: 110000). A county bureau of a
# development zone often has no division code of its own and uses its city's.
_REGION_LEVELS: dict[OrgLevel, frozenset[RegionLevel]] = {
    OrgLevel.national: frozenset({"province"}),
    OrgLevel.provincial: frozenset({"province"}),
    OrgLevel.city: frozenset({"city"}),
    OrgLevel.county: frozenset({"county", "city"}),
    OrgLevel.station: frozenset({"county", "city"}),
}

# --- field rules --------------------------------------------------------------------------------

_CODE = re.compile(r"^[0-9A-Za-z_\-]{1,32}$")
_CODE_RULE = "1–32 letters, digits, '-' or '_'"
_NAME_MAX = 100
_LEVEL_LABELS = {
    "国家级": OrgLevel.national, "省级": OrgLevel.provincial, "市级": OrgLevel.city,
    "县级": OrgLevel.county, "所": OrgLevel.station, "市场监管所": OrgLevel.station,
}  # fmt: skip
_YES = frozenset({"true", "1", "yes", "y", "是"})
_NO = frozenset({"", "false", "0", "no", "n", "否"})


def clean_unit_code(value: str, *, required: bool = True) -> str | None:
    return clean_code(value, required=required, pattern=_CODE, rule=_CODE_RULE)


def clean_level(value: str) -> OrgLevel:
    value = value.strip()
    if value in _LEVEL_LABELS:
        return _LEVEL_LABELS[value]
    try:
        return OrgLevel(value.lower())
    except ValueError:
        allowed = ", ".join(level.value for level in OrgLevel)
        raise InvalidField(f"{value!r} is not one of {allowed}") from None


def clean_region(value: str) -> str:
    """A code the dataset knows; whether it must be in force depends on the stored org."""
    value = value.strip()
    if not value:
        raise InvalidField("required")
    try:
        return region_info(value).code
    except InvalidRegionCode as exc:
        raise InvalidField(exc.detail) from None


def clean_flag(value: str) -> bool:
    value = value.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise InvalidField(f"{value!r} is not true/false (是/否)")


def clean_status(value: str) -> OrgStatus:
    value = value.strip() or OrgStatus.active.value
    try:
        return OrgStatus(value)
    except ValueError:
        raise InvalidField(f"{value!r} is not one of active, closed") from None


# --- sheet rows ---------------------------------------------------------------------------------

# column → Chinese headings offices use for it
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("机构编码", "单位编码", "单位代码"),
    "name": ("机构名称", "单位名称", "名称"),
    "level": ("层级", "机构层级"),
    "region_code": ("行政区划代码", "区划代码"),
    "parent_code": ("上级机构编码", "上级单位编码"),
    "department_type": ("部门类型",),
    "is_hq": ("局机关", "是否局机关"),
    "status": ("状态",),
}
REQUIRED_COLUMNS = ("code", "name", "level", "region_code")

_CLEANERS: Cleaners = {
    "code": clean_unit_code,
    "name": lambda v: clean_name(v, _NAME_MAX),
    "level": clean_level,
    "region_code": clean_region,
    "parent_code": lambda v: clean_unit_code(v, required=False),
    "department_type": clean_department_type,
    "is_hq": clean_flag,
    "status": clean_status,
}


def read_record(cells: Mapping[str, str], line: int) -> tuple[OrgRecord | None, list[RowError]]:
    """One row's record, or every field error it has (all at once, so one round trip fixes all)."""
    values, errors = clean_cells(cells, line, _CLEANERS)
    if errors:
        return None, errors
    return OrgRecord(**values), []


def parse_sheet(sheet: Sheet) -> tuple[list[tuple[int, OrgRecord]], list[RowError]]:
    """Valid rows with their lines, and the errors of the others; a code repeated in one file
    rejects the later rows."""
    return parse_rows(
        sheet, COLUMNS, REQUIRED_COLUMNS, read_record, key="code", unique=[("code", "unit code")]
    )


# --- planning -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgChange:
    line: int
    kind: ChangeKind
    org: Org  # the state after the change
    parent_org_id: UUID | None

    @property
    def applies(self) -> bool:
        return self.kind.applies


def plan_orgs(
    rows: Sequence[tuple[int, OrgRecord]],
    stored: Mapping[str, Org],
    region_prefix: str,
    new_id: Callable[[], UUID] = uuid.uuid4,
) -> tuple[list[OrgChange], list[RowError]]:
    """Decide per row whether it creates, updates or leaves an org unchanged.

    `stored` holds the orgs the rows name, their ancestors and their direct children. Rows are
    judged against the directory as it would be after the batch, so a parent may come later in
    the file. A rejected row falls back to its stored state (or absence), which may in turn
    reject rows that relied on it; that repeats until every remaining row fits.
    """
    errors: list[RowError] = []
    candidates: dict[str, tuple[int, Org]] = {}
    for line, record in rows:
        current = stored.get(record.code)
        problem = _own_problem(record, current, region_prefix)
        if problem is not None:
            errors.append(RowError(line, *problem, key=record.code))
            continue
        if current is None:
            org = Org(new_id(), record)
        elif current.record == record:
            org = current
        else:
            org = replace(current, record=record, version=current.version + 1)
        candidates[record.code] = (line, org)
    while True:
        view = {code: o.record for code, o in stored.items()}
        view.update({code: o.record for code, (_, o) in candidates.items()})
        children: dict[str, list[str]] = defaultdict(list)
        for code, record in view.items():
            if record.parent_code is not None:
                children[record.parent_code].append(code)
        failed = {
            code: RowError(line, *problem, key=code)
            for code, (line, org) in candidates.items()
            if (problem := _place_problem(org.record, view, children[code], candidates))
        }
        if not failed:
            break
        errors += failed.values()
        for code in failed:
            del candidates[code]
    ids = {code: o.org_id for code, o in stored.items()}
    ids.update({code: o.org_id for code, (_, o) in candidates.items()})
    changes = [
        OrgChange(line, _kind(stored.get(code), org), org, ids.get(org.record.parent_code or ""))
        for code, (line, org) in candidates.items()
    ]
    return sorted(changes, key=lambda c: c.line), sorted(errors, key=lambda e: (e.line, e.field))


def _kind(current: Org | None, org: Org) -> ChangeKind:
    if current is None:
        return ChangeKind.created
    return ChangeKind.unchanged if current == org else ChangeKind.updated


def _own_problem(
    record: OrgRecord, current: Org | None, region_prefix: str
) -> tuple[str, str] | None:
    """What is wrong with the row on its own, or with who sends it."""
    if current is not None and not current.record.region_code.startswith(region_prefix):
        return "code", "registered to an org outside your region"
    if not record.region_code.startswith(region_prefix):
        return "region_code", f"{record.region_code} is outside your region ({region_prefix}*)"
    region = region_info(record.region_code)
    moved = current is None or current.record.region_code != record.region_code
    # An org keeps a code abolished after it was registered; a new jurisdiction must be current.
    if moved and not region.in_force:
        return "region_code", (
            f"{region.name} was abolished in {region.abolished_in}; "
            "use the code of the division that replaced it"
        )
    if region.level not in _REGION_LEVELS[record.level]:
        expected = " or ".join(sorted(_REGION_LEVELS[record.level]))
        return "region_code", (
            f"a {record.level} org needs a {expected} code, {record.region_code} is a "
            f"{region.level}"
        )
    if record.level is OrgLevel.station and record.is_hq:
        return "is_hq", "a station (所) is never a bureau's head office (局机关)"
    if record.level is OrgLevel.station and record.parent_code is None:
        return "parent_code", "a station needs its county bureau as parent"
    return None


def _place_problem(
    record: OrgRecord,
    view: Mapping[str, OrgRecord],
    children: Sequence[str],
    candidates: Mapping[str, object],
) -> tuple[str, str] | None:
    """What is wrong with the row's place in the hierarchy: its parent, or a stored child that
    the change would leave misplaced (children sent in the same batch answer for themselves)."""
    if record.parent_code is not None:
        parent = view.get(record.parent_code)
        if parent is None:
            return "parent_code", f"no org {record.parent_code}: neither stored nor in this file"
        if _reaches(view, record.parent_code, record.code):
            return "parent_code", f"{record.code} would become its own ancestor"
        misfit = _misfit(record, parent)
        if misfit is not None:
            aspect, reason = misfit
            return ("region_code" if aspect == "region" else "parent_code"), reason
    for code in children:
        if code in candidates:
            continue
        misfit = _misfit(view[code], record)
        if misfit is not None:
            aspect, reason = misfit
            field = {"level": "level", "region": "region_code", "status": "status"}[aspect]
            return field, f"its sub-org {code} would no longer fit: {reason}"
    return None


def _reaches(view: Mapping[str, OrgRecord], start: str, target: str) -> bool:
    """Whether walking up from `start` meets `target` (a cycle once target's parent is start)."""
    seen: set[str] = set()
    code: str | None = start
    while code is not None and code not in seen:
        if code == target:
            return True
        seen.add(code)
        found = view.get(code)
        code = found.parent_code if found is not None else None
    return False


def _misfit(child: OrgRecord, parent: OrgRecord) -> tuple[str, str] | None:
    """Why `parent` cannot hold `child`: (aspect, reason), aspect being level, region or status."""
    if parent.level.rank >= child.level.rank:
        return "level", (
            f"{parent.code} is a {parent.level} org; the parent of a {child.level} org must be "
            "of a higher level"
        )
    if child.level is OrgLevel.station and parent.level is not OrgLevel.county:
        return (
            "level",
            f"a station's parent must be a county bureau, {parent.code} is {parent.level}",
        )
    # A national org's seat is one province, yet its jurisdiction is the whole country.
    if parent.level is not OrgLevel.national and not contains(
        parent.region_code, child.region_code
    ):
        return "region", (
            f"{child.region_code} is not within the region {parent.region_code} of {parent.code}"
        )
    if child.status is OrgStatus.active and parent.status is OrgStatus.closed:
        return "status", f"{parent.code} is closed; an active org needs an active parent"
    return None
