"""Who the caller is to an annual plan, and the versions it may see (DOMAIN.md §7): the department
admin of the owning org writes it; the superior it files with (the department admin of the parent
org, or the province's provincial admin) sees it from submission on; everyone sees what was
published. A version the caller may not see looks exactly like a missing one. Batches follow
their plan."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role
from shuangsui.kernel.db import UnitOfWork
from shuangsui.planning.adapters import catalogue
from shuangsui.planning.adapters import plans as repo
from shuangsui.planning.domain import plans as rules
from shuangsui.planning.domain.catalogue import CatalogueOrg
from shuangsui.planning.domain.plans import PlanVersion, Relation


def org_uuid(by: Principal | None) -> UUID | None:
    if by is None or by.org_id is None:
        return None
    try:
        return UUID(by.org_id)
    except ValueError:
        return None


def writes_for_own_org(by: Principal | None) -> UUID | None:
    """The org whose plans `by` writes: a department admin's (a national admin's, for
    national plans)."""
    if by is None or not by.has_any_role(Role.department_admin, Role.national_admin):
        return None
    return org_uuid(by)


def relation(by: Principal | None, plan: PlanVersion, org: CatalogueOrg | None) -> Relation:
    if by is None:
        return Relation.other
    own = writes_for_own_org(by)
    if own is not None and own == plan.org_id:
        return Relation.owner
    if by.is_national:
        return Relation.national
    parent = org.parent_org_id if org else None
    if Role.department_admin in by.roles and parent is not None and org_uuid(by) == parent:
        return Relation.superior
    if Role.provincial_admin in by.roles and plan.region_code[:2] == by.province:
        return Relation.superior
    return Relation.other


@dataclass(frozen=True)
class Loaded:
    plan: PlanVersion
    versions: list[PlanVersion]
    org: CatalogueOrg | None
    relation: Relation


async def load_version(
    uow: UnitOfWork, plan_id: UUID, version: int | None, by: Principal | None, lock: bool
) -> Loaded:
    """The version asked for (the latest visible one without `version`), or 404."""
    versions = await repo.versions_of(uow.session, plan_id, lock=lock)
    if versions:
        org = await catalogue.org(uow.session, versions[0].org_id)
        stands = relation(by, versions[0], org)
        seen = [v for v in versions if rules.visible(v.status, stands)]
        found = [v for v in seen if v.version == version] if version is not None else seen[-1:]
        if found:
            return Loaded(found[0], versions, org, stands)
    raise p.Problem(p.NOT_FOUND, "no such plan version")
