"""Issue 4: a draw's population count (item + region, by risk class) over 1M subjects, 8
concurrent clients on a warm registry — the kept counts (`method: index`) beside the same
questions answered by scanning the directory, in the same run.

Subjects are COPYed straight into the registry's tables (the push is measured elsewhere) and
classified the way the worker does it; that pass is a second figure, beside one plain UPDATE
of the same rows. Before anything is timed, index and scan answers must be equal.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
from rich.console import Console
from rich.progress import Progress
from stdnum.cn import uscc as stdnum_uscc

from bench.http_load import connections, target
from bench.results import Figure
from bench.stack import registry_api, throwaway_stack
from shuangsui.contracts.regions import RegionInfo, regions_within
from shuangsui.devstack.stack import Stack
from shuangsui.kernel.db import Database
from shuangsui.messaging.platform import new_unit_of_work
from shuangsui.registry.adapters.subjects import subjects as subjects_table
from shuangsui.registry.service.classification import (
    families_of,
    fold_counts,
    follow_items_in_force,
    run_pass_step,
)

console = Console(stderr=True)
Shape = Callable[[tuple[Any, ...]], tuple[Any, ...]]
BASE = "/api/v1/registry"
CLIENTS = 8
WARM_REQUESTS = 400
COPY_CHUNK = 50_000
AGENCY_CODE = "11330000002482150A1"
NOW = datetime(2025, 1, 1, tzinfo=UTC)

# (GB/T 4754 code, trade, licence type or None, weight): a county's register, roughly.
INDUSTRIES = [
    ("H6210", "餐饮", "食品经营许可证", 12), ("H6220", "快餐", "食品经营许可证", 5),
    ("F5221", "超市", "食品经营许可证", 7), ("F5274", "五金", None, 7), ("F5232", "服装", None, 6),
    ("F5251", "药店", "药品经营许可证", 3), ("F5123", "服装批发", None, 6),
    ("F5126", "食品批发", "食品经营许可证", 3), ("C1419", "糕点", "食品生产许可证", 2),
    ("C1391", "粮食加工", "食品生产许可证", 1), ("C1512", "酿酒", "食品生产许可证", 1),
    ("C3411", "锅炉", "特种设备生产许可证", 1), ("C3832", "电线电缆", "工业产品生产许可证", 1),
    ("H6110", "酒店", None, 3), ("O8010", "家政", None, 4), ("O8020", "美容美发", None, 6),
    ("I6513", "软件", None, 6), ("L7212", "商务咨询", None, 8), ("E4710", "建筑", None, 4),
    ("A0111", "种植", None, 3),
]  # fmt: skip
TYPES = [("enterprise", "1", 55), ("individual", "2", 40), ("cooperative", "3", 3),
         ("other", "9", 2)]  # fmt: skip
STATUSES = [("active", 90), ("cancelled", 5), ("revoked", 3), ("suspended", 2)]
GENERAL_CLASSES = ("ABCD", (40, 45, 11, 4))
FOOD_CLASSES = ("ABCD", (30, 50, 15, 5))
FOOD_LICENCES = {"食品经营许可证", "食品生产许可证"}

ALL_TYPES = ["enterprise", "individual", "cooperative", "other"]
TAG_RULES: list[dict[str, Any]] = [
    {"dimension": "format", "value": "餐饮服务", "when": {"industry_code_prefixes": ["H62"]}},
    {"dimension": "format", "value": "零售", "when": {"industry_code_prefixes": ["F52"]}},
    {"dimension": "format", "value": "批发", "when": {"industry_code_prefixes": ["F51"]}},
    {"dimension": "format", "value": "食品生产", "when": {"industry_code_prefixes": ["C13", "C14", "C15"]}},
    {"dimension": "format", "value": "住宿", "when": {"industry_code_prefixes": ["H61"]}},
    {"dimension": "format", "value": "居民服务", "when": {"industry_code_prefixes": ["O80"]}},
    {"dimension": "category", "value": "食品", "when": {"licence_types": sorted(FOOD_LICENCES)}},
    {"dimension": "category", "value": "药品", "when": {"licence_types": ["药品经营许可证"]}},
    {"dimension": "category", "value": "特种设备", "when": {"licence_types": ["特种设备生产许可证"]}},
    {"dimension": "category", "value": "工业产品", "when": {"licence_types": ["工业产品生产许可证"]}},
    {"dimension": "carrier", "value": "网络", "when": {"has_online_shop": True}},
    {"dimension": "carrier", "value": "实体", "when": {"has_online_shop": False}},
    {"dimension": "scale", "value": "小微", "when": {"capital_wan_max": "100"}},
    {"dimension": "scale", "value": "中型", "when": {"capital_wan_min": "100", "capital_wan_max": "1000"}},
    {"dimension": "scale", "value": "大型", "when": {"capital_wan_min": "1000"}},
]  # fmt: skip
# (name, subject types, tags): broad items, items of one 业态 or 品类, and combined ones.
ITEMS: list[tuple[str, list[str], list[str]]] = [
    *((f"{name}检查", ALL_TYPES, []) for name in (
        "登记事项", "年度报告公示信息", "即时公示信息", "广告发布", "价格行为", "计量器具使用",
        "商标使用", "反不正当竞争", "合同行为",
    )),
    *((f"{name}检查", ["enterprise"], []) for name in ("认缴出资", "企业名称使用", "法定代表人任职")),
    *((f"{name}检查", ["enterprise", "individual"], ["format:餐饮服务"]) for name in (
        "餐饮服务食品安全", "餐饮具清洗消毒", "食品添加剂使用", "餐厨废弃物处置",
    )),
    *((f"{name}检查", ["enterprise", "individual"], ["format:零售"]) for name in (
        "零售商品质量", "明码标价", "计量零售商品",
    )),
    *((f"{name}检查", ["enterprise"], ["format:批发"]) for name in ("批发市场", "进货查验")),
    *((f"{name}检查", ["enterprise"], ["format:食品生产"]) for name in (
        "食品生产许可条件", "食品出厂检验", "食品标签标识",
    )),
    ("住宿场所消防与卫生检查", ["enterprise", "individual"], ["format:住宿"]),
    ("居民服务收费检查", ALL_TYPES, ["format:居民服务"]),
    *((f"{name}检查", ALL_TYPES, ["category:食品"]) for name in ("食品经营许可", "食品安全追溯")),
    ("药品经营质量检查", ["enterprise", "individual"], ["category:药品"]),
    ("特种设备生产单位检查", ["enterprise"], ["category:特种设备"]),
    ("工业产品生产许可检查", ["enterprise"], ["category:工业产品"]),
    ("网络交易平台内经营者检查", ALL_TYPES, ["carrier:网络"]),
    ("网络订餐检查", ["enterprise", "individual"], ["format:餐饮服务", "carrier:网络"]),
    ("网络零售商品质量检查", ["enterprise", "individual"], ["format:零售", "carrier:网络"]),
    ("网络食品销售检查", ALL_TYPES, ["category:食品", "carrier:网络"]),
    ("实体餐饮油烟检查", ["enterprise", "individual"], ["format:餐饮服务", "carrier:实体"]),
    ("大型食品生产企业检查", ["enterprise"], ["format:食品生产", "scale:大型"]),
    ("小微零售食品检查", ["enterprise", "individual"], ["format:零售", "category:食品", "scale:小微"]),
    ("规模以上批发企业检查", ["enterprise"], ["format:批发", "scale:中型", "scale:大型"]),
    ("住宿业网络预订检查", ["enterprise"], ["format:住宿", "carrier:网络"]),
]  # fmt: skip

SCAN = """
SELECT coalesce(rc.risk_class, 'unclassified'), count(*) FROM subjects s
LEFT JOIN subject_risk_classes rc ON rc.uscc = s.uscc AND rc.domain = $1
WHERE s.status = 'active' AND s.item_keys @> ARRAY[$2::integer] AND s.region_code LIKE $3
GROUP BY 1
"""


@dataclass(frozen=True)
class Question:
    item_id: str
    item_key: int
    region_code: str
    region_prefix: str
    domain: str


def run(quick: bool) -> list[Figure]:
    size = 50_000 if quick else 1_000_000
    seconds = 5.0 if quick else 20.0
    with throwaway_stack("bench-count-") as stack, registry_api(stack) as url:
        return asyncio.run(_measure(stack, url, size, seconds))


async def _measure(stack: Stack, url: str, size: int, seconds: float) -> list[Figure]:
    label = f"{size // 1000:,}k" if size < 1_000_000 else f"{size // 1_000_000}M"
    dsn = stack.database_url("registry")
    counties = [r for r in regions_within("330000") if r.name != "市辖区"]
    await _load(dsn, size, counties)
    national = _auth(stack, "national_admin", "100000")
    admin = _auth(stack, "provincial_admin", "330000")
    async with httpx.AsyncClient(
        base_url=url, timeout=120, limits=httpx.Limits(max_connections=CLIENTS)
    ) as client:
        await _replace_rules(client, admin)
        item_ids = await _publish_items(client, national)
        update_rate, pass_rate = await _classify(stack, dsn, size)
        keys = await _item_keys(dsn, item_ids)
        questions = _questions(keys, counties, count=5_000)
        mismatches = await _check_equal(client, admin, dsn, questions[:40])
        # Warm: connections open, statements prepared, the counts' pages in memory. Not kept.
        await _load_index(url, admin, questions[-WARM_REQUESTS:], 0.0, WARM_REQUESTS)
        index = await _load_index(url, admin, questions, seconds)
    scan = await _load_scan(dsn, questions, seconds)
    for name, answered in (("index (HTTP)", index), ("scan (SQL)", scan)):
        console.print(
            f"[bold]{name}[/bold]: {len(answered.latencies):,} answers in "
            f"{answered.elapsed:.1f} s ({answered.rate:,.1f}/s), p50 {answered.p(50):.1f} ms, "
            f"p95 {answered.p(95):.1f} ms, p99 {answered.p(99):.1f} ms"
        )
    if mismatches:
        console.print(f"[bold red]{len(mismatches)} index/scan mismatch(es)[/bold red]")
        for line in mismatches:
            console.print(f"[red]{line}[/red]")
    return [
        Figure(
            f"registry: population count p95, {CLIENTS} clients, {label} subjects (index)",
            index.p(95), "ms", "the same mix as a SQL scan (asyncpg)", scan.p(95),
            higher_is_better=False,
        ),
        Figure(
            f"registry: population counts answered, {CLIENTS} clients, {label} subjects (index)",
            index.rate, "answers/s", "the same mix as a SQL scan (asyncpg)", scan.rate,
            higher_is_better=True,
        ),
        Figure(
            f"registry: re-classification pass, {label} subjects ({len(ITEMS)} items, "
            f"{len(TAG_RULES)} rules, counts folded)",
            pass_rate, "subjects/s", "one UPDATE … SET classification + 1", update_rate,
            higher_is_better=True,
        ),
    ]  # fmt: skip


def _auth(stack: Stack, role: str, region: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.issuer.token_for(roles=[role], region=region)}"}


# ---- the directory, COPYed in ---------------------------------------------------------------


async def _load(
    dsn: str, size: int, counties: list[RegionInfo], shape: Shape = lambda row: row
) -> None:
    """`shape` may change each subjects row before it is written (bench/registry_export.py
    gives the rows tags and items as the classification would)."""
    columns = [c.name for c in subjects_table.columns]
    conn = await asyncpg.connect(dsn)
    try:
        with Progress(console=console) as progress:
            task = progress.add_task(f"COPY {size:,} subjects", total=size)
            rows = _subject_rows(size, counties)
            for start in range(0, size, COPY_CHUNK):
                chunk = [next(rows) for _ in range(min(COPY_CHUNK, size - start))]
                await conn.copy_records_to_table(
                    "subjects", records=[shape(r) for r, _ in chunk], columns=columns
                )
                await conn.copy_records_to_table(
                    "subject_risk_classes",
                    records=[c for _, classes in chunk for c in classes],
                    columns=["uscc", "domain", "risk_class", "source", "as_of", "updated_at"],
                )
                progress.advance(task, len(chunk))
        await conn.execute("VACUUM ANALYZE subjects, subject_risk_classes")
    finally:
        await conn.close()


def _subject_rows(
    size: int, counties: list[RegionInfo]
) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """(subjects row in table order, its risk-class rows), deterministic for a given size."""
    rng = random.Random(4)
    # Counties differ a lot in size: a city district holds many times a mountain county's firms.
    county_weights = [rng.lognormvariate(0, 0.8) for _ in counties]
    industry_weights = [w for *_, w in INDUSTRIES]
    type_weights = [w for *_, w in TYPES]
    status_weights = [w for _, w in STATUSES]
    for number in range(size):
        county = rng.choices(counties, county_weights)[0].code
        industry, trade, licence, _ = rng.choices(INDUSTRIES, industry_weights)[0]
        kind, type_digit, _ = rng.choices(TYPES, type_weights)[0]
        status = rng.choices(STATUSES, status_weights)[0][0]
        body = f"9{type_digit}{county}MA{number:07d}"
        uscc = body + stdnum_uscc.calc_check_digit(body)
        capital = None if kind == "individual" else round(rng.lognormvariate(4, 1.5), 2)
        licences = (
            [{"type": licence, "number": f"JY{number:014d}", "valid_until": "2028-06-30"}]
            if licence and rng.random() < 0.85
            else []
        )
        online = rng.random() < (0.35 if industry.startswith("F52") else 0.1)
        row: tuple[Any, ...] = (
            uscc, uuid.UUID(int=rng.getrandbits(128), version=4), f"{county}{trade}{number}号",
            kind, status, county, f"测试路{number % 997}号", None, "张三", industry,
            f"{trade}；销售", json.dumps(licences, ensure_ascii=False),
            json.dumps([f"https://shop.example.cn/{number}"] if online else []),
            Decimal(str(capital)) if capital is not None else None, _band(capital),
            f"{county}-0{number % 5 + 1}", date(1995, 1, 1) + timedelta(days=rng.randrange(10_950)),
            None, "{}", "bench", NOW, f"{number:064x}", 1, NOW, [], [], 0,
        )  # fmt: skip
        classes = []
        if rng.random() < 0.95:
            classes.append(_class_row(rng, uscc, "general", GENERAL_CLASSES))
        if licence in FOOD_LICENCES and licences and rng.random() < 0.9:
            classes.append(_class_row(rng, uscc, "food", FOOD_CLASSES))
        yield row, classes


def _class_row(
    rng: random.Random, uscc: str, domain: str, weights: tuple[str, tuple[int, ...]]
) -> tuple[Any, ...]:
    return (uscc, domain, rng.choices(weights[0], weights[1])[0], "bench-credit", NOW, NOW)


def _band(capital: float | None) -> str:
    if capital is None or capital < 50:
        return "1-9"
    return "10-49" if capital < 500 else "50-299"


# ---- rules, items and the classification pass -------------------------------------------------


async def _replace_rules(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    etag = (await client.get(f"{BASE}/tag-rules", headers=admin)).headers["etag"]
    answer = await client.put(
        f"{BASE}/tag-rules",
        json={"rules": TAG_RULES, "note": "bench: 业态、品类、载体、规模"},
        headers={**admin, "If-Match": etag},
    )
    assert answer.status_code == 202, answer.text


async def _publish_items(client: httpx.AsyncClient, national: dict[str, str]) -> list[str]:
    draft = await client.post(
        f"{BASE}/item-lists",
        json={"level": "national", "effective_from": "2020-01-01"},
        headers=national,
    )
    assert draft.status_code == 201, draft.text
    list_id = draft.json()["list_id"]
    ids = []
    for number, (name, types, tags) in enumerate(ITEMS, start=1):
        body = {
            "code": f"BENCH-{number:03d}", "name": name, "business_line": "市场监管",
            "item_category": "key" if tags else "general", "responsible_department": "市场监管部门",
            "legal_basis": ["《市场监督管理行政执法责任制规定》"], "allowed_methods": ["on_site"],
            "iplus_item_code": f"113300000{number:05d}", "implementation_codes": [AGENCY_CODE],
            "subject_types": types, "subject_tags": tags,
        }  # fmt: skip
        added = await client.post(f"{BASE}/item-lists/{list_id}/items", json=body, headers=national)
        assert added.status_code == 201, added.text
        ids.append(str(added.json()["item_id"]))
    etag = (await client.get(f"{BASE}/item-lists/{list_id}", headers=national)).headers["etag"]
    published = await client.post(
        f"{BASE}/item-lists/{list_id}:publish", headers={**national, "If-Match": etag}
    )
    assert published.status_code == 200, published.text
    return ids


async def _classify(stack: Stack, dsn: str, size: int) -> tuple[float, float]:
    """(plain UPDATE rows/s, re-classification subjects/s) over the same rows."""
    url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    database = Database(url)
    conn = await asyncpg.connect(dsn)
    try:

        def new_uow() -> Any:
            return new_unit_of_work(database, "p33", "registry")

        version = await follow_items_in_force(new_uow(), families_of("33"), date.today())
        assert version is not None, "the published items should start a classification"
        console.print("baseline: one UPDATE of every subject …")
        started = time.perf_counter()
        # Still behind the new classification afterwards (0 → 1 < version), so the pass meets
        # every row.
        await conn.execute("UPDATE subjects SET classification = classification + 1")
        update_rate = size / (time.perf_counter() - started)
        await conn.execute("VACUUM ANALYZE subjects")

        started = time.perf_counter()
        with Progress(console=console) as progress:
            task = progress.add_task(f"re-classifying (classification {version})", total=size)
            while await run_pass_step(new_uow()):
                done = await conn.fetchval(
                    "SELECT done FROM classifications WHERE version = $1", version
                )
                progress.update(task, completed=done)
            await run_pass_step(new_uow())  # the closing step marks the pass done
            await fold_counts(new_uow())
        pass_rate = size / (time.perf_counter() - started)
        status = await conn.fetchval(
            "SELECT status FROM classifications WHERE version = $1", version
        )
        assert status == "done", f"classification {version} is {status}"
        counts = await conn.fetchval("SELECT count(*) FROM population_counts")
        console.print(f"population_counts: {counts:,} rows")
        await conn.execute(
            "VACUUM ANALYZE subjects, population_counts, population_totals, population_deltas"
        )
    finally:
        await conn.close()
        await database.stop()
    return update_rate, pass_rate


async def _item_keys(dsn: str, item_ids: list[str]) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT item_id::text, item_key FROM index_items")
    finally:
        await conn.close()
    keys = {r["item_id"]: r["item_key"] for r in rows}
    return {item_id: keys[item_id] for item_id in item_ids}


# ---- the questions and the two ways of answering them ---------------------------------------


def _questions(keys: dict[str, int], counties: list[RegionInfo], count: int) -> list[Question]:
    """Mostly a county's station asking, sometimes a city, now and then the province."""
    rng = random.Random(44)
    cities = regions_within("330000", "city")
    items = sorted(keys.items())
    out = []
    for _ in range(count):
        item_id, key = rng.choice(items)
        level = rng.random()
        region = rng.choice(counties if level < 0.75 else cities).code if level < 0.95 else "330000"
        prefix = region if level < 0.75 else region[:4] if level < 0.95 else region[:2]
        domain = "general" if rng.random() < 0.85 else "food"
        out.append(Question(item_id, key, region, prefix, domain))
    return out


@dataclass
class Run:
    latencies: list[float]
    elapsed: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed

    def p(self, percent: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[percent - 1]


async def _ask_index(
    client: httpx.AsyncClient, auth: dict[str, str], q: Question
) -> dict[str, int]:
    answer = await client.get(
        f"{BASE}/population:count",
        params={"item_id": q.item_id, "region_code": q.region_code, "domain": q.domain},
        headers=auth,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["method"] == "index", f"{q} was answered by {body['method']}"
    found: dict[str, int] = body["by_risk_class"]
    return found


async def _ask_scan(conn: asyncpg.Connection, q: Question) -> dict[str, int]:
    rows = await conn.fetch(SCAN, q.domain, q.item_key, q.region_prefix + "%")
    found = dict.fromkeys(("A", "B", "C", "D", "unclassified"), 0)
    found.update({r[0]: r[1] for r in rows})
    return found


async def _check_equal(
    client: httpx.AsyncClient, auth: dict[str, str], dsn: str, questions: list[Question]
) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        wrong = []
        for q in questions:
            index, scan = await _ask_index(client, auth, q), await _ask_scan(conn, q)
            if index != scan:
                wrong.append(f"{q}: index {index} ≠ scan {scan}")
    finally:
        await conn.close()
    console.print(f"checked {len(questions)} questions: {len(wrong)} index/scan mismatch(es)")
    return wrong


async def _load_index(
    url: str,
    auth: dict[str, str],
    questions: list[Question],
    seconds: float,
    at_least: int = 0,
) -> Run:
    async with connections(url, CLIENTS) as pool:

        async def ask(q: Question) -> None:
            connection = await pool.get()
            try:
                params = {"item_id": q.item_id, "region_code": q.region_code, "domain": q.domain}
                status, body = await connection.get(
                    target(f"{BASE}/population:count", params), auth
                )
            finally:
                pool.put_nowait(connection)
            assert status == 200, body
            assert body["method"] == "index", f"{q} was answered by {body['method']}"

        return await _closed_loop(ask, questions, seconds, at_least)


async def _load_scan(dsn: str, questions: list[Question], seconds: float) -> Run:
    pool = await asyncpg.create_pool(dsn, min_size=CLIENTS, max_size=CLIENTS)
    try:

        async def ask(q: Question) -> None:
            async with pool.acquire() as conn:
                await _ask_scan(conn, q)

        await _closed_loop(ask, questions[:CLIENTS], 0.0)  # one round to open every connection
        return await _closed_loop(ask, questions, seconds)
    finally:
        await pool.close()


async def _closed_loop(
    ask: Any, questions: list[Question], seconds: float, at_least: int = 0
) -> Run:
    """CLIENTS clients, each asking its next question as soon as the last is answered, until
    `seconds` have passed and `at_least` questions were asked (every client asks once at
    least). All share one walk through the questions, so the index and the scan meet the same
    mix in the same order."""
    latencies: list[float] = []
    cursor = iter(range(10**9))
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        while True:
            asked = next(cursor)
            q = questions[asked % len(questions)]
            started = time.perf_counter()
            await ask(q)
            latencies.append((time.perf_counter() - started) * 1000)
            if time.perf_counter() >= deadline and asked + 1 >= at_least:
                return

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return Run(latencies, time.perf_counter() - started)
