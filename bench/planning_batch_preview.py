"""Issue 12: a batch's preview (批次抽取预览) beside the bare `registry_population_count` calls
it makes, in the same run (target: preview p99 ≤ 1.3 × the bare calls' p99).

The platform runs as `make run` runs it (every service and worker, on free ports) with the demo
province loaded through the gateway (20,000 subjects; 5,000 in the quick run) and its plan made
and published, so the counts are the registry's own, kept by its worker. Two mixes:

- the demo plan's own published batches (one item over the city each: one count apiece),
  previewed in turn by the province's administrator;
- an internal joint batch of two food items over three districts (six kept counts, asked
  concurrently), drafted by the demo's city bureau in next year's plan through the API.

What is timed as the preview is the endpoint `planning_batches_preview`
(`POST /api/v1/planning/batches/{batch_id}:preview`): planning reads the batch, checks it again
against its catalogue and policies, and asks the registry with its own service client and
credentials. The bare calls are the same questions sent straight to the registry by a plain
httpx client, as many at a time as the preview sends them. A third figure times
`preview_batch` in process (the service function the endpoint ends in: planning's client and
the counts combined, without planning's own request, read and check), to show where the
endpoint's time goes. One client, one question at a time; the three take turns in a random
order so that each meets the same warm registry.

The host's cores serve every process of the platform and this client: the figures move with
whatever else the machine runs, the ratios much less (the runs take turns).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from bench.registry_count import _auth
from bench.results import Figure
from bench.stack import console
from shuangsui.contracts.workdays import shanghai_date
from shuangsui.devstack.config import SERVICES, StackSettings
from shuangsui.devstack.ports import free_port
from shuangsui.devstack.pytest_plugin import environment
from shuangsui.devstack.stack import Stack
from shuangsui.kernel.service_client import ServiceClient
from shuangsui.kernel.settings import load_settings
from shuangsui.planning.adapters.population import COUNT_PATH
from shuangsui.planning.api.batches_models import BatchOut
from shuangsui.planning.domain.batch_preview import count_queries
from shuangsui.planning.domain.batches import BatchDraft, Method, Scope, SelectionMode
from shuangsui.planning.service.batches_preview import CONCURRENT_COUNTS, preview_batch
from shuangsui.planning.settings import SERVICE, Settings

DISTRICTS = ("330106", "330108", "330110")  # 西湖区, 滨江区, 余杭区
QUANTITY = {"A": "3%", "B": "10%", "C": "30%", "D": "60%"}  # within the platform default (R11)
# The demo catalogue's food sales and catering items (devstack/demo_catalogue.py), which need
# one qualification (B.5).
FOOD_SALES, CATERING = "DEMO-02", "DEMO-03"
SETTLE_SECONDS = 300
PLANNING = "/api/v1/planning"
YEAR = date.today().year + 1  # next year's plan, as planners draft it


@dataclass(frozen=True)
class Target:
    batch_id: str
    draft: BatchDraft


@dataclass(frozen=True)
class Mix:
    """Batches previewed in turn by one planner (`auth`), their latencies pooled."""

    name: str
    targets: list[Target]
    auth: dict[str, str]


def run(quick: bool) -> list[Figure]:
    subjects = 5_000 if quick else 20_000
    rounds = 150 if quick else 1_000
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
    async with (
        httpx.AsyncClient(base_url=registry_url, timeout=60) as bare,
        httpx.AsyncClient(base_url=planning_url, timeout=60) as planning,
    ):
        items = await _items_in_force(planning, admin)
        demo = await _demo_batches(planning, admin)
        joint = _joint(items)
        await _settled(bare, admin, [t.draft for t in demo] + [joint])
        owner = await _city_bureau(stack, bare, admin, "330100")
        plan = await _plan(planning, owner, joint.window_start.year)
        mixes = [
            Mix(f"the demo plan's {len(demo)} batches", demo, admin),
            Mix(
                "2 items × 3 districts, 6 kept counts",
                [Target(await _batch(planning, owner, plan, joint), joint)], owner,
            ),
        ]  # fmt: skip
        with environment(stack.service_env("planning")):
            settings = load_settings(Settings, SERVICE)
        registry = ServiceClient.from_settings(settings, SERVICE, "registry", registry_url)
        figures: list[Figure] = []
        try:
            for mix in mixes:
                figures += await _compare(mix, planning, registry, bare, admin, rounds)
        finally:
            await registry.stop()
    return figures


def _joint(items: dict[str, UUID]) -> BatchDraft:
    return BatchDraft(
        name=f"{YEAR}年食品经营单位双随机抽查", item_ids=(items[FOOD_SALES], items[CATERING]),
        scope=Scope(region_codes=DISTRICTS), quantity=QUANTITY,
        window_start=date(YEAR, 4, 1), window_end=date(YEAR, 6, 30),
        methods=(Method.on_site,), selection_mode=SelectionMode.bureau_wide,
    )  # fmt: skip


async def _demo_batches(planning: httpx.AsyncClient, auth: dict[str, str]) -> list[Target]:
    """The batches `make run`'s demo plan published this year."""
    year = shanghai_date(datetime.now(UTC)).year
    answer = await planning.get(
        f"{PLANNING}/batches", params={"year": year, "status": "published", "limit": 100},
        headers=auth,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    found = [
        Target(b["batch_id"], BatchOut.model_validate(b).draft()) for b in answer.json()["items"]
    ]
    assert found, "the demo plan published no batch"
    return found


async def _items_in_force(planning: httpx.AsyncClient, auth: dict[str, str]) -> dict[str, UUID]:
    """The demo items once planning's catalogue has them (from the registry's events)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        answer = await planning.get(
            f"{PLANNING}/catalogue/items", params={"limit": 500}, headers=auth
        )
        if answer.status_code == 200:
            found = {i["code"]: UUID(i["item_id"]) for i in answer.json()["items"]}
            if {FOOD_SALES, CATERING} <= found.keys():
                return found
        if time.monotonic() > deadline:
            raise RuntimeError(f"planning's catalogue lacks the demo items: {answer.text}")
        await asyncio.sleep(1)


async def _city_bureau(
    stack: Stack, registry: httpx.AsyncClient, admin: dict[str, str], region: str
) -> dict[str, str]:
    """A token of the demo's market-supervision bureau of the city `region`, which drafts the
    batches (the demo has a partner department's bureau there too)."""
    answer = await registry.get(
        "/api/v1/registry/orgs", params={"level": "city", "region_code": region}, headers=admin
    )
    assert answer.status_code == 200, answer.text
    [bureau] = [
        o for o in answer.json()["items"]
        if o["region_code"] == region and o["department_type"] == "market_supervision"
    ]  # fmt: skip
    token = stack.issuer.token_for(
        roles=["department_admin"], region=region, org=bureau["org_id"], sub="bench-planner"
    )
    return {"Authorization": f"Bearer {token}"}


async def _plan(planning: httpx.AsyncClient, owner: dict[str, str], year: int) -> dict[str, Any]:
    """The bureau's plan of `year`, once planning's catalogue knows the org (from its event)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        answer = await planning.post(
            f"{PLANNING}/plans", json={"year": year, "title": f"{year}年度抽查计划"}, headers=owner
        )
        if answer.status_code == 201:
            plan: dict[str, Any] = answer.json()
            return plan
        if answer.status_code != 422 or time.monotonic() > deadline:
            raise RuntimeError(f"the plan was not created: {answer.text}")
        await asyncio.sleep(1)


async def _batch(
    planning: httpx.AsyncClient, owner: dict[str, str], plan: dict[str, Any], draft: BatchDraft
) -> str:
    scope = {k: list(v) for k, v in asdict(draft.scope).items() if v}
    body = {
        "name": draft.name, "item_ids": [str(i) for i in draft.item_ids], "scope": scope,
        "quantity": dict(draft.quantity), "window_start": str(draft.window_start),
        "window_end": str(draft.window_end), "methods": [m.value for m in draft.methods],
        "selection_mode": draft.selection_mode.value, "draw_mode": draft.draw_mode.value,
        "team_size": draft.team_size,
    }  # fmt: skip
    url = f"{PLANNING}/plans/{plan['plan_id']}/versions/{plan['version']}/batches"
    answer = await planning.post(url, json=body, headers=owner)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["batch_id"])


async def _settled(
    bare: httpx.AsyncClient, auth: dict[str, str], drafts: Sequence[BatchDraft]
) -> None:
    """Wait until the registry's worker has indexed the items and folded the pushed subjects'
    counts: two answers a few seconds apart agree, and no re-classification is running."""
    deadline = time.monotonic() + SETTLE_SECONDS
    asked = [p for d in drafts for p in _params(d)]
    last = None
    while True:
        answers = [await bare.get(COUNT_PATH, params=p, headers=auth) for p in asked]
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
    mix: Mix,
    planning: httpx.AsyncClient,
    registry: ServiceClient,
    bare: httpx.AsyncClient,
    auth: dict[str, str],
    rounds: int,
) -> list[Figure]:
    window = asyncio.Semaphore(CONCURRENT_COUNTS)
    questions = [_params(t.draft) for t in mix.targets]
    turn = [0]  # the target the round previews: every run of a round takes the same

    async def ask(params: list[tuple[str, str]]) -> None:
        async with window:
            answer = await bare.get(COUNT_PATH, params=params, headers=auth)
        assert answer.status_code == 200, answer.text
        answer.json()

    async def bare_calls() -> None:
        await asyncio.gather(*(ask(p) for p in questions[turn[0]]))

    async def endpoint() -> dict[str, Any]:
        url = f"{PLANNING}/batches/{mix.targets[turn[0]].batch_id}:preview"
        answer = await planning.post(url, headers=mix.auth)
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    async def in_process() -> None:
        await preview_batch(registry, mix.targets[turn[0]].draft)

    def next_turn(number: int) -> None:
        turn[0] = number % len(mix.targets)

    console.print(f"[bold]{mix.name}[/bold]")
    for number, target in enumerate(mix.targets):
        next_turn(number)
        found = await endpoint()
        assert len(found["counts"]) == len(questions[number]), found
        console.print(
            f"  {target.draft.name}: {len(found['counts'])} count(s), method {found['method']}, "
            f"population {found['population_min']:,}–{found['population_max']:,}, expected "
            f"sample {found['expected_sample_min']}–{found['expected_sample_max']}"
        )
    runs = (endpoint, in_process, bare_calls)
    # Warm: connections open, tokens minted, statements prepared. Not kept.
    await _turns(runs, max(20, rounds // 10), next_turn)
    previews, functions, bares = await _turns(runs, rounds, next_turn)
    for name, times in (("endpoint", previews), ("preview_batch", functions), ("bare", bares)):
        console.print(f"  {name}: p50 {_p(times, 50):.2f} ms, p99 {_p(times, 99):.2f} ms")
    calls = "/".join(map(str, sorted({len(q) for q in questions})))
    baseline = f"its {calls} bare registry_population_count call(s)"
    return [
        *(
            Figure(
                f"planning: batch preview p{percent}, {mix.name}", _p(previews, percent),
                "ms", baseline, _p(bares, percent), higher_is_better=False,
            )
            for percent in (50, 99)
        ),
        # Where the time goes: planning's registry calls alone, without its own request.
        Figure(
            f"planning: preview_batch in process p99, {mix.name}", _p(functions, 99), "ms",
            baseline, _p(bares, 99), higher_is_better=False,
        ),
    ]  # fmt: skip


async def _turns(
    runs: Sequence[Callable[[], Awaitable[object]]],
    rounds: int,
    on_round: Callable[[int], None],
) -> list[list[float]]:
    """Each round (announced to `on_round`) times every run once, in a random order, so none
    always meets the warmer registry; their latencies in ms, in the order of `runs`."""
    rng = random.Random(12)
    times: list[list[float]] = [[] for _ in runs]
    for number in range(rounds):
        on_round(number)
        for which in rng.sample(range(len(runs)), len(runs)):
            started = time.perf_counter()
            await runs[which]()
            times[which].append((time.perf_counter() - started) * 1000)
    return times


def _p(latencies: list[float], percent: int) -> float:
    return statistics.quantiles(latencies, n=100, method="inclusive")[percent - 1]
