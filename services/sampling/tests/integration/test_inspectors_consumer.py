"""The inspector read model, fed the registry's real events through JetStream: copies, older
versions after newer ones, a withdrawal before its declaration and a conflict before its officer
all end in the same state, and the pools read from it."""

import uuid
from dataclasses import replace
from datetime import date

import pytest

from shuangsui.contracts.uscc import check_character
from shuangsui.drawspec.model import Conflict
from shuangsui.sampling.adapters import inspectors as inspectors_repo
from shuangsui.sampling.domain.inspectors import SelectionMode, TeamPhase
from shuangsui.sampling.service import inspectors
from shuangsui.sampling.worker import SUBSCRIPTIONS

CONSUMER = "sampling-inspectors"


def uscc() -> str:
    body = "91330106" + uuid.uuid4().hex[:9].upper().translate(str.maketrans("IOSVZ", "12345"))
    return body + check_character(body)


def bureau() -> str:
    """A bureau code of the test's own, so pools read no other test's officers."""
    return f"B{uuid.uuid4().hex[:10]}"


async def publish_all(feed, events):
    sent = [await feed.publish(e, "registry") for e in events]
    for envelope in sent:
        assert await feed.outcome(envelope) == "applied"
    return sent


ROWS = {
    "inspectors": "SELECT * FROM inspectors WHERE inspector_id = $1",
    "inspector_conflicts": "SELECT * FROM inspector_conflicts WHERE conflict_id = $1",
    "orgs": "SELECT * FROM orgs WHERE org_id = $1",
}


@pytest.fixture
def rows(sampling_rows):
    async def of(table, key):
        return await sampling_rows(ROWS[table], key)

    return of


async def test_an_officer_is_stored_without_a_name_and_replaced_only_by_a_higher_version(
    consumer_feed, directory_events, new_uow, rows
):
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    officer = uuid.uuid4()
    newer = directory_events.inspector(officer, version=3, station_code="330106-02",
                                       qualifications=["food_safety", "special_equipment"])  # fmt: skip
    older = directory_events.inspector(officer, version=2, status="suspended")

    await publish_all(feed, [newer, older])

    stored = await inspectors.inspector(new_uow(), officer)
    assert stored is not None
    assert (stored.version, stored.status, stored.station_code) == (3, "active", "330106-02")
    assert stored.qualifications == ("food_safety", "special_equipment")
    assert stored.cert_valid_until == date(2027, 12, 31)
    [row] = await rows("inspectors", officer)
    assert "name" not in row
    assert "张三" not in map(str, row.values())

    await publish_all(feed, [directory_events.inspector(officer, version=4, status="left")])
    assert (await inspectors.inspector(new_uow(), officer)).status == "left"


async def test_a_copy_published_again_is_stored_once(consumer_feed, directory_events, rows):
    """Another message id (past JetStream's duplicate window) for the same event: the inbox."""
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    officer, conflict_id = uuid.uuid4(), uuid.uuid4()
    upserted, declared = await publish_all(
        feed,
        [directory_events.inspector(officer),
         directory_events.conflict(conflict_id, officer, uscc(), 2)],
    )  # fmt: skip

    for envelope in (upserted, declared):
        await feed.publish_raw(f"evt.p33.{envelope.type}", envelope.model_dump_json().encode())
    await feed.settled()

    assert len(await rows("inspectors", officer)) == 1
    assert len(await rows("inspector_conflicts", conflict_id)) == 1
    assert await feed.ledger.inbox_count(upserted.id, CONSUMER) == 1
    assert await feed.ledger.inbox_count(declared.id, CONSUMER) == 1


async def test_a_withdrawal_arriving_before_its_declaration_stays_withdrawn(
    consumer_feed, directory_events, rows
):
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    officer, conflict_id, subject = uuid.uuid4(), uuid.uuid4(), uscc()
    declared = directory_events.conflict(conflict_id, officer, subject, 2)
    withdrawn = directory_events.conflict(conflict_id, officer, subject, 3, withdrawn=True)

    # The officer's own row has not arrived either: the declaration waits for it.
    await publish_all(feed, [withdrawn, declared])

    [row] = await rows("inspector_conflicts", conflict_id)
    assert (row["withdrawn"], row["inspector_version"], row["subject_uscc"]) == (True, 3, subject)


async def test_the_pool_of_a_phase_holds_its_eligible_officers_and_their_live_conflicts(
    consumer_feed, directory_events, new_uow
):
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    code = bureau()
    at_01, at_02, hq, lapsed, suspended, elsewhere = (uuid.uuid4() for _ in range(6))
    drawn, other = uscc(), uscc()
    withdrawn_id = uuid.uuid4()
    await publish_all(
        feed,
        [
            directory_events.inspector(at_01, org_code=code, station_code=f"{code}-01"),
            directory_events.inspector(at_02, org_code=code, station_code=f"{code}-02"),
            directory_events.inspector(hq, org_code=code, station_code=None),
            directory_events.inspector(lapsed, org_code=code, cert_valid_until=date(2026, 6, 29)),
            directory_events.inspector(suspended, version=1, org_code=code),
            directory_events.inspector(suspended, version=2, org_code=code, status="suspended"),
            directory_events.inspector(elsewhere, org_code=bureau()),
            directory_events.conflict(uuid.uuid4(), at_01, drawn, 2),
            directory_events.conflict(uuid.uuid4(), at_02, other, 2),
            directory_events.conflict(withdrawn_id, hq, drawn, 2),
            directory_events.conflict(withdrawn_id, hq, drawn, 3, withdrawn=True),
        ],
    )  # fmt: skip
    phase = TeamPhase(
        org_code=code, org_level="county", org_region_code="330106",
        department_type="market_supervision", selection_mode=SelectionMode.hq_and_stations,
        station_group=(), team_size=2, lead_expertise="food_safety", task_date=date(2026, 6, 30),
    )  # fmt: skip

    [pool] = await inspectors.pools_of(new_uow(), phase)

    assert {m.inspector_id for m in pool.members} == {at_01, at_02, hq}
    assert await inspectors.conflicts_of(new_uow(), pool, {drawn}) == (Conflict(drawn, str(at_01)),)
    [group] = await inspectors.pools_of(
        new_uow(),
        replace(phase, selection_mode=SelectionMode.station_group, station_group=(f"{code}-02",)),
    )
    assert [m.inspector_id for m in group.members] == [at_02]
    [station] = await inspectors.pools_of(
        new_uow(), replace(phase, org_code=f"{code}-01", org_level="station")
    )
    assert [m.inspector_id for m in station.members] == [at_01]


async def test_a_poison_event_is_dead_lettered_and_the_next_one_applied(
    consumer_feed, directory_events, new_uow
):
    import json

    feed = await consumer_feed("sampling", SUBSCRIPTIONS, max_deliveries=2)
    good = uuid.uuid4()
    envelope = feed.envelope_of(directory_events.inspector(uuid.uuid4()), "registry")
    body = envelope.model_dump(mode="json")
    body["data"]["status"] = "retired"  # a status the contract does not know
    await feed.publish_raw(f"evt.p33.{body['type']}", json.dumps(body).encode(), envelope.id)
    await publish_all(feed, [directory_events.inspector(good)])

    assert await feed.outcome(envelope.id) == "dead_lettered"
    [dead] = await feed.ledger.dead_letters(envelope.id)
    assert dead["consumer"] == CONSUMER
    assert "status" in dead["last_error"]
    assert await inspectors.inspector(new_uow(), good) is not None


async def test_an_exported_officer_loads_like_its_events_and_later_events_follow_it(
    consumer_feed, directory_events, new_uow, rows
):
    """The bootstrap path (docs/registry-export.md): the export's officer line, with its
    conflicts, goes through the same rules; an older event after it changes nothing."""
    officer, live, withdrawn = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    exported = directory_events.inspector(officer, version=5, station_code="330106-03").payload
    line = {
        "type": "registry.inspector.upserted.v1",
        "data": exported.model_dump(mode="json"),
        "conflicts": [
            directory_events.conflict(c, officer, uscc(), v, withdrawn=w).payload.model_dump(
                mode="json"
            )
            for c, v, w in ((live, 4, False), (withdrawn, 5, True))
        ],
    }
    uow = new_uow()
    async with uow:
        await inspectors.save_exported_officer(uow.session, line)
        await uow.commit()
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)

    await publish_all(
        feed,
        [directory_events.inspector(officer, version=4, status="left"),
         directory_events.conflict(withdrawn, officer, uscc(), 3)],
    )  # fmt: skip

    stored = await inspectors.inspector(new_uow(), officer)
    assert (stored.version, stored.status, stored.station_code) == (5, "active", "330106-03")
    [kept] = await rows("inspector_conflicts", withdrawn)
    assert kept["withdrawn"]
    assert not (await rows("inspector_conflicts", live))[0]["withdrawn"]


async def test_an_org_is_stored_and_replaced_only_by_a_higher_version(
    consumer_feed, directory_events, new_uow, rows
):
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    org, code = uuid.uuid4(), bureau()
    newer = directory_events.org(org, code, version=3, level="city")
    older = directory_events.org(org, code, version=2, status="closed")

    sent, _ = await publish_all(feed, [newer, older])
    # A copy under another message id (past JetStream's duplicate window): the inbox drops it.
    await feed.publish_raw(f"evt.p33.{sent.type}", sent.model_dump_json().encode())
    await feed.settled()

    [row] = await rows("orgs", org)
    assert (row["code"], row["version"], row["level"], row["status"]) == (code, 3, "city", "active")
    async with new_uow() as uow:
        assert await inspectors_repo.is_department(uow.session, code)
        assert not await inspectors_repo.is_department(uow.session, bureau())
