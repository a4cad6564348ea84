"""Codes written to a pattern, as the platform's APIs and events take them: GB/T 4754 industry
codes (国民经济行业分类), the public unit codes of orgs (单位编码) and subject tags (标签).

Each is a pydantic type: it refuses a value with an error typed ``<name>_format`` that states
the rule, and documents its pattern, rule and an example in JSON Schema (and so in OpenAPI).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

__all__ = [
    "TAG_DIMENSIONS",
    "CodeFormat",
    "IndustryCode",
    "Tag",
    "UnitCode",
]

# The dimensions subject tags are grouped by in events (业态 / 品类 / 载体 / 规模).
TAG_DIMENSIONS = ("format", "category", "carrier", "scale")
TAG_VALUE_MAX = 40


@dataclass(frozen=True)
class CodeFormat:
    """Pydantic metadata for a code that matches `pattern` in full (`Annotated[str, fmt]`)."""

    name: str
    pattern: str
    rule: str
    description: str
    example: str

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        regex = re.compile(self.pattern)

        def check(value: str) -> str:
            if regex.fullmatch(value) is None:
                raise PydanticCustomError(f"{self.name}_format", self.rule)
            return value

        return core_schema.no_info_after_validator_function(check, handler(str))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.update(
            pattern=self.pattern, description=self.description, examples=[self.example]
        )
        return json_schema


IndustryCode = Annotated[
    str,
    CodeFormat(
        "industry_code",
        r"^[A-T](?:[0-9]{2}|[0-9]{3}|[0-9]{4})?$",
        "a GB/T 4754 code: a section letter A–T, alone or with 2, 3 or 4 digits (C, C13, "
        "C131, C1311)",
        "GB/T 4754 industry code (国民经济行业分类): section, division, group or class.",
        "C1311",
    ),
]
"""A GB/T 4754-2017 code at any level: section ``C``, division ``C13``, group ``C131``, class
``C1311``. As a filter it selects every code below it."""

UnitCode = Annotated[
    str,
    CodeFormat(
        "unit_code",
        r"^[0-9A-Za-z_.\-]{1,40}$",
        "1–40 letters, digits, '-', '_' or '.'",
        "Public unit code of an org (单位编码), e.g. a county bureau or a station (所).",
        "330106-01",
    ),
]
"""The code pushed systems name an org by (DOMAIN §3.1 Org.code): what the org and inspector
directories accept, whichever is longer."""

_DIMENSION = "|".join(TAG_DIMENSIONS)
Tag = Annotated[
    str,
    CodeFormat(
        "tag",
        rf"^(?:{_DIMENSION}):[^:\s](?:[^:]{{0,{TAG_VALUE_MAX - 2}}}[^:\s])?$",
        f"a tag is dimension:value, the dimension one of {', '.join(TAG_DIMENSIONS)} and the "
        f"value 1–{TAG_VALUE_MAX} characters without ':' or surrounding spaces",
        "Subject tag (标签) `dimension:value`: 业态 format, 品类 category, 载体 carrier, "
        "规模 scale.",
        "format:餐饮服务",
    ),
]
"""A subject tag as the tag rules write it, e.g. ``format:餐饮服务``."""
