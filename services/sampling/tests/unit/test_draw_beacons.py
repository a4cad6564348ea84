"""Randomness is accepted only as DRAW_SPEC §5 allows: commit-reveal secrets open their own
commitments and come after publication and before the deadline, once per party; a drand round
only with a verified BLS signature; a fixed value only in test mode."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from draw_testkit import vector

from shuangsui.drawspec import DrawInputs, FixedBeacon
from shuangsui.drawspec.cli import run
from shuangsui.drawspec.cli_io import Io
from shuangsui.drawspec.drand import QUICKNET_CHAIN_HASH, round_time
from shuangsui.drawspec.model import DrandBeacon
from shuangsui.sampling.domain.beacons import (
    BeaconRefused,
    CommitReveal,
    OfferedRound,
    accept_offered,
    accept_round,
    check_round_ahead,
    check_round_horizon,
    drand_beacon,
    drand_overdue,
    fixed_beacon,
    hands_in,
    round_at,
    session,
)
from shuangsui.sampling.domain.draws import Draw, DrawKind

TV4 = vector("TV4-commit-reveal-chinese")
TV6 = vector("TV6-drand-real-round")
PUBLISHED = datetime(2025, 5, 6, 0, 0, tzinfo=UTC)
DEADLINE = PUBLISHED + timedelta(hours=4)
SECRETS = {r["party_id"]: r["secret"] for r in TV4["bundle"]["beacon_value"]}


def party_secret(party_id: str) -> dict[str, str]:
    """What `shuangsui draw party-secret --party-id …` prints (the same code as `ids1`)."""
    out, err = io.StringIO(), io.StringIO()
    assert run(["party-secret", "--party-id", party_id], Io(io.BytesIO(), out, err)) == 0
    printed: dict[str, str] = json.loads(out.getvalue())
    return printed


def tv4_session() -> CommitReveal:
    from shuangsui.drawspec.beacon import party_commitment

    pairs = [(p, party_commitment(p, bytes.fromhex(s)).hex()) for p, s in SECRETS.items()]
    return session(reversed(pairs))


def test_tv4_commit_reveal_runs_through_the_session_and_the_draw() -> None:
    exchange = tv4_session()
    committed = TV4["bundle"]["commitment"]
    assert exchange.beacon().commitments == tuple(committed["beacon"]["commitments"])
    exchange = exchange.seal(DEADLINE)
    draw = Draw(uuid.uuid4(), committed["draw_id"], uuid.uuid4(), DrawKind.combined)
    draw = draw.commit(committed)
    for n, (party, secret) in enumerate(SECRETS.items()):
        assert not exchange.complete
        exchange = exchange.reveal(party, secret, PUBLISHED + timedelta(minutes=n))
    assert exchange.complete
    assert exchange.missing() == ()
    value = exchange.beacon_value()
    assert [{"party_id": r.party_id, "secret": r.secret} for r in value] == TV4["bundle"][
        "beacon_value"
    ]
    bundle = TV4["bundle"]
    inputs = DrawInputs.from_json(
        bundle["manifest"], bundle["exclusions"], bundle["inspectors"], bundle["conflicts"]
    )
    assert draw.reveal(value).compute(inputs).result == TV4["expected"]


def test_secrets_from_the_party_secret_command_open_their_commitments() -> None:
    a, b = party_secret("330106"), party_secret("卫生健康局")
    assert set(a) == {"party_id", "secret", "commitment"}
    exchange = session([(a["party_id"], a["commitment"]), (b["party_id"], b["commitment"])])
    exchange = exchange.seal(DEADLINE)
    exchange = exchange.reveal(b["party_id"], b["secret"], PUBLISHED)
    exchange = exchange.reveal(a["party_id"], a["secret"], PUBLISHED)
    assert [r.party_id for r in exchange.beacon_value()] == ["330106", "卫生健康局"]
    assert len(exchange.randomness()) == 32


def sealed() -> CommitReveal:
    return tv4_session().seal(DEADLINE)


@pytest.mark.parametrize(
    ("party", "secret", "at", "rule"),
    [
        ("审计局", SECRETS["公证处"], PUBLISHED, "draw-reveal-not-committed"),
        ("税务局", SECRETS["税务局"], DEADLINE + timedelta(seconds=1), "draw-reveal-late"),
        ("税务局", SECRETS["税务局"].upper(), PUBLISHED, "E_SCHEMA"),
        ("税务局", SECRETS["税务局"][:62], PUBLISHED, "E_SCHEMA"),
        ("税务局", SECRETS["公证处"], PUBLISHED, "E_BEACON"),  # another party's secret
    ],
)
def test_a_bad_reveal_is_refused(party: str, secret: str, at: datetime, rule: str) -> None:
    with pytest.raises(BeaconRefused) as refused:
        sealed().reveal(party, secret, at)
    assert refused.value.rule == rule


def test_a_second_reveal_is_refused_even_with_the_right_secret() -> None:
    once = sealed().reveal("税务局", SECRETS["税务局"], PUBLISHED)
    with pytest.raises(BeaconRefused) as refused:
        once.reveal("税务局", SECRETS["税务局"], PUBLISHED)
    assert refused.value.rule == "draw-reveal-repeated"


def test_a_reveal_at_the_deadline_itself_is_accepted() -> None:
    assert sealed().reveal("税务局", SECRETS["税务局"], DEADLINE).missing() == (
        "市场监管局",
        "公证处",
    )


def test_no_reveal_before_the_commitment_is_published() -> None:
    with pytest.raises(BeaconRefused) as refused:
        tv4_session().reveal("税务局", SECRETS["税务局"], PUBLISHED)
    assert refused.value.rule == "draw-reveal-too-early"


def test_no_party_joins_after_publication_and_none_commits_twice() -> None:
    a, b = party_secret("A"), party_secret("B")
    with pytest.raises(BeaconRefused) as refused:
        sealed().commit(a["party_id"], a["commitment"])
    assert refused.value.rule == "draw-commitments-sealed"
    once = CommitReveal().commit("A", a["commitment"])
    with pytest.raises(BeaconRefused) as refused:
        once.commit("A", b["commitment"])
    assert refused.value.rule == "draw-party-committed"
    with pytest.raises(BeaconRefused) as refused:
        once.commit("B", a["commitment"])
    assert refused.value.rule == "E_DUPLICATE"
    for party, commitment in (("", b["commitment"]), ("B", "xyz"), ("B", "A" * 64)):
        with pytest.raises(BeaconRefused) as refused:
            once.commit(party, commitment)
        assert refused.value.rule == "E_SCHEMA"


def test_commit_reveal_needs_two_parties() -> None:
    one = CommitReveal().commit("A", party_secret("A")["commitment"])
    for step in (one.beacon, lambda: one.seal(DEADLINE)):
        with pytest.raises(BeaconRefused) as refused:
            step()
        assert refused.value.rule == "E_SCHEMA"


def test_a_missing_reveal_gives_no_beacon_value_and_fails_at_the_deadline() -> None:
    partial = sealed().reveal("税务局", SECRETS["税务局"], PUBLISHED)
    with pytest.raises(BeaconRefused) as refused:
        partial.beacon_value()
    assert refused.value.rule == "draw-reveal-missing"
    assert not partial.overdue(DEADLINE)
    assert partial.overdue(DEADLINE + timedelta(seconds=1))
    assert partial.missing() == ("市场监管局", "公证处")


# ---- drand quicknet --------------------------------------------------------------------------

ROUND = TV6["bundle"]["commitment"]["beacon"]["round"]
VALUE = TV6["bundle"]["beacon_value"]
COMMITTED_AT = TV6["bundle"]["commitment"]["committed_at"]


def tv6_beacon() -> DrandBeacon:
    return DrandBeacon(QUICKNET_CHAIN_HASH, ROUND)


def test_a_real_round_with_a_verified_signature_is_accepted() -> None:
    value = accept_round(tv6_beacon(), VALUE["randomness"], VALUE["signature"], COMMITTED_AT)
    assert value.randomness == VALUE["randomness"]


def test_a_tampered_signature_or_a_round_not_after_the_commitment_is_refused() -> None:
    signature = VALUE["signature"]
    tampered = signature[:-2] + ("00" if signature[-2:] != "00" else "01")
    import hashlib

    randomness = hashlib.sha256(bytes.fromhex(tampered)).hexdigest()
    cases = [
        (tv6_beacon(), randomness, tampered, COMMITTED_AT),  # BLS fails
        (tv6_beacon(), VALUE["randomness"], VALUE["signature"], "2023-09-15T11:00:03Z"),
        (tv6_beacon(), "0" * 64, VALUE["signature"], COMMITTED_AT),  # not SHA-256(signature)
        (
            DrandBeacon(QUICKNET_CHAIN_HASH, ROUND + 1),
            VALUE["randomness"],
            VALUE["signature"],
            COMMITTED_AT,
        ),
        (DrandBeacon("1" * 64, ROUND), VALUE["randomness"], VALUE["signature"], COMMITTED_AT),
    ]
    for beacon, r, s, at in cases:
        with pytest.raises(BeaconRefused) as refused:
            accept_round(beacon, r, s, at)
        assert refused.value.rule == "E_BEACON"


def test_a_malformed_round_value_is_refused_as_schema() -> None:
    for r, s in (("F" * 64, VALUE["signature"]), (VALUE["randomness"], "abc"),
                 (VALUE["randomness"], "")):  # fmt: skip
        with pytest.raises(BeaconRefused) as refused:
            accept_round(tv6_beacon(), r, s, COMMITTED_AT)
        assert refused.value.rule == "E_SCHEMA"


def test_the_committed_round_comes_at_least_ten_minutes_after_the_commitment() -> None:
    at = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)
    beacon = drand_beacon(at)
    due = round_time(beacon.round)
    assert due >= (at + timedelta(minutes=10)).timestamp() > round_time(beacon.round - 1)
    check_round_ahead(beacon, at)
    with pytest.raises(BeaconRefused) as refused:
        check_round_ahead(DrandBeacon(QUICKNET_CHAIN_HASH, round_at(at)), at)
    assert refused.value.rule == "draw-beacon-round-too-soon"
    assert round_at(datetime(2000, 1, 1, tzinfo=UTC)) == 1
    grace = timedelta(minutes=30)
    due_at = datetime.fromtimestamp(due, UTC)
    assert not drand_overdue(beacon, due_at + grace, grace)
    assert drand_overdue(beacon, due_at + grace + timedelta(seconds=1), grace)


def test_a_round_due_more_than_seven_days_after_the_commitment_is_refused() -> None:
    at = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)
    last = round_at(at + timedelta(days=7)) - 1  # the last round due within seven days
    check_round_horizon(DrandBeacon(QUICKNET_CHAIN_HASH, last), at)
    with pytest.raises(BeaconRefused) as refused:
        check_round_horizon(DrandBeacon(QUICKNET_CHAIN_HASH, last + 1), at)
    assert refused.value.rule == "draw-beacon-round-too-late"


def test_an_offered_round_must_be_the_committed_one() -> None:
    genuine = OfferedRound(ROUND, VALUE["randomness"], VALUE["signature"])
    assert accept_offered(tv6_beacon(), genuine, COMMITTED_AT).signature == VALUE["signature"]
    # The genuine value of the committed round, named as another round, is still refused.
    with pytest.raises(BeaconRefused) as refused:
        accept_offered(DrandBeacon(QUICKNET_CHAIN_HASH, ROUND - 1), genuine, COMMITTED_AT)
    assert (refused.value.rule, refused.value.field) == ("E_BEACON", "round")


# ---- fixed -----------------------------------------------------------------------------------


def test_a_fixed_beacon_is_refused_outside_test_mode() -> None:
    value = "5f3be94dddf83cdc2cfed1a2cb2e6947d42602031a3007e0145158b51208bd82"
    with pytest.raises(BeaconRefused) as refused:
        fixed_beacon(value, test_mode=False)
    assert refused.value.rule == "draw-beacon-fixed"
    assert fixed_beacon(value, test_mode=True) == FixedBeacon(value)
    with pytest.raises(BeaconRefused) as refused:
        fixed_beacon(value.upper(), test_mode=True)
    assert refused.value.rule == "E_SCHEMA"


def test_tv6_a_drand_draw_completes_only_with_the_accepted_round() -> None:
    bundle = TV6["bundle"]
    draw = Draw(uuid.uuid4(), bundle["commitment"]["draw_id"], uuid.uuid4(), DrawKind.subjects)
    draw = draw.commit(bundle["commitment"])
    assert draw.beacon_source == "drand-quicknet"
    value = accept_round(tv6_beacon(), VALUE["randomness"], VALUE["signature"], COMMITTED_AT)
    inputs = DrawInputs.from_json(
        bundle["manifest"], bundle["exclusions"], bundle["inspectors"], bundle["conflicts"]
    )
    assert draw.reveal(value).compute(inputs).result == TV6["expected"]


def test_the_exchange_is_sealed_only_against_a_document_naming_its_commitments() -> None:
    document = TV4["bundle"]["commitment"]
    from shuangsui.drawspec.beacon import read_beacon

    published = read_beacon(document["beacon"], "beacon")
    assert tv4_session().seal(DEADLINE, published).sealed
    other = CommitReveal().commit("A", party_secret("A")["commitment"])
    other = other.commit("B", party_secret("B")["commitment"])
    with pytest.raises(BeaconRefused) as refused:
        other.seal(DEADLINE, published)
    assert refused.value.rule == "draw-commitments-mismatch"


DEPARTMENTS = frozenset({"330106-AMR", "330106-WJ"})


@pytest.mark.parametrize(
    ("party", "own", "leads", "may"),
    [
        ("330106-AMR", "330106-AMR", True, True),  # the lead's own secret
        ("330106-WJ", "330106-AMR", True, False),  # the lead never for its partner
        ("330106-WJ", "330106-WJ", False, True),  # the partner's own
        ("330106-AMR", "330106-WJ", False, False),  # the partner never for the lead
        ("公证处", "330106-AMR", True, True),  # a witness's, handed in by the lead
        ("公证处", "330106-WJ", False, False),  # …never by a partner
        ("330106-WJ", None, False, False),  # a token naming no org
        ("330100-AMR", "330100-AMR", False, True),  # a department outside the batch, its own
    ],
)
def test_a_department_hands_in_only_its_own_secret(party, own, leads, may):
    assert hands_in(party, own_code=own, leads=leads, departments=DEPARTMENTS) is may
