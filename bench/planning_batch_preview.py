"""Issue 12: a batch's preview (批次抽取预览) beside the bare `registry_population_count` calls
it makes, in the same run (target: preview p99 ≤ 1.3 × the bare calls' p99).

The platform runs as `make run` runs it (every service and worker, on free ports) with the demo
province loaded through the gateway (20,000 subjects; 5,000 in the quick run), so the counts are
the registry's own, kept by its worker. Two batches of the kind the demo plans: an internal
joint batch of two food items over three districts (six kept counts, `method: index`) and a
directed one of online traders, enterprises only, in two districts (two scans). One client,
one question at a time, the preview and its bare calls taking turns in a random order so that
both meet the same warm registry.

What is timed as the preview is `preview_batch`, the function `planning_batches_preview`
answers with, calling the registry over HTTP with planning's own service client and
credentials; the bare calls are the same questions sent by a plain httpx client, as many at
a time as the preview sends them.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from uuid import UUID

import httpx

from bench.registry_count import _auth
from bench.results import Figure
from bench.stack import console
from shuangsui.devstack.config import SERVICES, StackSettings
from shuangsui.devstack.ports import free_port
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
# The demo catalogue's items (devstack/demo_catalogue.py): food sales and catering, which need
# one qualification (B.5), and online trade.
FOOD_SALES, CATERING, ONLINE = "DEMO-02", "DEMO-03", "DEMO-09"
SETTLE_SECONDS = 300


@dataclass(frozen=True)
class Shape:
    name: str
    draft: BatchDraft


def run(quick: bool) -> list[Figure]:
    subjects = 5_000 if quick else 20_000
    rounds = 150 if quick else 1_500
    with demo_platform(subjects) as stack:
        return asyncio.run(_measure(stack, rounds))


@contextmanager
def demo_platform(subjects: int) -> Iterator[Stack]:
    """`make run` on free ports in a throw-away directory: every process, the demo loaded."""
    from shuangsui.cli.dev import _load_demo  # the demo exactly as `make run` loads it

    with tempfile.TemporaryDirectory(prefix="bench-preview-") as tmp:
        ports = {f"{name}_port": free_port() for name in (*SERVICES, "gateway", "pg", "nats")}
        settings = StackSettings.model_validate(
            {"data_dir": Path(tmp) / ".data", "durable": True, "demo_subjects": subjects,
             "demo_inspectors": 0, **ports}
        )  # fmt: skip
        stack = Stack(settings, say=lambda m: console.print(m))
        try:
            stack.start_infrastructure()
            stack.migrate()
            stack.start_processes()
            stack.wait_ready(120)
            _load_demo(settings, stack)
            yield stack
        finally:
            stack.stop()


async def _measure(stack: Stack, rounds: int) -> list[Figure]:
    admin = _auth(stack, "provincial_admin", "330000")
    registry_url = stack.settings.url_of("registry")
    planning_url = stack.settings.url_of("planning")
    async with httpx.AsyncClient(base_url=registry_url, timeout=60) as bare:
        items = await _items_in_force(planning_url, admin)
        shapes = _shapes(items)
        for shape in shapes:
            await _settled(bare, admin, shape.draft)
        with environment(stack.service_env("planning")):
            settings = load_settings(Settings, SERVICE)
        registry = ServiceClient.from_settings(settings, SERVICE, "registry", registry_url)
        figures: list[Figure] = []
        try:
            for shape in shapes:
                figures += await _compare(shape, registry, bare, admin, rounds)
        finally:
            await registry.stop()
    return figures


def _shapes(items: dict[str, UUID]) -> list[Shape]:
    joint = BatchDraft(
        name="2026年食品经营单位双随机抽查", item_ids=(items[FOOD_SALES], items[CATERING]),
        scope=Scope(region_codes=DISTRICTS), quantity=QUANTITY,
        window_start=date(2026, 4, 1), window_end=date(2026, 6, 30),
        methods=(Method.on_site,), selection_mode=SelectionMode.bureau_wide,
    )  # fmt: skip
    directed = replace(
        joint, name="2026年网络交易企业定向抽查", item_ids=(items[ONLINE],),
        draw_mode=DrawMode.directed,
        scope=Scope(region_codes=DISTRICTS[:2], subject_types=("enterprise",)),
    )  # fmt: skip
    return [
        Shape("2 items × 3 districts, 6 kept counts", joint),
        Shape("directed, 1 item × 2 districts, enterprises, 2 scans", directed),
    ]


async def _items_in_force(planning_url: str, auth: dict[str, str]) -> dict[str, UUID]:
    """The demo items once planning's catalogue has them (from the registry's events)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    async with httpx.AsyncClient(base_url=planning_url, timeout=30) as planning:
        while True:
            answer = await planning.get(
                "/api/v1/planning/catalogue/items", params={"limit": 500}, headers=auth
            )
            if answer.status_code == 200:
                found = {i["code"]: UUID(i["item_id"]) for i in answer.json()["items"]}
                if {FOOD_SALES, CATERING, ONLINE} <= found.keys():
                    return found
            if time.monotonic() > deadline:
                raise RuntimeError(f"planning's catalogue lacks the demo items: {answer.text}")
            await asyncio.sleep(1)


async def _settled(bare: httpx.AsyncClient, auth: dict[str, str], draft: BatchDraft) -> None:
    """Wait until the registry's worker has indexed the items and folded the pushed subjects'
    counts: two answers a few seconds apart agree, and no re-classification is running."""
    deadline = time.monotonic() + SETTLE_SECONDS
    last = None
    while True:
        answers = [await bare.get(COUNT_PATH, params=p, headers=auth) for p in _params(draft)]
        bodies = [a.json() for a in answers if a.status_code == 200]
        now = None
        if len(bodies) == len(answers) and not any(b["reclassifying"] for b in bodies):
            now = [(b["total"], b["classification"]) for b in bodies]
            if now == last and sum(t for t, _ in now) > 0:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the registry's counts did not settle: {[a.text for a in answers]}")
        last = now
        await asyncio.sleep(3)


def _params(draft: BatchDraft) -> list[list[tuple[str, str]]]:
    """The query strings of the batch's questions, as `count_in_registry` sends them."""
    return [
        [
            ("item_id", str(q.item_id)), ("region_code", q.region_code), ("domain", q.domain),
            *(("tag", t) for t in q.tags),
            *((("subject_type", q.subject_type),) if q.subject_type else ()),
            *((("industry_code", q.industry_code),) if q.industry_code else ()),
        ]
        for q in count_queries(draft)
    ]  # fmt: skip


async def _compare(
    shape: Shape,
    registry: ServiceClient,
    bare: httpx.AsyncClient,
    auth: dict[str, str],
    rounds: int,
) -> list[Figure]:
    window = asyncio.Semaphore(CONCURRENT_COUNTS)
    questions = _params(shape.draft)

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
