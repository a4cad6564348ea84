"""Index of GB/T 2260 codes built from python-stdnum's ``cn/loc.dat``.

The file (used by ``stdnum.cn.ric`` for birth places) is a two-level prefix tree:
a 2-digit province node carrying ``province="…"`` and 4-digit children carrying
``county="…"``. A child's value lists the names the code has had, each optionally
marked with the years it was in force: ``[1983-2021]下城区`` (abolished after 2021),
``[2025-]两江新区`` (in force since 2025), ``[1985-1986]滨海区,[1987-]北仑区`` (renamed).
An unmarked name has been in force for as long as the source records.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import stdnum
from stdnum import numdb

RegionLevel = Literal["province", "city", "county"]

STDNUM_VERSION: str = stdnum.__version__
_DATA_FILE = "cn/loc.dat"
_SPAN = re.compile(r"^\[(?P<start>\d{4})?-(?P<end>\d{4})?\](?P<name>.+)$")


@dataclass(frozen=True)
class RegionInfo:
    """One GB/T 2260 code as the dataset knows it."""

    code: str
    name: str
    """The name in force, or the last name the code had if it is abolished."""
    level: RegionLevel
    in_force: bool
    since: int | None
    """First year in force, ``None`` when it predates the source's records."""
    abolished_in: int | None
    """Last year in force of an abolished code (the year it was abolished), else ``None``."""
    derived: bool = False
    """True when the dataset has no row for the code and it was inferred from its children."""


@dataclass(frozen=True)
class RegionDataProvenance:
    package: str
    package_version: str
    data_file: str
    sources: tuple[str, ...]
    latest_change_year: int
    codes_total: int
    codes_in_force: int


@dataclass(frozen=True)
class _Span:
    start: int | None
    end: int | None
    name: str


def level_from_digits(code: str) -> RegionLevel:
    # GB/T 2260 numbers cities and counties from 01, so "00" means "the unit itself".
    if code[2:] == "0000":
        return "province"
    if code[4:] == "00":
        return "city"
    return "county"


def _parse_spans(value: str) -> list[_Span]:
    spans = []
    for part in value.split(","):
        match = _SPAN.match(part)
        if match is None:
            spans.append(_Span(None, None, part))
        else:
            start, end = match["start"], match["end"]
            spans.append(
                _Span(int(start) if start else None, int(end) if end else None, match["name"])
            )
    return spans


def _info_from_spans(code: str, spans: Sequence[_Span]) -> RegionInfo:
    open_spans = [s for s in spans if s.end is None]
    latest = open_spans[-1] if open_spans else max(spans, key=lambda s: s.end or 0)
    starts = [s.start for s in spans]
    return RegionInfo(
        code=code,
        name=latest.name,
        level=level_from_digits(code),
        in_force=bool(open_spans),
        since=None if None in starts else min(s for s in starts if s is not None),
        abolished_in=None if open_spans else latest.end,
        derived=False,
    )


def _derived(code: str, name: str, children: Sequence[RegionInfo]) -> RegionInfo:
    in_force = any(c.in_force for c in children) if children else True
    since_years = [c.since for c in children]
    ends = [c.abolished_in for c in children if c.abolished_in is not None]
    return RegionInfo(
        code=code,
        name=name,
        level=level_from_digits(code),
        in_force=in_force,
        since=None if not children or None in since_years else min(y for y in since_years if y),
        abolished_in=None if in_force or not ends else max(ends),
        derived=True,
    )


ProvinceRows = tuple[str, str, Mapping[str, str]]
"""(2-digit prefix, province name, {4-digit suffix: county value})."""


def build_index(provinces: Iterable[ProvinceRows]) -> dict[str, RegionInfo]:
    """Index every code; provinces and cities without their own row are derived.

    A province code is the 2-digit node plus ``0000`` and is named by the node's
    ``province`` property. A city code ``XXYY00`` missing from the rows is implied by
    any county ``XXYYnn``; it is in force while any of those counties is, and is named
    after its province plus the code because the data gives it no name.
    """
    index: dict[str, RegionInfo] = {}
    for prefix, province_name, rows in provinces:
        listed = {
            prefix + suffix: _info_from_spans(prefix + suffix, _parse_spans(value))
            for suffix, value in rows.items()
        }
        index.update(listed)
        cities: dict[str, list[RegionInfo]] = {}
        for info in listed.values():
            if info.level == "county":
                cities.setdefault(info.code[:4] + "00", []).append(info)
        for city, children in cities.items():
            if city not in index:
                index[city] = _derived(city, f"{province_name} {city}", children)
        province = prefix + "0000"
        if province not in index:
            index[province] = _derived(province, province_name, [])
    return index


def _stdnum_provinces() -> list[ProvinceRows]:
    provinces: list[ProvinceRows] = []
    for length, low, high, props, children in numdb.get("cn/loc").prefixes:
        if length != 2 or low != high:
            raise RuntimeError(f"unexpected node {low}-{high} in stdnum {_DATA_FILE}")
        rows: dict[str, str] = {}
        for c_length, c_low, c_high, c_props, _ in children:
            if c_length != 4 or "county" not in c_props:
                raise RuntimeError(f"unexpected row {low}{c_low} in stdnum {_DATA_FILE}")
            # A range row would stand for many codes with one name; the file has none.
            if c_low != c_high:
                raise RuntimeError(f"unexpected range {low}{c_low}-{c_high} in {_DATA_FILE}")
            rows[c_low] = c_props["county"]
        provinces.append((low, props.get("province", low), rows))
    return provinces


@cache
def region_index() -> Mapping[str, RegionInfo]:
    return build_index(_stdnum_provinces())


@cache
def provenance() -> RegionDataProvenance:
    text = resources.files("stdnum").joinpath(_DATA_FILE).read_text(encoding="utf-8")
    sources = tuple(
        line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("# http")
    )
    index = region_index()
    years = [
        year
        for value in re.findall(r'county="([^"]*)"', text)
        for span in _parse_spans(value)
        for year in (span.start, span.end)
        if year is not None
    ]
    return RegionDataProvenance(
        package="python-stdnum",
        package_version=STDNUM_VERSION,
        data_file=f"stdnum/{_DATA_FILE}",
        sources=sources,
        latest_change_year=max(years),
        codes_total=len(index),
        codes_in_force=sum(1 for info in index.values() if info.in_force),
    )
