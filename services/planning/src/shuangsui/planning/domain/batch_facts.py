"""The catalogue's items and orgs as a batch is checked against them (`ItemFacts`, `OrgFacts`),
and the one vocabulary that joins them: the departments.

Item lists name departments as the policy texts do (市场监管部门, 应急管理部门); orgs carry a
`department_type` code (market_supervision, emergency_management). A joint batch matches the
two, so the names are mapped here once. A name this table does not know maps to nothing: the
item then counts as the lead's, and no partner can be invited for it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from shuangsui.planning.domain.batch_values import ItemFacts, Method, OrgFacts
from shuangsui.planning.domain.catalogue import CatalogueOrg, ItemInForce

DEPARTMENT_TYPES: Mapping[str, str] = {
    "市场监管部门": "market_supervision",
    "市场监督管理部门": "market_supervision",
    "生态环境部门": "ecology_environment",
    "应急管理部门": "emergency_management",
    "住房城乡建设部门": "housing_construction",
    "卫生健康部门": "health",
    "交通运输部门": "transport",
    "农业农村部门": "agriculture",
    "文化和旅游部门": "culture_tourism",
    "消防救援机构": "fire_rescue",
    "公安机关": "public_security",
    "教育部门": "education",
    "商务部门": "commerce",
    "税务部门": "taxation",
    "人力资源社会保障部门": "human_resources",
    "自然资源部门": "natural_resources",
    "水利部门": "water_resources",
    "林业和草原部门": "forestry_grassland",
}
_CODE = re.compile(r"^[a-z][a-z_]{1,39}$")  # a department_type code written as such


def department_type_of(name: str | None) -> str | None:
    """The org vocabulary's code for a department as an item list names it, or None."""
    if name is None:
        return None
    cleaned = name.strip()
    if _CODE.fullmatch(cleaned):
        return cleaned
    return DEPARTMENT_TYPES.get(cleaned)


def item_facts_of(item: ItemInForce, *, lead_department_type: str) -> ItemFacts:
    """The item as a batch of `lead_department_type` sees it: checked by the item's lead
    department when that is another department's, else by the batch's lead (None)."""
    own = department_type_of(item.lead_department)
    return ItemFacts(
        item_id=item.item_id,
        list_id=item.list_id,
        version=item.version,
        code=item.code,
        name=item.name,
        item_category=item.item_category,
        allowed_methods=frozenset(Method(m) for m in item.allowed_methods),
        subject_types=item.subject_types,
        subject_tags=item.subject_tags,
        required_qualification=item.required_qualification,
        min_ratio=item.min_ratio,
        department_type=own if own not in (None, lead_department_type) else None,
        in_force=True,
    )


def partner_types_of(item: ItemInForce) -> frozenset[str]:
    """The departments a joint item names beside its lead (R20), as codes."""
    found = (department_type_of(name) for name in item.partner_departments)
    return frozenset(t for t in found if t is not None)


def org_facts_of(org: CatalogueOrg, station_codes: Collection[str] = ()) -> OrgFacts:
    return OrgFacts(
        org_id=org.org_id,
        code=org.code,
        level=org.level,
        region_code=org.region_code,
        department_type=org.department_type,
        active=org.status == "active",
        station_codes=frozenset(station_codes),
    )
