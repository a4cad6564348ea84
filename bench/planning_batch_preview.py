"""Issue 12: a batch's preview (批次抽取预览) beside the bare `registry_population_count` calls
it makes, in the same run (target: preview p99 ≤ 1.3 × the bare calls' p99).

A demo-province-sized directory (the demo's 20,000 subjects; 200,000 in the full run) is COPYed
into the registry and classified as bench/registry_count.py does, with its items. Two batches of
the kind the demo plans: an internal joint batch of two items over three districts (six kept
counts, `method: index`) and a directed one of enterprises in two districts (two scans). One
client, one question at a time, the preview and its bare calls taking turns so that both meet
the same warm registry.

What is timed as the preview is `preview_batch`, the function `planning_batches_preview`
answers with, calling the registry over HTTP with planning's own service client and
credentials; the bare calls are the same questions sent by a plain httpx client, as many at
a time as the preview sends them.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

import httpx

from bench.registry_count import _auth, _classify, _load, _publish_items, _replace_rules
from bench.results import Figure
from bench.stack import console, registry_api, throwaway_stack
from shuangsui.contracts.regions import regions_within
from shuangsui.devstack.pytest_plugin import environment
from shuangsui.devstack.stack import Stack
from shuangsui.kernel.service_client import ServiceClient
from shuangsui.kernel.settings import load_settings
from shuangsui.planning.adapters.population import COUNT_PATH
from shuangsui.planning.domain.batch_preview import count_queries
from shuangsui.planning.domain.batches import (
    BatchDraft,
    DrawMode,
    Method,
    Scope,
    SelectionMode,
)
from shuangsui.planning.service.batches_preview import CONCURRENT_COUNTS, preview_batch
from shuangsui.planning.settings import SERVICE, Settings

DISTRICTS = ("330106", "330108", "330110")  # 西湖区, 滨江区, 余杭区
QUANTITY = {"A": "3%", "B": "5%", "C": "10%", "D": "20%"}


@dataclass(frozen=True)
class Shape:
    name: str
    draft: BatchDraft


def _shapes(item_ids: list[str]) -> list[Shape]:
    registration, restaurants = UUID(item_ids[0]), UUID(item_ids[12])  # bench ITEMS 1 and 13
    base = BatchDraft(
        name="2026年第一批双随机抽查", item_ids=(registration, restaurants),
        scope=Scope(region_codes=DISTRICTS), quantity=QUANTITY,
        window_start=date(2026, 4, 1), window_end=date(2026, 6, 30),
        methods=(Method.on_site,), selection_mode=SelectionMode.bureau_wide,
    )  # fmt: skip
    directed = replace(
        base, item_ids=(registration,), draw_mode=DrawMode.directed,
        scope=Scope(region_codes=DISTRICTS[:2], subject_types=("enterprise",)),
    )  # fmt: skip
    return [
        Shape("2 items × 3 districts, 6 kept counts", base),
        Shape("directed, 1 item × 2 districts, enterprises, 2 scans", directed),
    ]


def run(quick: bool) -> list[Figure]:
    size = 20_000 if quick else 200_000
    rounds = 150 if quick else 1_500
    with throwaway_stack("bench-preview-") as stack, registry_api(stack) as url:
        return asyncio.run(_measure(stack, url, size, rounds))


async def _measure(stack: Stack, url: str, size: int, rounds: int) -> list[Figure]:
    dsn = stack.database_url("registry")
    counties = [r for r in regions_within("330000") if r.name != "市辖区"]
    await _load(dsn, size, counties)
    national = _auth(stack, "national_admin", "100000")
    admin = _auth(stack, "provincial_admin", "330000")
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        await _replace_rules(client, admin)
        item_ids = await _publish_items(client, national)
    await _classify(stack, dsn, size)
    with environment(stack.service_env("planning")):
        settings = load_settings(Settings, SERVICE)
    registry = ServiceClient.from_settings(settings, SERVICE, "registry", url)
    figures: list[Figure] = []
    async with httpx.AsyncClient(base_url=url, timeout=60) as bare:
        try:
            for shape in _shapes(item_ids):
                figures += await _compare(shape, registry, bare, admin, rounds)
        finally:
            await registry.stop()
    return figures


async def _compare(
    shape: Shape,
    registry: ServiceClient,
    bare: httpx.AsyncClient,
    auth: dict[str, str],
    rounds: int,
) -> list[Figure]:
    window = asyncio.Semaphore(CONCURRENT_COUNTS)
    questions = [
        [
            ("item_id", str(q.item_id)), ("region_code", q.region_code), ("domain", q.domain),
            *(("tag", t) for t in q.tags),
            *((("subject_type", q.subject_type),) if q.subject_type else ()),
            *((("industry_code", q.industry_code),) if q.industry_code else ()),
        ]
        for q in count_queries(shape.draft)
    ]  # fmt: skip

    async def ask(params: list[tuple[str, str]]) -> None:
        async with window:
            answer = await bare.get(COUNT_PATH, params=params, headers=auth)
        assert answer.status_code == 200, answer.text
        answer.json()

    async def bare_calls() -> None:
        await asyncio.gather(*(ask(p) for p in questions))

    async def preview() -> None:
        await preview_batch(registry, shape.draft)

    found = await preview_batch(registry, shape.draft)
    console.print(
        f"[bold]{shape.name}[/bold]: {len(found.counts)} counts, method {found.method}, "
        f"population {found.population_min:,}–{found.population_max:,}, expected sample "
        f"{found.expected_sample_min}–{found.expected_sample_max}"
    )
    # Warm: connections open, tokens minted, statements prepared. Not kept.
    await _turns(preview, bare_calls, max(20, rounds // 10))
    previews, bares = await _turns(preview, bare_calls, rounds)
    for name, times in (("preview", previews), ("bare calls", bares)):
        console.print(f"  {name}: p50 {_p(times, 50):.2f} ms, p99 {_p(times, 99):.2f} ms")
    baseline = f"its {len(questions)} bare registry_population_count calls"
    return [
        Figure(
            f"planning: batch preview p{percent}, {shape.name}", _p(previews, percent), "ms",
            baseline, _p(bares, percent), higher_is_better=False,
        )
        for percent in (50, 99)
    ]  # fmt: skip


async def _turns(
    first: Callable[[], Awaitable[None]], second: Callable[[], Awaitable[None]], rounds: int
) -> tuple[list[float], list[float]]:
    """Each round times both, in a random order, so neither always meets the warmer registry."""
    rng = random.Random(12)
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        order = [0, 1] if rng.random() < 0.5 else [1, 0]
        for which in order:
            started = time.perf_counter()
            await (first, second)[which]()
            times[which].append((time.perf_counter() - started) * 1000)
    return times


def _p(latencies: list[float], percent: int) -> float:
    return statistics.quantiles(latencies, n=100, method="inclusive")[percent - 1]
