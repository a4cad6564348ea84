"""A batch's preview asks the real registry (served over HTTP, called with planning's service
credentials) and its numbers are the subjects seeded there (`batch_preview_testkit`): per
stratum, the unclassified in B, from the kept counts for plain batches and by scanning for
directed ones; several items give a range; the registry's refusals are the batch's field errors.
"""

import uuid
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from batch_preview_testkit import DONGYANG, YIWU, seed_registry

from shuangsui.devstack.ports import free_port
from shuangsui.devstack.pytest_plugin import environment
from shuangsui.kernel.problems import VALIDATION, Problem
from shuangsui.kernel.service_client import ServiceClient, ServiceUnreachable
from shuangsui.kernel.settings import load_settings
from shuangsui.planning.domain.batches import (
    BatchDraft,
    DrawMode,
    Method,
    Scope,
    SelectionMode,
)
from shuangsui.planning.service.batches_preview import BATCH_PREVIEW_TOO_BROAD, preview_batch
from shuangsui.planning.settings import SERVICE, Settings


def draft(*items: uuid.UUID, **changes: Any) -> BatchDraft:
    base = BatchDraft(
        name="2026年餐饮服务单位双随机抽查",
        item_ids=items,
        scope=Scope(region_codes=(YIWU, DONGYANG)),
        quantity={"A": "10%", "B": "50%", "C": 1, "D": "100%"},
        window_start=date(2026, 4, 1),
        window_end=date(2026, 6, 30),
        methods=(Method.on_site,),
        selection_mode=SelectionMode.bureau_wide,
    )
    return replace(base, **changes)


def populations(preview) -> dict[str, tuple[int, int]]:
    return {s.stratum: (s.population_min, s.population_max) for s in preview.strata}


@pytest.fixture(scope="module")
async def items(stack, service_env, mint_token) -> dict[str, uuid.UUID]:
    return await seed_registry(stack, service_env, mint_token)


@pytest.fixture
async def registry(service_env, registry_serving):
    """Planning's client of the registry, as planning's app makes it."""
    with environment(service_env("planning")):
        settings = load_settings(Settings, SERVICE)
    client = ServiceClient.from_settings(settings, SERVICE, "registry", registry_serving)
    await client.start()
    yield client
    await client.stop()


async def test_one_item_is_counted_exactly_per_stratum_from_the_kept_counts(registry, items):
    preview = await preview_batch(registry, draft(items["food"]))

    # Enterprises and individuals in business: 义乌 A A C B and one unclassified, 东阳 D and one
    # unclassified; the unclassified are drawn as B.
    assert preview.exact
    assert populations(preview) == {"A": (2, 2), "B": (3, 3), "C": (1, 1), "D": (1, 1)}
    # ceil(10% × 2) = 1, ceil(50% × 3) = 2, a count of 1, ceil(100% × 1) = 1.
    assert [s.expected_sample_max for s in preview.strata] == [1, 2, 1, 1]
    assert (preview.population_max, preview.expected_sample_max) == (7, 5)
    assert preview.method == "index"
    assert [(c.query.region_code, c.total) for c in preview.counts] == [(YIWU, 5), (DONGYANG, 2)]
    assert len(preview.classifications) == 1
    assert preview.classification >= 1, "the items' classification pass has run"
    assert not preview.reclassifying


async def test_the_unclassified_are_counted_where_the_province_draws_them(registry, items):
    preview = await preview_batch(registry, draft(items["food"]), unclassified_drawn_as="C")

    assert populations(preview) == {"A": (2, 2), "B": (1, 1), "C": (3, 3), "D": (1, 1)}


async def test_a_directed_batch_by_type_and_industry_is_counted_by_scanning(registry, items):
    directed = draft(
        items["all"], draw_mode=DrawMode.directed,
        scope=Scope((YIWU, DONGYANG), subject_types=("enterprise",), industry_codes=("H62",)),
    )  # fmt: skip

    preview = await preview_batch(registry, directed)

    # Restaurant enterprises in business: 义乌 A A, 东阳 one unclassified.
    assert populations(preview) == {"A": (2, 2), "B": (1, 1), "C": (0, 0), "D": (0, 0)}
    assert preview.method == "scan"
    assert {(c.query.subject_type, c.query.industry_code) for c in preview.counts} == {
        ("enterprise", "H62")
    }


async def test_two_items_give_each_stratum_between_the_larger_and_the_sum(registry, items):
    preview = await preview_batch(registry, draft(items["food"], items["all"]))

    # `all` holds `food`'s subjects and the cooperatives (义乌 one unclassified, 东阳 one B).
    assert not preview.exact
    assert populations(preview) == {"A": (2, 4), "B": (5, 8), "C": (1, 2), "D": (1, 2)}
    assert (preview.population_min, preview.population_max) == (9, 16)
    assert len(preview.counts) == 4


async def test_an_item_the_registry_does_not_hold_is_the_batchs_field_error(registry, items):
    unknown = uuid.uuid4()

    with pytest.raises(Problem) as refused:
        await preview_batch(registry, draft(items["food"], unknown))

    assert refused.value.kind is VALIDATION
    assert str(unknown) in (refused.value.detail or "")
    assert [e.field for e in refused.value.errors] == ["item_ids[1]"]


async def test_a_batch_too_broad_to_preview_is_refused_naming_the_product(registry, items):
    counties = ("330102", "330105", "330106", "330108", "330109", "330110", "330111", "330112")
    broad = draft(
        items["food"], items["all"], draw_mode=DrawMode.directed,
        scope=Scope(counties, subject_types=("enterprise", "individual"),
                    industry_codes=("H62", "F52", "C14")),
    )  # fmt: skip

    with pytest.raises(Problem) as refused:
        await preview_batch(registry, broad)

    assert refused.value.kind is BATCH_PREVIEW_TOO_BROAD
    assert "2 items × 8 regions × 2 subject types × 3 industries = 96" in str(refused.value.detail)


async def test_an_absent_registry_is_unreachable_not_a_planners_error(service_env, items):
    with environment(service_env("planning")):
        settings = load_settings(Settings, SERVICE)
    gone = ServiceClient.from_settings(
        settings, SERVICE, "registry", f"http://127.0.0.1:{free_port()}"
    )
    try:
        with pytest.raises(ServiceUnreachable):
            await preview_batch(gone, draft(items["food"]))
    finally:
        await gone.stop()
