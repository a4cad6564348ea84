"""A synthetic province for `make run`: deterministic, Chinese names and addresses (faker zh_CN).

It is pushed through the gateway exactly as a registration system would push it, so the demo
exercises the real path. Pushing it again changes nothing (same content, same source time).
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
from faker import Faker
from rich.progress import Progress, TaskID
from stdnum.cn import uscc as stdnum_uscc

from shuangsui.contracts.regions import region_name, regions_within
from shuangsui.devstack.demo_catalogue import load_catalogue

SOURCE_TIME = "2025-01-01T00:00:00+08:00"
BATCH = 5000

# (GB/T 4754 code, what it is, licence type or None): a plausible mix for market supervision.
INDUSTRIES = [
    ("C1419", "食品", "food_production"), ("F5221", "超市", "food_business"),
    ("H6210", "餐饮", "food_business"), ("F5251", "药店", "drug_retail"),
    ("C3411", "锅炉", "special_equipment"), ("F5123", "服装", None), ("F5274", "五金", None),
    ("C2710", "制药", "drug_production"), ("I6513", "软件", None), ("O8010", "美容美发", None),
]  # fmt: skip
TYPES = [
    ("enterprise", "1", 55),
    ("individual", "2", 40),
    ("cooperative", "3", 3),
    ("other", "9", 2),
]
POSITIONS = ["科员", "副所长", "所长", "执法队员", "副科长"]
QUALIFICATIONS = [
    "food_safety",
    "drug_inspection",
    "special_equipment",
    "industrial_product",
    "pricing",
]
SPECIALTIES = ["食品", "药品", "特种设备", "工业产品", "网络交易", "广告"]
STATUSES = [("active", 90), ("cancelled", 5), ("revoked", 3), ("suspended", 2)]
MARKET_SUPERVISION = "market_supervision"
PARTNER_DEPARTMENT = "emergency_management"  # 应急管理: the demo's joint-inspection partner
# Officers of each county of the demo plan's city and of its partner department, beyond the
# random ones: enough for a team in every station's county and every department (R18).
PLANNING_CITY_STAFF = 6
PARTNER_STAFF = 6
STAFF_CERTS_UNTIL = "2031-12-31"
STAFF_QUALIFICATIONS = {"food_safety", "special_equipment"}

# The credit classification system (信用风险分类) as of one fixed moment, so a second push of
# the same classes changes nothing.
CLASSIFIED_AT = "2025-01-15T00:00:00+08:00"
CLASSIFIER = "demo-credit"
YOUNG_SINCE = "2022-01-15"  # less than three years in business when classified
UNCLASSIFIED = 0.05  # subjects the classifier has not reached yet
# Weights of A, B, C, D before a subject's own factors: those factors lower the A share more
# often than they raise it, so these bases make a province of about A 40 %, B 45 %, C 11 %, D 4 %.
GENERAL_CLASS_WEIGHTS = (43.0, 45.0, 9.5, 3.2)
# Food safety classification (食品安全风险分级) is stricter than the general one.
FOOD_CLASS_WEIGHTS = (30.0, 50.0, 15.0, 5.0)
FOOD_LICENCES = {"food_production", "food_business"}


@dataclass(frozen=True)
class DemoProvince:
    province: str = "33"
    subjects: int = 20_000
    inspectors: int = 300
    seed: int = 2025

    def subject_rows(self) -> Iterator[dict[str, Any]]:
        fake = Faker("zh_CN")
        fake.seed_instance(self.seed)
        rng = random.Random(self.seed)
        counties = [r for r in regions_within(f"{self.province}0000") if r.name != "市辖区"]
        province_name = region_name(f"{self.province}0000")
        for number in range(self.subjects):
            county = rng.choice(counties)
            kind, type_digit = _weighted(rng, [(t[0], t[1]) for t in TYPES], [t[2] for t in TYPES])
            industry, trade, licence = rng.choice(INDUSTRIES)
            body = f"9{type_digit}{county.code}MA{number:07d}"
            capital = round(rng.lognormvariate(4, 1.5), 2) if kind != "individual" else None
            yield {
                "uscc": body + stdnum_uscc.calc_check_digit(body),
                "name": _name(fake, kind, county.name, trade),
                "subject_type": kind,
                "status": _weighted(rng, [s[0] for s in STATUSES], [s[1] for s in STATUSES]),
                "region_code": county.code,
                "registered_address": f"{province_name}{county.name}{fake.street_name()}{rng.randint(1, 999)}号",
                "legal_representative": fake.name(),
                "industry_code": industry,
                "licences": [_licence(rng, licence, number)] if licence else [],
                "online_shops": [f"https://shop.example.cn/{number}"]
                if rng.random() < 0.15
                else [],
                "registered_capital_wan": str(capital) if capital is not None else None,
                "employee_band": _band(capital),
                "unit_code": f"{county.code}-{rng.randint(1, 5):02d}",
                "registered_on": (
                    date(1995, 1, 1) + timedelta(days=rng.randint(0, 10_950))
                ).isoformat(),
                "source": "demo-aic",
                "source_updated_at": SOURCE_TIME,
            }

    def inspector_rows(self) -> Iterator[dict[str, str]]:
        """Officers of the county bureaus (局) and their stations (所): a mixed pool (R16)."""
        fake = Faker("zh_CN")
        fake.seed_instance(self.seed + 1)
        rng = random.Random(self.seed + 1)
        counties = [r for r in regions_within(f"{self.province}0000") if r.name != "市辖区"]
        for number in range(self.inspectors):
            county = rng.choice(counties)
            at_station = rng.random() < 0.7
            yield {
                "name": fake.name(),
                "unit_code": f"{county.code}-AMR",
                "region_code": county.code,
                "station_code": f"{county.code}-{rng.randint(1, 5):02d}" if at_station else "",
                "department_type": MARKET_SUPERVISION,
                "position": rng.choice(POSITIONS),
                "cert_no": f"{self.province}{number:08d}",
                "cert_valid_until": (
                    date(2026, 6, 1) + timedelta(days=rng.randint(0, 1800))
                ).isoformat(),
                "qualifications": ";".join(sorted(rng.sample(QUALIFICATIONS, k=rng.randint(1, 3)))),
                "specialties": ";".join(sorted(rng.sample(SPECIALTIES, k=rng.randint(1, 2)))),
            }
        yield from self._planning_city_officers(fake, self.inspectors)

    def _planning_city_officers(self, fake: Faker, first: int) -> Iterator[dict[str, str]]:
        """The demo plan's city draws a team per subject in every county (B.10) and one per
        department of its joint batch (B.11): each of its counties gets a staffed bureau, the city
        bureau's head office and the partner department officers of their own, so every demo
        batch can be drawn."""
        if self.planning_city is None:
            return
        city, _ = self.planning_city
        counties = [r for r in regions_within(city) if r.name != "市辖区"]
        ms = MARKET_SUPERVISION
        staff = [(f"{c.code}-AMR", c.code, f"{c.code}-{n % 5 + 1:02d}" if n else "", ms)
                 for c in counties for n in range(PLANNING_CITY_STAFF)]  # fmt: skip
        # The city bureau's own head office draws the joint batch's lead teams (B.11), the
        # partner department its own (officers of its department type, R20).
        staff += [(f"{city}-AMR", city, "", ms)] * PLANNING_CITY_STAFF
        staff += [(partner_code(city), city, "", PARTNER_DEPARTMENT)] * PARTNER_STAFF
        for number, (unit, region, station, department) in enumerate(staff, start=first):
            yield {
                "name": fake.name(),
                "unit_code": unit,
                "region_code": region,
                "station_code": station,
                "department_type": department,
                "position": POSITIONS[number % len(POSITIONS)],
                "cert_no": f"{self.province}{number:08d}",
                "cert_valid_until": STAFF_CERTS_UNTIL,
                # Every officer can lead the demo's food and special-equipment batches.
                "qualifications": ";".join(
                    sorted(STAFF_QUALIFICATIONS | {QUALIFICATIONS[number % 5]})
                ),
                "specialties": SPECIALTIES[number % len(SPECIALTIES)],
            }

    def risk_class_rows(self) -> Iterator[dict[str, str]]:
        """Credit risk classes of the demo subjects, as the classification system pushes them:
        a `general` class for about 95 % of subjects, and a `food` class for food licensees."""
        rng = random.Random(f"{self.seed}/risk-classes")
        for subject in self.subject_rows():
            general = None
            if rng.random() >= UNCLASSIFIED:
                general = _risk_class(rng, GENERAL_CLASS_WEIGHTS, subject)
                yield _classification(subject["uscc"], general, "general")
            if any(licence["type"] in FOOD_LICENCES for licence in subject["licences"]):
                # Both classes weigh the same credit record, so they mostly agree.
                if general is not None and rng.random() < 0.6:
                    food = general
                else:
                    food = _risk_class(rng, FOOD_CLASS_WEIGHTS, subject)
                yield _classification(subject["uscc"], food, "food")

    def org_rows(self) -> Iterator[dict[str, str]]:
        """The province's market-supervision bureaus (局) down to the counties, and five stations
        (所) under each county bureau: the codes the subjects' `unit_code` and the inspectors'
        `unit_code` / `station_code` name. Parents come before their children."""
        top = f"{self.province}0000"
        province_name = region_name(top)
        yield _org(f"{top}-AMR", f"{province_name}市场监督管理局", "provincial", top, None)
        counties = [r for r in regions_within(top) if r.name != "市辖区"]
        cities = _cities(self.province)
        for code, name in cities.items():
            yield _org(f"{code}-AMR", f"{name}市场监督管理局", "city", code, f"{top}-AMR")
        if self.planning_city is not None:
            # A department of another type for the demo plan's joint inspection (R20): the
            # city's emergency management bureau, an org of its own with no parent here.
            code, name = self.planning_city
            yield _org(partner_code(code), f"{name}应急管理局", "city", code, None,
                       PARTNER_DEPARTMENT)  # fmt: skip
        for county in counties:
            city_code = county.code[:4] + "00"
            parent = f"{city_code}-AMR" if city_code in cities else f"{top}-AMR"
            bureau = f"{cities.get(city_code, province_name)}{county.name}市场监督管理局"
            yield _org(f"{county.code}-AMR", bureau, "county", county.code, parent)
            for number, numeral in enumerate("一二三四五", start=1):
                station = f"{county.name}市场监督管理局第{numeral}市场监管所"
                code = f"{county.code}-{number:02d}"
                yield _org(code, station, "station", county.code, f"{county.code}-AMR")

    @property
    def planning_city(self) -> tuple[str, str] | None:
        """(region code, name) of the city whose bureau makes the demo's annual plan: the
        province's first city with a bureau, or None for a province without one."""
        return next(iter(_cities(self.province).items()), None)


def _cities(province: str) -> dict[str, str]:
    """The province's cities that have a bureau of their own, code to name, in code order.

    Municipalities' "市辖区" and provinces' "省直辖县级行政单位" are groupings, not cities with
    a bureau: their counties report to the province bureau directly."""
    top = f"{province}0000"
    counties = [r for r in regions_within(top) if r.name != "市辖区"]
    with_counties = {county.code[:4] + "00" for county in counties}
    return {
        city.code: city.name
        for city in regions_within(top, "city")
        if city.code in with_counties and city.name not in ("市辖区", "县")
        and "直辖" not in city.name
    }  # fmt: skip


def partner_code(city_code: str) -> str:
    """The unit code of the demo's partner department in `city_code` (应急管理局)."""
    return f"{city_code}-YJGL"


def push_demo(
    gateway: str,
    token: str,
    demo: DemoProvince,
    *,
    national_token: str | None = None,
    admin_token: str | None = None,
) -> dict[str, int]:
    """Import the demo orgs, publish the item list and tag rules (given the tokens to), then push
    the subjects and their risk classes in batches, with a progress bar; the summed counts of
    the subjects, how many classes were taken and refused, and how many orgs and inspectors the
    registry holds."""
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/x-ndjson"}
    with httpx.Client(base_url=gateway, timeout=300) as client, Progress() as progress:
        # Subjects and inspectors name their stations and bureaus by these orgs' codes.
        orgs = list(demo.org_rows())
        task = progress.add_task("demo organisations (组织机构)", total=len(orgs))
        org_report = _import_sheet(client, token, "/api/v1/registry/orgs:import", orgs)
        progress.advance(task, len(orgs))
        # Items and rules first, so each subject is tagged and indexed as it arrives.
        catalogue = (
            load_catalogue(client, national_token, admin_token)
            if national_token and admin_token
            else {}
        )
        task = progress.add_task("demo subjects (检查对象)", total=demo.subjects)
        totals = _push_batches(
            client, headers, "/api/v1/registry/subjects:bulk", demo.subject_rows(), progress, task
        )
        # Classes name subjects, so they can only follow them.
        task = progress.add_task("demo risk classes (信用风险分类)", total=None)
        classes = _push_batches(
            client, headers, "/api/v1/registry/risk-classes:bulk", demo.risk_class_rows(),
            progress, task,
        )  # fmt: skip
        totals["risk_classes"] = classes["created"] + classes["updated"] + classes["unchanged"]
        totals["risk_classes_rejected"] = classes["rejected"]
        if demo.inspectors:
            task = progress.add_task("demo inspectors (执法检查人员)", total=demo.inspectors)
            report = _import_inspectors(client, token, demo)
            totals["inspectors"] = report["created"] + report["updated"] + report["unchanged"]
            progress.advance(task, demo.inspectors)
    totals["orgs"] = org_report["created"] + org_report["updated"] + org_report["unchanged"]
    return {**totals, **catalogue}


def _push_batches(
    client: httpx.Client,
    headers: dict[str, str],
    path: str,
    rows: Iterator[dict[str, Any]],
    progress: Progress,
    task: TaskID,
) -> dict[str, int]:
    """NDJSON batches in per-row mode, as a provincial system pushes them; the summed counts."""
    totals = {"received": 0, "created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    while batch := [row for _, row in zip(range(BATCH), rows, strict=False)]:
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in batch).encode()
        answer = client.post(f"{path}?mode=per_row", content=body, headers=headers)
        answer.raise_for_status()
        report = answer.json()
        for key in totals:
            totals[key] += report[key]
        progress.advance(task, len(batch))
    return totals


def _import_inspectors(client: httpx.Client, token: str, demo: DemoProvince) -> dict[str, int]:
    rows = list(demo.inspector_rows())
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    answer = client.post(
        "/api/v1/registry/inspectors:import?mode=per_row",
        content=text.getvalue().encode(),
        headers={"Authorization": f"Bearer {token}", "content-type": "text/csv"},
    )
    answer.raise_for_status()
    report: dict[str, int] = answer.json()
    return report


def _import_sheet(
    client: httpx.Client, token: str, path: str, rows: list[dict[str, str]]
) -> dict[str, int]:
    """One CSV sheet, all or nothing: a demo row the registry refuses is a bug of the demo."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    answer = client.post(
        path,
        content=text.getvalue().encode(),
        headers={"Authorization": f"Bearer {token}", "content-type": "text/csv"},
    )
    answer.raise_for_status()
    report: dict[str, int] = answer.json()
    return report


def _org(
    code: str, name: str, level: str, region: str, parent: str | None,
    department_type: str = MARKET_SUPERVISION,
) -> dict[str, str]:  # fmt: skip
    # Every bureau is its own head office (局机关); stations never are.
    is_hq = "false" if level == "station" else "true"
    return {"code": code, "name": name, "level": level, "region_code": region,
            "parent_code": parent or "", "department_type": department_type,
            "is_hq": is_hq}  # fmt: skip


def _weighted(rng: random.Random, values: list[Any], weights: list[int]) -> Any:
    return rng.choices(values, weights=weights, k=1)[0]


def _name(fake: Faker, kind: str, county: str, trade: str) -> str:
    if kind == "individual":
        return f"{county}{fake.last_name()}记{trade}店"
    if kind == "cooperative":
        return f"{county}{fake.company_prefix()}农民专业合作社"
    return f"{fake.company_prefix()}{trade}有限公司"


def _licence(rng: random.Random, kind: str, number: int) -> dict[str, str]:
    valid_until = date(2026, 1, 1) + timedelta(days=rng.randint(0, 1500))
    return {"type": kind, "number": f"SC{number:014d}", "valid_until": valid_until.isoformat()}


def _risk_class(
    rng: random.Random, weights: tuple[float, float, float, float], subject: dict[str, Any]
) -> str:
    """A class drawn from `weights` (A, B, C, D), shifted by what classifiers weigh: a revoked or
    suspended business (吊销, 停业) and a short record count against it, scale for it."""
    a, b, c, d = weights
    if subject["status"] in ("revoked", "suspended"):
        a, c, d = a * 0.2, c * 3, d * 6
    if subject["registered_on"] >= YOUNG_SINCE:
        a, c, d = a * 0.6, c * 1.6, d * 1.6
    capital = subject["registered_capital_wan"]
    if capital is not None and float(capital) >= 500:  # 万元
        a, c, d = a * 1.6, c * 0.5, d * 0.3
    chosen: str = rng.choices("ABCD", weights=(a, b, c, d))[0]
    return chosen


def _classification(uscc: str, risk_class: str, domain: str) -> dict[str, str]:
    return {
        "uscc": uscc,
        "risk_class": risk_class,
        "domain": domain,
        "source": CLASSIFIER,
        "as_of": CLASSIFIED_AT,
    }


def _band(capital: float | None) -> str:
    if capital is None or capital < 50:
        return "1-9"
    if capital < 500:
        return "10-49"
    return "50-299" if capital < 5000 else "300+"
