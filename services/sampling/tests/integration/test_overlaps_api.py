"""Overlaps (名单比对, R22) over HTTP, on real PostgreSQL and NATS: two bureaus' batches whose
windows overlap, drawn to completion, select the same two subjects; the list names them as
merge candidates with both batches, the overlap and the earliest due date, and not a third
batch whose window comes after. Each completed draw records its subjects once (a retry, a
second write, the migration's back-fill change nothing); who sees a group follows the
caller's region and batches, never another province."""

import importlib
import uuid
from datetime import date

import pytest
from draw_api_testkit import Bureau, action, completed, fed, problem

from shuangsui.sampling.adapters import batches as batches_repo
from shuangsui.sampling.adapters import draws as draws_repo
from shuangsui.sampling.service import overlaps as overlaps_service
from shuangsui.sampling.worker import SUBSCRIPTIONS

OVERLAPS = "/api/v1/sampling/overlaps"
ALL_B = [{"stratum": "B", "ratio": "1/1", "count": None}]  # every (unclassified) subject drawn
MIGRATION = "shuangsui.sampling.migrations.versions.0009_drawn_subjects"


@pytest.fixture
async def world(consumer_feed, batch_events, subject_events, directory_events, bearer, uscc,
                current_model, batch_code):  # fmt: skip
    """Bureau A's winter batch (12-01 to 03-31) and bureau B's spring batch (03-01 to 05-31)
    share two subjects; each has one of its own; A's summer batch (06-01 to 08-31, the day
    after B's ends) takes the shared ones again. Every batch draws all its subjects."""
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    a, b = Bureau.fresh("O"), Bureau.fresh("P")
    base = uuid.uuid4().int % 10**7 * 10
    shared, own_a, own_b = [uscc(base), uscc(base + 1)], uscc(base + 2), uscc(base + 3)
    subjects = [
        *(subject_events.upserted(code, item_ids=[a.item, b.item]) for code in shared),
        subject_events.upserted(own_a, item_ids=[a.item]),
        subject_events.upserted(own_b, item_ids=[b.item]),
    ]
    winter = a.batch(batch_events, batch_code(), strata=ALL_B)
    spring = b.batch(batch_events, batch_code(), strata=ALL_B,
                     window_start=date(2027, 3, 1), window_end=date(2027, 5, 31))  # fmt: skip
    summer = a.batch(batch_events, batch_code(), strata=ALL_B,
                     window_start=date(2027, 6, 1), window_end=date(2027, 8, 31))  # fmt: skip
    await fed(feed, [*subjects, *a.officers(directory_events, 3), *b.officers(directory_events, 3),
                     winter, spring, summer])  # fmt: skip

    def admin(bureau):
        return bearer("department_admin", region="330106", org=str(bureau.org),
                      sub=f"admin-{bureau.org}")  # fmt: skip

    return {
        "a": {"owner": admin(a)}, "b": {"owner": admin(b)},
        "winter": winter.payload, "spring": spring.payload, "summer": summer.payload,
        "shared": sorted(shared), "own": [own_a, own_b],
        "province": bearer("provincial_admin", region="330000", sub=f"pa-{a.tag}"),
        "county": bearer("department_admin", region="330102", org=str(uuid.uuid4()),
                         sub=f"other-county-{a.tag}"),
        "neighbour": bearer("department_admin", region="330106", org=str(uuid.uuid4()),
                            sub=f"neighbour-{a.tag}"),
        "guangdong": bearer("provincial_admin", region="440000", sub=f"gd-{a.tag}"),
    }  # fmt: skip


async def drawn(sampling, world):
    """The three batches' draws completed."""
    return {
        name: await completed(sampling, world[bureau], world[name])
        for name, bureau in (("winter", "a"), ("spring", "b"), ("summer", "a"))
    }


async def listed(sampling, headers, **params):
    answer = await sampling.get(OVERLAPS, params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_subjects_drawn_by_batches_with_overlapping_windows_are_listed(sampling, world):
    draws = await drawn(sampling, world)
    winter, spring = world["winter"], world["spring"]

    page = await listed(sampling, world["province"], batch_id=str(winter.batch_id))

    assert [g["uscc"] for g in page["items"]] == world["shared"]
    assert page["next_cursor"] is None
    group = page["items"][0]
    assert group["name"] == f"{group['uscc']} 第1版"
    assert group["region_code"] == "330106"
    assert [b["batch_code"] for b in group["batches"]] == [winter.batch_code, spring.batch_code]
    assert [b["draw_id"] for b in group["batches"]] == [
        draws["winter"]["draw_id"], draws["spring"]["draw_id"]
    ]  # fmt: skip
    assert [b["department"]["org_id"] for b in group["batches"]] == [
        str(winter.org_id), str(spring.org_id)
    ]  # fmt: skip
    assert group["batches"][1]["window"] == {"start": "2027-03-01", "end": "2027-05-31"}
    assert group["overlap"] == {"start": "2027-03-01", "end": "2027-03-31"}
    assert group["window"] == {"start": "2026-12-01", "end": "2027-05-31"}
    assert group["due_on"] == "2027-03-31"
    items = [i["item_id"] for i in group["items"]]
    assert items == [str(winter.items[0].item_id), str(spring.items[0].item_id)]


async def test_a_batch_whose_window_starts_the_day_after_is_not_listed(sampling, world):
    await drawn(sampling, world)
    summer = world["summer"]

    page = await listed(sampling, world["province"], batch_id=str(summer.batch_id))

    assert page == {"items": [], "next_cursor": None}
    listed_codes = {
        b["batch_code"]
        for g in (await listed(sampling, world["province"],
                               batch_id=str(world["spring"].batch_id)))["items"]
        for b in g["batches"]
    }  # fmt: skip
    assert world["winter"].batch_code in listed_codes
    assert summer.batch_code not in listed_codes


async def test_the_list_pages_with_a_cursor_and_narrows_by_region_and_days(
    sampling, world, monkeypatch
):
    await drawn(sampling, world)
    monkeypatch.setattr(overlaps_service, "_CHUNK", 1)  # a page filled over several reads
    batch = {"batch_id": str(world["winter"].batch_id)}
    headers = world["province"]

    first = await listed(sampling, headers, limit=1, **batch)
    second = await listed(sampling, headers, limit=1, cursor=first["next_cursor"], **batch)

    assert [g["uscc"] for g in first["items"] + second["items"]] == world["shared"]
    assert first["next_cursor"] is not None
    assert second["next_cursor"] is None
    assert (await listed(sampling, headers, region_code="330102", **batch))["items"] == []
    assert len((await listed(sampling, headers, region_code="330106", **batch))["items"]) == 2
    assert (await listed(sampling, headers, window_from="2027-04-01", **batch))["items"] == []
    assert (await listed(sampling, headers, window_to="2027-02-28", **batch))["items"] == []
    days = {"window_from": "2027-03-31", "window_to": "2027-03-31"}
    assert len((await listed(sampling, headers, **days, **batch))["items"]) == 2


async def test_who_sees_a_group_follows_region_and_batches_never_another_province(sampling, world):
    await drawn(sampling, world)
    batch = {"batch_id": str(world["winter"].batch_id)}

    def usccs(page):
        return [g["uscc"] for g in page["items"]]

    assert usccs(await listed(sampling, world["a"]["owner"], **batch)) == world["shared"]
    assert usccs(await listed(sampling, world["b"]["owner"], **batch)) == world["shared"]
    assert usccs(await listed(sampling, world["neighbour"], **batch)) == world["shared"]
    assert usccs(await listed(sampling, world["county"], **batch)) == []
    answer = await sampling.get(OVERLAPS, params=batch, headers=world["guangdong"])
    problem(answer, 403)
    assert "items" not in answer.json()
    assert (await sampling.get(OVERLAPS, params=batch)).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"window_from": "2027-13-01"}, "window_from"),
        ({"window_from": "2027-04-01", "window_to": "2027-03-01"}, "window_to"),
        ({"batch_id": "not-a-batch"}, "batch_id"),
        ({"region_code": "999999"}, "region_code"),
        ({"limit": "0"}, "limit"),
    ],
)
async def test_bad_query_parameters_are_a_problem_naming_the_field(sampling, bearer, params, field):
    answer = await sampling.get(OVERLAPS, params=params,
                                headers=bearer("provincial_admin", region="330000"))  # fmt: skip

    body = problem(answer, 422)
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"].rsplit(".", 1)[-1] for e in body["errors"]], body


async def test_a_cursor_of_another_list_is_refused(sampling, bearer):
    answer = await sampling.get(OVERLAPS, params={"cursor": "eyJkcmF3X2NvZGUiOiJ4In0"},
                                headers=bearer("provincial_admin", region="330000"))  # fmt: skip

    problem(answer, 400)


async def _rows(sampling_rows, draw_code):
    return await sampling_rows(
        "SELECT * FROM drawn_subjects WHERE draw_code = $1 ORDER BY subject_id", draw_code
    )


async def test_a_completed_draw_records_its_subjects_once(sampling, world, sampling_rows, new_uow):
    draw = (await drawn(sampling, world))["winter"]
    rows = await _rows(sampling_rows, draw["draw_id"])
    assert sorted(r["subject_id"] for r in rows) == sorted([*world["shared"], world["own"][0]])

    again = await sampling.post(action(draw["draw_id"], "reveal"),
                                headers={**world["a"]["owner"], "If-Match": '"3"'})  # fmt: skip
    problem(again, 409)
    async with new_uow() as uow:
        stored = await draws_repo.draw_by_code(uow.session, draw["draw_id"])
        batch = await batches_repo.batch(uow.session, world["winter"].batch_id)
        assert stored is not None
        assert batch is not None
        assert batch.published is not None
        await overlaps_service.record_completed(
            uow, batch.published, stored.draw, stored.region_code, stored.completed_at
        )
        await uow.commit()
    assert await _rows(sampling_rows, draw["draw_id"]) == rows

    # The migration's back-fill writes the same rows for a draw completed before it ran, and
    # nothing for a draw it already holds.
    backfill = importlib.import_module(MIGRATION).BACKFILL
    await sampling_rows("DELETE FROM drawn_subjects WHERE draw_code = $1 RETURNING 1",
                        draw["draw_id"])  # fmt: skip
    filled = f"WITH done AS ({backfill} RETURNING 1) SELECT count(*) AS n FROM done"  # noqa: S608
    [first] = await sampling_rows(filled)
    assert first["n"] >= len(rows)
    assert await _rows(sampling_rows, draw["draw_id"]) == rows
    [second] = await sampling_rows(filled)
    assert second["n"] == 0
    assert await _rows(sampling_rows, draw["draw_id"]) == rows


async def test_a_voided_draw_s_subjects_drop_out_of_the_list(sampling, world, bearer):
    draws = await drawn(sampling, world)
    draw, owner = draws["spring"], world["b"]["owner"]
    colleague = bearer(
        "department_admin",
        region="330106",
        org=str(world["spring"].org_id),
        sub=f"colleague-{world['spring'].org_id}",
    )
    batch = {"batch_id": str(world["winter"].batch_id)}
    assert len((await listed(sampling, world["province"], **batch))["items"]) == 2
    asked = await sampling.post(action(draw["draw_id"], "void"), json={"reason": "录入错误"},
                                headers={**owner, "If-Match": '"3"'})  # fmt: skip
    assert asked.status_code == 200, asked.text
    approved = await sampling.post(action(draw["draw_id"], "void"), json={"approve": True},
                                   headers={**colleague, "If-Match": '"4"'})  # fmt: skip
    assert approved.status_code == 200, approved.text

    page = await listed(sampling, world["province"], **batch)

    assert page["items"] == []
