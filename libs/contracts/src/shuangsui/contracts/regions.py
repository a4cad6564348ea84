"""GB/T 2260 administrative division codes (行政区划代码), six digits.

Data: python-stdnum's ``cn/loc.dat`` (see ``_region_data``), loaded on first use.

Abolished codes. ``RegionCode`` accepts every code the dataset records, in force or
abolished; ``CurrentRegionCode`` accepts only codes in force. Event payloads must use
``RegionCode``: events are replayed for months, and a dataset upgrade that records an
abolition (e.g. Chongqing's 江北区 500105 and 渝北区 500112 merged into 两江新区 500157
in 2025) must not make yesterday's events invalid, nor stop a registration system that
has not migrated yet from pushing its subjects. Use ``CurrentRegionCode`` where a
division is being chosen now: a new org's jurisdiction, a batch scope. ``is_in_force``
lets ingest flag subjects that still carry an abolished code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from shuangsui.contracts._region_data import (
    STDNUM_VERSION,
    RegionDataProvenance,
    RegionInfo,
    RegionLevel,
    provenance,
    region_index,
)

__all__ = [
    "REGION_DATA_VERSION",
    "CurrentRegionCode",
    "InvalidRegionCode",
    "RegionCode",
    "RegionDataProvenance",
    "RegionInfo",
    "RegionLevel",
    "contains",
    "is_in_force",
    "level_of",
    "nats_province_token",
    "province_of",
    "province_region",
    "region_data_provenance",
    "region_info",
    "region_name",
    "regions_within",
    "scope_prefix",
    "validate_region_code",
]

REGION_DATA_VERSION = (
    f"python-stdnum {STDNUM_VERSION} stdnum/cn/loc.dat "
    "(zh.wikipedia.org 中华人民共和国行政区划代码, with years in force)"
)

RegionCodeReason = Literal["format", "unknown", "abolished"]


class InvalidRegionCode(ValueError):
    """Not a usable GB/T 2260 code; ``reason`` is ``format``, ``unknown`` or ``abolished``."""

    def __init__(self, value: str, reason: RegionCodeReason, detail: str) -> None:
        self.value = value
        self.reason: RegionCodeReason = reason
        self.detail = detail
        super().__init__(f"invalid region code {value!r}: {detail}")


def region_info(code: str) -> RegionInfo:
    """Look a code up, in force or abolished; raises :class:`InvalidRegionCode`."""
    if not isinstance(code, str):
        raise TypeError(f"a region code must be a str, got {type(code).__name__}")
    code = code.strip()
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        raise InvalidRegionCode(code, "format", "a GB/T 2260 code has exactly 6 digits")
    info = region_index().get(code)
    if info is None:
        raise InvalidRegionCode(code, "unknown", f"not a GB/T 2260 code in {REGION_DATA_VERSION}")
    return info


def validate_region_code(code: str, *, in_force: bool = False) -> str:
    """Return the code stripped; with ``in_force`` also reject abolished codes."""
    info = region_info(code)
    if in_force and not info.in_force:
        raise InvalidRegionCode(
            info.code,
            "abolished",
            f"{info.name} was abolished in {info.abolished_in}; "
            "use the code of the division that replaced it",
        )
    return info.code


def regions_within(scope_code: str, level: RegionLevel = "county") -> list[RegionInfo]:
    """The codes in force at `level` inside `scope_code`, in code order (e.g. a province's
    counties, for demo data and pickers)."""
    prefix = scope_prefix(scope_code)
    return sorted(
        (info for code, info in region_index().items()
         if code.startswith(prefix) and info.level == level and info.in_force),
        key=lambda info: info.code,
    )  # fmt: skip


def is_in_force(code: str) -> bool:
    return region_info(code).in_force


def region_name(code: str) -> str:
    return region_info(code).name


def level_of(code: str) -> RegionLevel:
    return region_info(code).level


def province_of(code: str) -> str:
    """The 2-digit province part: ``"33"`` for 330106."""
    return region_info(code).code[:2]


def province_region(code: str) -> str:
    """The province's own code: ``"330000"`` for 330106."""
    return province_of(code) + "0000"


def nats_province_token(code: str) -> str:
    """The ``<province>`` token of NATS subjects and JetStream domains: ``"p33"``."""
    return "p" + province_of(code)


def scope_prefix(code: str) -> str:
    """The digits every code inside this region starts with.

    ``"33"`` for 330000, ``"3301"`` for 330100, the whole code for a county.
    """
    info = region_info(code)
    return {"province": info.code[:2], "city": info.code[:4], "county": info.code}[info.level]


def contains(scope_code: str, code: str) -> bool:
    """Whether ``code`` lies within ``scope_code`` (a region contains itself).

    Containment follows the code's digits, as GB/T 2260 nests them; a county directly
    under a province (e.g. 仙桃市 429004) is inside that province's 429000 group.
    """
    return region_info(code).code.startswith(scope_prefix(scope_code))


def region_data_provenance() -> RegionDataProvenance:
    """Package, version, sources and coverage of the region data (for /readyz, docs)."""
    return provenance()


def _pydantic_validator(in_force: bool) -> Callable[[str], str]:
    def validate(value: str) -> str:
        try:
            return validate_region_code(value, in_force=in_force)
        except InvalidRegionCode as exc:
            raise PydanticCustomError(
                f"region_code_{exc.reason}",
                "Invalid GB/T 2260 region code: {detail}",
                {"detail": exc.detail, "reason": exc.reason},
            ) from None

    return validate


class _RegionCodeAnnotation:
    in_force = False
    description = (
        "GB/T 2260 administrative division code (行政区划代码), 6 digits; "
        "abolished codes are accepted."
    )

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            _pydantic_validator(cls.in_force), handler(str)
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.update(pattern="^[0-9]{6}$", description=cls.description, examples=["330106"])
        return json_schema


class _CurrentRegionCodeAnnotation(_RegionCodeAnnotation):
    in_force = True
    description = "GB/T 2260 administrative division code (行政区划代码), 6 digits, in force."


RegionCode = Annotated[str, _RegionCodeAnnotation]
"""Any GB/T 2260 code in the dataset, in force or abolished (use in event payloads)."""

CurrentRegionCode = Annotated[str, _CurrentRegionCodeAnnotation]
"""A GB/T 2260 code in force per the dataset (use where a division is chosen now)."""
