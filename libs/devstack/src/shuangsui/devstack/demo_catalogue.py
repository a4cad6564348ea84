"""The demo province's item list and tag rules: what makes its subjects fall under items.

A national list of ten items in force since 2025 (as SAMR's list would arrive), and a tag rule
set of the kind a provincial office writes: 业态 by GB/T 4754 industry, 品类 by licence, 载体 by
online shop, 规模 by registered capital. Loading it twice changes nothing.
"""

from __future__ import annotations

from typing import Any

import httpx

REGISTRY = "/api/v1/registry"
EFFECTIVE_FROM = "2025-01-01"


def _rule(dimension: str, value: str, note: str = "", **when: Any) -> dict[str, Any]:
    return {"dimension": dimension, "value": value, "when": when, "note": note}


TAG_RULES: list[dict[str, Any]] = [
    _rule("format", "食品生产", "GB/T 4754 C13–C15", industry_code_prefixes=["C13", "C14", "C15"]),
    _rule("format", "食品销售", "超市、便利店", industry_code_prefixes=["F5221", "F5222"]),
    _rule("format", "餐饮服务", "GB/T 4754 H62 餐饮业", industry_code_prefixes=["H62"]),
    _rule("format", "药品经营", "药品零售", industry_code_prefixes=["F5251"]),
    _rule("format", "药品生产", "GB/T 4754 C27 医药制造业", industry_code_prefixes=["C27"]),
    _rule("format", "设备制造", "GB/T 4754 C34 通用设备制造业", industry_code_prefixes=["C34"]),
    _rule("format", "批发零售", "GB/T 4754 F 批发和零售业", industry_code_prefixes=["F"]),
    _rule("format", "居民服务", "GB/T 4754 O80", industry_code_prefixes=["O80"]),
    _rule("format", "信息服务", "GB/T 4754 I65", industry_code_prefixes=["I65"]),
    _rule("category", "食品", licence_types=["food_production", "food_business", "食品经营许可证", "食品生产许可证"]),
    _rule("category", "药品", licence_types=["drug_retail", "drug_production", "药品经营许可证", "药品生产许可证"]),
    _rule("category", "特种设备", licence_types=["special_equipment", "特种设备生产许可证"]),
    _rule("carrier", "网络", "有网店", has_online_shop=True),
    _rule("carrier", "实体", "无网店", has_online_shop=False),
    _rule("scale", "个体", subject_types=["individual"]),
    _rule("scale", "微型", "注册资本 < 100 万元", capital_wan_max="100"),
    _rule("scale", "小型", capital_wan_min="100", capital_wan_max="1000"),
    _rule("scale", "中型", capital_wan_min="1000", capital_wan_max="10000"),
    _rule("scale", "大型", capital_wan_min="10000"),
]  # fmt: skip


def _item(
    number: int, name: str, line: str, category: str, types: list[str], tags: list[str],
    basis: str, qualification: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "code": f"DEMO-{number:02d}",
        "name": name,
        "business_line": line,
        "item_category": category,
        "responsible_department": "市场监管部门",
        "legal_basis": [basis],
        "content": name.removesuffix("的检查"),
        "subject_types": types,
        "subject_tags": tags,
        "allowed_methods": ["on_site", "documentary"],
        "iplus_item_code": f"1133000000{number:04d}",
        "required_qualification": qualification,
    }


FOOD_LAW = "《中华人民共和国食品安全法》"
DRUG_LAW = "《中华人民共和国药品管理法》"
# Qualification codes the demo inspectors hold (demo.QUALIFICATIONS): the specialised lines need
# officers qualified for them (R17); credit and online checks any certified officer may carry out.
FOOD, DRUG, EQUIPMENT = "food_safety", "drug_inspection", "special_equipment"
ITEMS: list[dict[str, Any]] = [
    _item(1, "食品生产者生产行为的检查", "食品安全", "key", ["enterprise"], ["format:食品生产"], FOOD_LAW, FOOD),
    _item(2, "食品销售者经营行为的检查", "食品安全", "key", ["enterprise", "individual"], ["format:食品销售"], FOOD_LAW, FOOD),
    _item(3, "餐饮服务提供者经营行为的检查", "食品安全", "key", ["enterprise", "individual"], ["format:餐饮服务"], FOOD_LAW, FOOD),
    _item(4, "药品零售企业经营行为的检查", "药品安全", "key", ["enterprise"], ["format:药品经营"], DRUG_LAW, DRUG),
    _item(5, "药品生产企业生产行为的检查", "药品安全", "key", ["enterprise"], ["format:药品生产"], DRUG_LAW, DRUG),
    _item(6, "特种设备生产单位的检查", "特种设备", "key", ["enterprise"], ["category:特种设备"], "《中华人民共和国特种设备安全法》", EQUIPMENT),
    _item(7, "企业公示信息的检查", "信用监管", "general", ["enterprise"], [], "《企业信息公示暂行条例》"),
    _item(8, "个体工商户年度报告信息的检查", "信用监管", "general", ["individual"], [], "《促进个体工商户发展条例》"),
    _item(9, "网络交易经营者经营行为的检查", "网络交易", "general", ["enterprise", "individual"], ["carrier:网络"], "《中华人民共和国电子商务法》"),
    _item(10, "农民专业合作社年度报告信息的检查", "信用监管", "general", ["cooperative"], [], "《农民专业合作社年度报告公示办法》"),
]  # fmt: skip


# The province's own item (R1: its list is the national list plus its own items): a joint
# cross-department item (跨部门联合检查, R20) that market supervision leads and the emergency
# management department (应急管理部门, the demo's partner org) takes part in.
PROVINCIAL_ITEMS: list[dict[str, Any]] = [
    {
        **_item(11, "特种设备使用单位安全管理的联合检查", "特种设备", "general", ["enterprise"],
                ["category:特种设备"], "《中华人民共和国特种设备安全法》", EQUIPMENT),
        "responsible_department": "市场监管部门、应急管理部门",
        "legal_basis": ["《中华人民共和国特种设备安全法》", "《中华人民共和国安全生产法》"],
        "allowed_methods": ["on_site"],
        "lead_department": "市场监管部门",
        "partner_departments": ["应急管理部门"],
        "inspection_level": "city",
    },
]  # fmt: skip


def load_catalogue(client: httpx.Client, national_token: str, admin_token: str) -> dict[str, int]:
    """Publish the national list and the province's (unless one is already published) and save
    the tag rules (unless they are already these); the items in force and the rules' version."""
    national = {"Authorization": f"Bearer {national_token}"}
    admin = {"Authorization": f"Bearer {admin_token}"}
    listed = client.get(f"{REGISTRY}/item-lists", params={"level": "national"}, headers=national)
    listed.raise_for_status()
    if not any(v["status"] == "published" for v in listed.json()["items"]):
        _publish_list(client, national, "national", ITEMS)
    # A province's list adopts the national items in force on its effective date, so it
    # follows the national list; a .data made before it existed gets it now.
    listed = client.get(f"{REGISTRY}/item-lists", params={"level": "provincial"}, headers=admin)
    listed.raise_for_status()
    if not any(v["status"] == "published" for v in listed.json()["items"]):
        draft = next((v for v in listed.json()["items"] if v["status"] == "draft"), None)
        _publish_list(client, admin, "provincial", PROVINCIAL_ITEMS, draft)
    current = client.get(f"{REGISTRY}/tag-rules", headers=admin)
    current.raise_for_status()
    version = current.json()["version"]
    if current.json()["rules"] != _as_stored(TAG_RULES):
        saved = client.put(
            f"{REGISTRY}/tag-rules",
            json={"rules": TAG_RULES, "note": "演示规则 · demo rules"},
            headers={**admin, "If-Match": current.headers["etag"]},
        )
        saved.raise_for_status()
        version = saved.json()["rules_version"]
    return {
        "items": len(ITEMS),
        "provincial_items": len(PROVINCIAL_ITEMS),
        "tag_rules_version": version,
    }


def _publish_list(
    client: httpx.Client,
    headers: dict[str, str],
    level: str,
    items: list[dict[str, Any]],
    draft: dict[str, Any] | None = None,
) -> None:
    """A new version of the `level` list holding `items` (a draft left by an interrupted run is
    taken on, with the items it lacks), published."""
    if draft is None:
        created = client.post(
            f"{REGISTRY}/item-lists",
            json={"level": level, "effective_from": EFFECTIVE_FROM},
            headers=headers,
        )
        created.raise_for_status()
        draft = created.json()
    list_id = draft["list_id"]
    held = client.get(
        f"{REGISTRY}/item-lists/{list_id}/items", params={"limit": 500}, headers=headers
    )
    held.raise_for_status()
    have = {i["code"] for i in held.json()["items"]}
    for item in items:
        if item["code"] not in have:
            client.post(
                f"{REGISTRY}/item-lists/{list_id}/items", json=item, headers=headers
            ).raise_for_status()
    etag = client.get(f"{REGISTRY}/item-lists/{list_id}", headers=headers).headers["etag"]
    client.post(
        f"{REGISTRY}/item-lists/{list_id}:publish", headers={**headers, "If-Match": etag}
    ).raise_for_status()


def _as_stored(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rules as the registry shows them back (every condition field, defaults filled)."""
    blank: dict[str, Any] = {
        "industry_code_prefixes": [], "licence_types": [], "scope_keywords": [],
        "subject_types": [], "has_online_shop": None, "capital_wan_min": None,
        "capital_wan_max": None, "employee_bands": [],
    }  # fmt: skip
    return [{**rule, "when": {**blank, **rule["when"]}} for rule in rules]
