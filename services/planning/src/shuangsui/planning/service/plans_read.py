"""Reading annual plans: one version, the list, the difference between versions. What a caller
sees follows `domain.plans.visible` (see `service.plans`)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import sqlalchemy as sa

from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import PageRequest
from shuangsui.planning.adapters import plans as repo
from shuangsui.planning.domain import plans as rules
from shuangsui.planning.domain.plans import PlanStatus, PlanVersion
from shuangsui.planning.domain.plans_diff import PlanDiff, plan_diff
from shuangsui.planning.service.plans import batch_summaries
from shuangsui.planning.service.plans_access import load_version, org_uuid, writes_for_own_org


async def get_plan(
    uow: UnitOfWork, plan_id: UUID, version: int | None, by: Principal | None
) -> PlanVersion:
    async with uow:
        return (await load_version(uow, plan_id, version, by, lock=False)).plan


async def diff_plan(uow: UnitOfWork, plan_id: UUID, version: int, by: Principal | None) -> PlanDiff:
    """Version `version` against the one before it (the one it supersedes)."""
    async with uow:
        after = (await load_version(uow, plan_id, version, by, lock=False)).plan
        if after.supersedes_version is None:
            raise p.Problem(
                p.VALIDATION, "the first version has no version before it",
                errors=[p.FieldError("version", "a difference needs version 2 or later")],
            )  # fmt: skip
        before = (await load_version(uow, plan_id, after.supersedes_version, by, lock=False)).plan
        return plan_diff(
            before, after, await batch_summaries(uow, before), await batch_summaries(uow, after)
        )


@dataclass(frozen=True)
class PlanFilters:
    year: int | None = None
    org_id: UUID | None = None
    status: PlanStatus | None = None
    plan_code: str | None = None


def _visibility(by: Principal | None) -> sa.ColumnElement[bool]:
    org = org_uuid(by)
    return repo.visibility(
        everything=by is not None and by.is_national,
        public=[s.value for s in rules.PUBLIC],
        shown_to_superior=[s.value for s in rules.SHOWN_TO_SUPERIOR],
        own_org=writes_for_own_org(by),
        parent_org=org if by is not None and Role.department_admin in by.roles else None,
        province_prefix=by.province
        if by is not None and Role.provincial_admin in by.roles
        else None,
    )


async def list_plans(
    uow: UnitOfWork, by: Principal | None, filters: PlanFilters, page: PageRequest
) -> tuple[list[PlanVersion], str | None]:
    t = repo.plan_versions
    wanted = [
        clause
        for value, clause in (
            (filters.year, t.c.year == filters.year),
            (filters.org_id, t.c.org_id == filters.org_id),
            (filters.status, t.c.status == (filters.status or "")),
            (filters.plan_code, t.c.plan_code == filters.plan_code),
        )
        if value is not None
    ]
    code, number = page.position("code", str), page.position("version", int)
    after = (code, number) if code is not None and number is not None else None
    async with uow:
        rows = await repo.list_versions(uow.session, _visibility(by), wanted, after, page.limit + 1)
    return page.page(rows, lambda v: {"code": v.plan_code, "version": v.version})
