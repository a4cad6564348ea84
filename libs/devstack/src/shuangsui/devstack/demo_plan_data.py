"""What the demo plan holds: the province's risk-ratio policies (R11, R13) and the batches the
demo city plans (R8–R20), as a planner writes them — data only; `demo_planning` makes them.

Each batch keeps the policy that governs it (ratios in every class's range, a riskier class
never sampled less), draws every class it names, uses methods its items allow, has a team of at
least two (R18) and a window in the plan's year, not before the day the demo runs.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any


def _classes(*rules: tuple[str, str, int]) -> dict[str, dict[str, Any]]:
    return {
        risk_class: {"min_ratio": low, "max_ratio": high, "frequency_per_year": frequency}
        for risk_class, (low, high, frequency) in zip("ABCD", rules, strict=True)
    }


# The province's policy for every item of the year, and a stricter one of its own for the key
# item of catering (R13): a riskier class is never sampled less than a safer one.
PROVINCE_POLICY = _classes(
    ("2%", "10%", 1), ("5%", "20%", 1), ("10%", "50%", 2), ("20%", "100%", 2)
)
KEY_ITEM = "DEMO-03"  # 餐饮服务提供者经营行为的检查, a key item (重点检查事项)
JOINT_ITEM = "DEMO-11"  # the province's joint item with 应急管理部门 (R20)
KEY_ITEM_POLICY = _classes(
    ("5%", "10%", 1), ("10%", "30%", 1), ("30%", "60%", 2), ("60%", "100%", 2)
)


def batch_drafts(
    region_code: str, partner_org_id: str, items: dict[str, dict[str, Any]], day: date
) -> list[dict[str, Any]]:
    """The batches of the plan of the bureau of `region_code`, with the partner department
    `partner_org_id` (docs/planning.md, "What a batch states"); `items` are the catalogue's
    items by code, `day` the day the demo runs."""
    region = [region_code]

    def batch(name: str, code: str, quantity: dict[str, Any], window: tuple[date, date],
              **more: Any) -> dict[str, Any]:  # fmt: skip
        start, end = window
        return {
            "name": name,
            "item_ids": [items[code]["item_id"]],
            "scope": {"region_codes": region, **more.pop("scope", {})},
            "quantity": quantity,
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
            "methods": ["on_site"],
            "selection_mode": "bureau_wide",
            "team_size": 2,
            **more,
        }

    return [
        batch(
            "企业公示信息随机抽查", "DEMO-07",
            {"A": "3%", "B": "5%", "C": "10%", "D": "20%"}, window(day, 4, 3),
            methods=["documentary", "on_site"],
            entry_deadline_rule={"kind": "workdays_after_window_end", "workdays": 10},
        ),
        batch(
            "餐饮服务提供者重点检查", KEY_ITEM,
            {"A": "5%", "B": "1/10", "C": "30%", "D": "60%"}, window(day, 5, 3),
            risk_domain="food",
            exclusion_policy=[{"reason": "INSPECTED_RECENTLY", "months": 12}],
        ),
        batch(
            "高风险食品销售者定向抽查", "DEMO-02",
            {"C": "20%", "D": "1/2"}, window(day, 7, 2),
            draw_mode="directed", scope={"risk_classes": ["C", "D"]}, team_size=3,
        ),
        batch(
            "特种设备使用单位跨部门联合检查", JOINT_ITEM,
            {"A": "3%", "B": "5%", "C": "20%", "D": "50%"}, window(day, 9, 3),
            # Each department sends its own city officers (B.11): its head office and stations,
            # not per county, as the partner department has no county bureaus.
            joint_kind="cross_department", participant_org_ids=[partner_org_id], team_size=3,
            selection_mode="hq_and_stations",
        ),
    ]  # fmt: skip


def window(day: date, month: int, months: int) -> tuple[date, date]:
    """The months from `month` on of `day`'s year, moved so that it does not start before
    `day`: a demo made late in the year still plans work ahead of it, within the year."""
    start = date(day.year, month, 1)
    end_month = month + months
    end = (
        date(day.year, end_month, 1) - timedelta(days=1) if end_month <= 12
        else date(day.year, 12, 31)
    )  # fmt: skip
    if start < day:
        start = day
        end = max(end, min(day + timedelta(days=30), date(day.year, 12, 31)))
    return start, end
