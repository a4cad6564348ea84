"""Plan deadlines (R5, R6): the province's deadline per year, and who submitted on time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.scope import RegionScope
from shuangsui.planning.adapters import plans as repo
from shuangsui.planning.domain import plans as rules
from shuangsui.planning.domain.deadlines import Standing, standing
from shuangsui.planning.domain.plans import PlanRuleError, PlanVersion
from shuangsui.planning.service.plans import deadline_of, province_of, rule_problem


@dataclass(frozen=True)
class Deadline:
    province: str
    year: int
    deadline: date
    configured: bool


async def get_deadline(uow: UnitOfWork, year: int, by: Principal) -> Deadline:
    async with uow:
        day, configured = await deadline_of(uow, by.region_code, year)
    return Deadline(province_of(by.region_code), year, day, configured)


async def set_deadline(uow: UnitOfWork, year: int, day: date, by: Principal) -> Deadline:
    """The province's deadline for a year (province config, DOMAIN.md §7). It decides the
    lateness of submissions from now on; plans submitted before keep the flag they got."""
    if Role.provincial_admin not in by.roles:
        raise p.Problem(p.FORBIDDEN, "a province's deadline is set by its provincial admin")
    try:
        rules.check_year(year)
        rules.check_deadline(year, day)
    except PlanRuleError as exc:
        raise rule_problem(exc) from None
    async with uow:
        await repo.set_deadline(uow.session, province_of(by.region_code), year, day, by.sub)
        await uow.commit()
    return Deadline(province_of(by.region_code), year, day, True)


@dataclass(frozen=True)
class OrgStanding:
    org_id: UUID
    code: str
    name: str
    level: str
    region_code: str
    deadline: date
    standing: Standing
    plan: PlanVersion | None


async def deadline_report(uow: UnitOfWork, year: int, by: Principal) -> list[OrgStanding]:
    """Every market-supervision org at county level and above within the caller's scope:
    submitted on time, late, or not yet (R5: a late plan is accepted, flagged and counted)."""
    try:
        rules.check_year(year)
    except PlanRuleError as exc:
        raise rule_problem(exc) from None
    scope = RegionScope.of(by)
    async with uow:
        orgs = await repo.planning_orgs(uow.session, scope.prefix)
        firsts = await repo.first_versions(uow.session, [o.org_id for o in orgs], year)
        deadlines: dict[str, date] = {}
        report = []
        for o in orgs:
            province = province_of(o.region_code)
            if province not in deadlines:
                deadlines[province] = (await deadline_of(uow, o.region_code, year))[0]
            mine = firsts.get(o.org_id, [])
            submitted = next((v for v in mine if v.submitted_at is not None), None)
            report.append(OrgStanding(
                o.org_id, o.code, o.name, o.level, o.region_code, deadlines[province],
                standing(mine), submitted,
            ))  # fmt: skip
    return report
