"""The check a batch use case runs inside its own transaction: the stored policy of each of the
batch's items applies, and a breach is the problem naming the rule, the class and the numbers."""

import itertools
import random
import uuid

import pytest

from shuangsui.drawspec.model import Ratio
from shuangsui.kernel.db import Database, UnitOfWork
from shuangsui.kernel.problems import Problem
from shuangsui.planning.service.policies import ensure_batch_keeps_policies

POLICIES = "/api/v1/planning/policies"
_years = itertools.count(2950 + random.randrange(0, 40))

KEY_ITEM_CLASSES = {
    "A": {"min_ratio": "10%", "max_ratio": "20%", "frequency_per_year": 1},
    "B": {"min_ratio": "10%", "max_ratio": "30%", "frequency_per_year": 1},
    "C": {"min_ratio": "30%", "max_ratio": "60%", "frequency_per_year": 2},
    "D": {"min_ratio": "60%", "max_ratio": "100%", "frequency_per_year": 2},
}


@pytest.fixture
async def database(stack):
    url = stack.database_url("planning")
    database = Database("postgresql+asyncpg://" + url.split("://", 1)[1], pool_size=1)
    yield database
    await database.stop()


async def check(database, year, item_ids, quantities, **options):
    async with UnitOfWork(database) as uow:
        return await ensure_batch_keeps_policies(
            uow.session, province="33", org_id=None, year=year, item_ids=item_ids,
            quantities_per_class=quantities, item_min_ratios=options.pop("floors", {}),
            **options,
        )  # fmt: skip


async def test_a_key_supervision_items_own_policy_decides_and_its_breach_names_the_rule(
    service_client, bearer, database
):
    year, key_item, general_item = next(_years), uuid.uuid4(), uuid.uuid4()
    planning = await service_client("planning")
    stored = await planning.put(
        f"{POLICIES}/{year}/330000", params={"item_id": str(key_item)},
        json={"classes": KEY_ITEM_CLASSES}, headers=bearer("provincial_admin"),
    )  # fmt: skip
    assert stored.status_code == 201, stored.text
    a_at_5_percent = {"A": Ratio("1", "20")}

    general = await check(database, year, [general_item], a_at_5_percent)
    with pytest.raises(Problem) as refused:
        await check(database, year, [general_item, key_item], a_at_5_percent)

    assert general[general_item].source == "platform_default"
    problem = refused.value.body()
    assert problem["type"] == "/problems/risk-ratio-policy-breached"
    assert problem["policy_source"] == "province_item"
    assert problem["breaches"] == [
        {"rule": "ratio_below_policy_min", "risk_class": "A", "actual": "1/20", "limit": "1/10",
         "safer_class": None, "item_id": None, "population": None},
    ]  # fmt: skip


async def test_counts_are_judged_against_the_strata_and_frequency_against_the_year(database):
    year, item = next(_years), uuid.uuid4()

    with pytest.raises(Problem) as too_few:
        await check(database, year, [item], {"C": 8}, stratum_sizes={"C": 41})
    with pytest.raises(Problem) as too_often:
        await check(database, year, [item], {"A": Ratio("1", "20")},
                    batches_already_this_year={"A": 1})  # fmt: skip
    fine = await check(database, year, [item], {"C": 9}, stratum_sizes={"C": 41})

    assert [(b["rule"], b["actual"], b["limit"]) for b in too_few.value.body()["breaches"]] == [
        ("count_below_policy_min", "8", "9")
    ]
    assert too_often.value.body()["breaches"][0]["rule"] == "frequency_exceeded"
    assert fine[item].source == "platform_default"


async def test_the_item_floor_is_named_with_its_item(database):
    year, item = next(_years), uuid.uuid4()

    with pytest.raises(Problem) as refused:
        await check(database, year, [item], {"A": Ratio("1", "50")},
                    floors={item: Ratio("3", "100")})  # fmt: skip

    [breach] = refused.value.body()["breaches"]
    assert (breach["rule"], breach["item_id"], breach["limit"]) == (
        "below_item_floor", str(item), "3/100",
    )  # fmt: skip
