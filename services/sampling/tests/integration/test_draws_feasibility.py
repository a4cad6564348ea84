"""R18 over HTTP, on real PostgreSQL and NATS: a draw some of whose drawable subjects cannot be
given a full eligible team shows them when prepared (`team_shortfalls`) and is refused at the
commit (`draw-team-infeasible`), nothing committed; a team that loses its last candidate after
the draw is never shrunk, but left vacant for the recorded manual procedure."""

import json
import uuid

import pytest
from draw_api_testkit import (
    COMMITTED,
    DRAWS,
    FIXED,
    Bureau,
    accepted_recusal,
    action,
    completed,
    events_of,
    fed,
    prepare_answer,
    problem,
    with_etag,
)

from shuangsui.sampling.worker import SUBSCRIPTIONS


@pytest.fixture
async def setting(consumer_feed, batch_events, subject_events, directory_events, bearer, uscc,
                  current_model, batch_code):  # fmt: skip
    """`await setting(subjects, officers, conflicts=(), **batch)`: a county bureau's published
    batch of one item (1/10 of stratum B, team of 2 with a food_safety lead) over unclassified
    subjects — `subjects` is a list of station codes, one subject each — and officers
    (`(station, qualifications)` each), with conflicts `(officer index, subject index)`; its
    admins' tokens."""
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)

    async def make(subjects, officers, conflicts=(), **changes):
        bureau = Bureau.fresh("F")
        base = uuid.uuid4().int % 10**7 * 100
        codes = [uscc(base + n) for n in range(len(subjects))]
        ids = [uuid.uuid4() for _ in officers]
        published = bureau.batch(batch_events, batch_code(), **changes)
        station = lambda s: s.replace("{station}", bureau.station)  # noqa: E731
        await fed(feed, [
            *(subject_events.upserted(code, item_ids=[bureau.item], unit_code=station(unit))
              for code, unit in zip(codes, subjects, strict=True)),
            *(directory_events.inspector(i, org_code=bureau.org_code, station_code=station(s),
                                         qualifications=list(q))
              for i, (s, q) in zip(ids, officers, strict=True)),
            *(directory_events.conflict(uuid.uuid4(), ids[o], codes[s], 2)
              for o, s in conflicts),
            published,
        ])  # fmt: skip

        def admin(name):
            return bearer("department_admin", region="330106", org=str(bureau.org),
                          sub=f"admin-{name}-{bureau.tag}")  # fmt: skip

        async def hire(station_code, qualifications):
            await fed(feed, [directory_events.inspector(
                uuid.uuid4(), org_code=bureau.org_code, station_code=station(station_code),
                qualifications=list(qualifications))])  # fmt: skip

        return {"batch": published.payload, "codes": codes, "officers": [str(i) for i in ids],
                "hire": hire,
                "owner": admin("a"), "colleague": admin("b"), "station": bureau.station}  # fmt: skip

    return make


STATION, FOOD = "{station}", ("food_safety",)


async def prepared(sampling, world):
    answer = await prepare_answer(sampling, world["batch"].batch_id, world["owner"])
    assert answer.status_code == 201, answer.text
    return answer.json()


async def commit(sampling, world, draw):
    body = {"beacon": {"source": "fixed", "value": FIXED}}
    return await sampling.post(action(draw["draw_id"], "commit"), json=body,
                               headers=with_etag(world["owner"], 1))  # fmt: skip


async def test_a_conflict_leaving_one_candidate_is_shown_at_prepare_and_refuses_the_commit(
    sampling, setting, ledger
):
    world = await setting([STATION] * 3, [(STATION, FOOD)] * 2, conflicts=[(0, 1)])
    draw = await prepared(sampling, world)
    shortfall = {
        "draw_id": draw["draw_id"], "subject_id": world["codes"][1], "unit": world["station"],
        "reason": "insufficient_candidates", "eligible": 1, "needed": 2, "qualified": 1,
        "missing_qualification": None,
    }  # fmt: skip
    assert draw["team_shortfalls"] == [shortfall]

    found = problem(await commit(sampling, world, draw), 422, "draw-team-infeasible")
    assert found["type"] == "/problems/draw-team-infeasible"
    assert found["subjects"] == [world["codes"][1]]
    assert found["shortfall_count"] == 1
    del shortfall["draw_id"]
    assert found["team_shortfalls"] == [shortfall]
    assert "1 eligible of 2 needed" in found["detail"]
    # Nothing was committed: the draw is still prepared at revision 1, and no event recorded.
    again = await sampling.get(f"{DRAWS}/{draw['draw_id']}", headers=world["owner"])
    assert (again.json()["status"], again.headers["ETag"]) == ("prepared", '"1"')
    assert await events_of(ledger, COMMITTED, draw["draw_id"]) == []


async def test_a_station_with_nobody_qualified_to_lead_names_the_missing_qualification(
    sampling, setting
):
    other = "330106-F9" + uuid.uuid4().hex[:6]
    world = await setting(
        [STATION, other], [(STATION, FOOD), (STATION, ()), (other, ("tobacco",)), (other, ())],
        selection_mode="single_station", station_group=[],
    )  # fmt: skip
    draw = await prepared(sampling, world)
    [shown] = draw["team_shortfalls"]
    assert (shown["subject_id"], shown["unit"], shown["reason"]) == (
        world["codes"][1], other, "no_qualified_lead")  # fmt: skip
    assert (shown["eligible"], shown["qualified"], shown["missing_qualification"]) == (
        2, 0, "food_safety")  # fmt: skip
    found = problem(await commit(sampling, world, draw), 422, "draw-team-infeasible")
    assert found["subjects"] == [world["codes"][1]]
    assert "holds food_safety" in found["detail"]


async def test_a_feasible_draw_shows_no_shortfall_and_commits(sampling, setting):
    world = await setting([STATION] * 3, [(STATION, FOOD)] * 3, conflicts=[(0, 1)])
    draw = await prepared(sampling, world)
    assert draw["team_shortfalls"] == []
    answer = await commit(sampling, world, draw)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "committed"


async def test_a_team_left_without_candidates_after_the_draw_is_not_shrunk_but_left_vacant(
    sampling, setting
):
    """R18, DRAW_SPEC §8.6/§9: feasible at the commit (two officers, a team of two); a member
    recused afterwards has no replacement, so the place stays vacant for the manual procedure
    — the drawn team is never published smaller and nothing is re-drawn."""
    world = await setting([STATION], [(STATION, FOOD)] * 2)
    draw = await completed(sampling, world)
    result = json.loads((await sampling.get(f"{DRAWS}/{draw['draw_id']}/result")).content)
    [team] = result["assignments"]
    assert "infeasible" not in team
    [member] = team["members"]

    decided = await accepted_recusal(sampling, draw["draw_id"], team["subject"], member,
                                     world["owner"], world["colleague"])  # fmt: skip
    assert decided["manual_procedure"] is True
    assert (decided["replacement_inspector_id"], decided["infeasible"]) == (
        None, "insufficient_candidates")  # fmt: skip
    listed = (await sampling.get(f"{DRAWS}/{draw['draw_id']}/recusals")).json()  # public
    [shown] = listed["items"]
    assert (shown["manual_procedure"], shown["replacement_inspector_id"]) == (True, None)

    after = json.loads((await sampling.get(f"{DRAWS}/{draw['draw_id']}/result")).content)
    assert after["assignments"] == [team]  # as drawn: the team of two stays published
    assert after["replacements"] == [{
        "subject": team["subject"], "recused": member, "role": "member", "replacement": None,
        "infeasible": "insufficient_candidates",
    }]  # fmt: skip
    verdict = (await sampling.get(f"{DRAWS}/{draw['draw_id']}/verification")).json()
    assert verdict["ok"] is True


async def test_a_prepared_draw_refused_for_its_teams_is_rebuilt_in_place_once_fixed(
    sampling, setting
):
    """The planner sees the shortfall, hires a third officer, prepares again with `refresh`:
    the same draw (same code, next ETag) now has every team and commits; without `refresh`
    a second prepare still waits for the live draw."""
    world = await setting([STATION] * 3, [(STATION, FOOD)] * 2, conflicts=[(0, 1)])
    draw = await prepared(sampling, world)
    problem(await commit(sampling, world, draw), 422, "draw-team-infeasible")
    await world["hire"](STATION, FOOD)
    batch_id = world["batch"].batch_id
    problem(await prepare_answer(sampling, batch_id, world["owner"]), 409, "draw-in-progress")

    again = await prepare_answer(sampling, batch_id, world["owner"], {"refresh": True})
    assert again.status_code == 201, again.text
    assert (again.json()["draw_id"], again.headers["ETag"]) == (draw["draw_id"], '"2"')
    assert (again.json()["inspectors"], again.json()["team_shortfalls"]) == (3, [])
    body = {"beacon": {"source": "fixed", "value": FIXED}}
    committed = await sampling.post(action(draw["draw_id"], "commit"), json=body,
                                    headers=with_etag(world["owner"], 2))  # fmt: skip
    assert committed.status_code == 200, committed.text
    refused = await prepare_answer(sampling, batch_id, world["owner"], {"refresh": True})
    problem(refused, 409, "draw-in-progress")  # a committed draw is never rebuilt
