"""Region scoping: every query is filtered to the caller's jurisdiction (DOMAIN.md §7)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends
from sqlalchemy import ColumnElement, true
from sqlalchemy.sql.elements import ColumnClause

from shuangsui.contracts.regions import InvalidRegionCode, scope_prefix
from shuangsui.kernel.auth import Principal, current_principal
from shuangsui.kernel.problems import FORBIDDEN, NOT_FOUND, Problem


@dataclass(frozen=True)
class RegionScope:
    """The region prefix a caller may see: `33` for a province, `3301` for a city, … ``""`` = all."""

    prefix: str

    @classmethod
    def of(cls, principal: Principal) -> RegionScope:
        if principal.is_national:
            return cls("")
        try:
            return cls(scope_prefix(principal.region_code))
        except InvalidRegionCode:
            # A verified token whose jurisdiction is no known division cannot be scoped: refuse
            # it (an unscoped query would leak, an uncaught error would be a bare 500).
            raise Problem(
                FORBIDDEN,
                f"the token's region_code {principal.region_code} is not a GB/T 2260 division",
            ) from None

    def allows(self, region_code: str) -> bool:
        return region_code.startswith(self.prefix)

    def filter(self, column: ColumnClause[str] | ColumnElement[str]) -> ColumnElement[bool]:
        """A WHERE clause; the prefix comes from a verified token, never from the request."""
        if not self.prefix:
            return true()
        return column.startswith(self.prefix, autoescape=True)

    def ensure_visible(self, region_code: str, what: str = "resource") -> None:
        """Out-of-scope objects look exactly like missing ones: their existence is not disclosed."""
        if not self.allows(region_code):
            raise Problem(NOT_FOUND, f"no such {what}")


async def region_scope(principal: Principal = Depends(current_principal)) -> RegionScope:
    return RegionScope.of(principal)
