"""Operator subcommands of `ids1`: `commitment`, `party-secret` and `bundle`.

They build IDS-1 JSON from the operator's list files and flags, check it with the verifier's
own rules, and print it, so no commitment or bundle is ever written by hand.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import re
from fractions import Fraction
from typing import Any

from .beacon import read_beacon_value
from .builder import DrawInputs, build_bundle, build_commitment, new_party_secret
from .cli_io import EXIT_OK, EXIT_REJECTED, Io, Unreadable, read_json_file
from .commitment import commitment_hash, parse_ratio, read_commitment
from .drand import QUICKNET_CHAIN_HASH, round_time
from .encoding import timestamp_seconds, utf8
from .errors import ErrorCode, Rejected, VerifierUnavailable
from .jsontext import JsonValue, canonical_json
from .lists import read_recusal
from .model import (
    Beacon,
    CommitRevealBeacon,
    DrandBeacon,
    FixedBeacon,
    StratumRule,
    TeamRule,
)
from .schema import items
from .verification import verify_tree

_PERCENT = re.compile(r"([0-9]+(?:\.[0-9]+)?)%")
_COUNT = re.compile(r"[0-9]+")
_RECOMMENDED_LEAD_SECONDS = 600

_COMMITMENT_HELP = """\
Build the commitment document (DRAW_SPEC §4) from the four list files and the draw rules.
The list files are JSON arrays of entries exactly as they will be published in the bundle,
already sorted by UTF-8 bytes of their keys (they are never re-sorted for you). The
canonical (JCS) document is printed on standard output; its commitment_sha256 and the list
hashes are printed on standard error.

example:
  ids1 commitment --draw-id 2025-SPOT-0001 --manifest manifest.json \\
      --exclusions exclusions.json --stratum A=1/5 --stratum B=3% --stratum C=12 \\
      --drand-round 5000000 > commitment.json
"""


def add_subcommands(sub: Any) -> None:
    """Register the operator subcommands on the `ids1` subparsers object."""
    c = sub.add_parser(
        "commitment",
        help="build a commitment document from the list files and rules",
        description=_COMMITMENT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument("--draw-id", required=True, help="public code of the draw (non-empty)")
    _list_arguments(c)
    c.add_argument(
        "--stratum",
        action="append",
        default=[],
        metavar="NAME=RULE",
        help="a stratum and its rule, repeatable: a ratio 'a/b' (e.g. A=1/5), a percentage "
        "written as the reduced fraction of p/100 (B=2.5%% gives 1/40), or a count (C=12); "
        "written to the document in UTF-8 byte order of the names",
    )
    team = c.add_argument_group("team phase (omit --team-size for a draw without teams)")
    team.add_argument("--team-size", type=int, help="inspectors per team, 1..1000")
    team.add_argument("--lead-expertise", help="tag the lead must hold (default: no rule)")
    team.add_argument("--scope", choices=("all", "same-unit"), help="inspector pool per subject")
    team.add_argument("--task-date", help="YYYY-MM-DD; certificates must be valid through it")
    beacon = c.add_argument_group("beacon (exactly one)")
    beacon.add_argument("--drand-round", type=int, metavar="N", help="drand quicknet round")
    beacon.add_argument(
        "--party-commitment",
        action="append",
        metavar="HEX",
        help="commit-reveal: one party's commitment (from `ids1 party-secret`), at least two",
    )
    beacon.add_argument("--fixed-beacon", metavar="HEX", help="fixed value, TESTS ONLY")
    c.add_argument(
        "--committed-at",
        help="YYYY-MM-DDTHH:MM:SSZ (default: now, UTC); the beacon must come strictly later",
    )
    c.add_argument("--pretty", action="store_true", help="indent instead of canonical JSON")

    p = sub.add_parser(
        "party-secret",
        help="commit-reveal: generate a party's secret and its commitment",
        description="Print {party_id, secret, commitment}. Hand over only 'commitment' before "
        "the document is published; reveal 'secret' after checking that your commitment is "
        "in the published document. Never reuse a secret (DRAW_SPEC §5.2).",
    )
    p.add_argument("--party-id", required=True, help="the party's name, e.g. 公证处")

    b = sub.add_parser(
        "bundle",
        help="assemble the bundle from the commitment, beacon value and list files",
        description="Print the bundle (DRAW_SPEC §10.1) after verifying it completely. The "
        "beacon value file holds the JSON value for the committed source: the fixed hex "
        "string, drand's round object (randomness and signature; other keys of drand's "
        "answer are dropped) or the array of {party_id, secret} reveals (sorted for you).",
    )
    b.add_argument("--commitment", required=True, metavar="FILE", help="commitment document")
    b.add_argument("--beacon-value", required=True, metavar="FILE", help="beacon value JSON")
    _list_arguments(b)
    b.add_argument("--recusals", metavar="FILE", help="JSON array of recusals, in order")
    b.add_argument("--compact", action="store_true", help="print JSON on one line")


def _list_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--manifest", required=True, metavar="FILE", help="population list")
    parser.add_argument("--exclusions", metavar="FILE", help="exclusion list (default: empty)")
    parser.add_argument("--inspectors", metavar="FILE", help="inspector list (default: empty)")
    parser.add_argument("--conflicts", metavar="FILE", help="conflict list (default: empty)")


def run(args: argparse.Namespace, io: Io) -> int:
    """Dispatch an operator subcommand; invalid inputs print a rejection object (exit 1)."""
    try:
        if args.command == "commitment":
            return _commitment(args, io)
        if args.command == "party-secret":
            secret = new_party_secret(args.party_id)
            io.emit(
                {
                    "party_id": secret.party_id,
                    "secret": secret.secret,
                    "commitment": secret.commitment,
                }
            )
            io.note("ids1: keep 'secret' private until the commitment document is published")
            return EXIT_OK
        return _bundle(args, io)
    except Rejected as rejection:
        io.emit(rejection.to_json())
        io.note(f"ids1: refused: {rejection}")
        return EXIT_REJECTED


def _inputs(args: argparse.Namespace, io: Io) -> DrawInputs:
    def optional(path: str | None) -> JsonValue:
        return None if path is None else read_json_file(path, io.stdin)

    return DrawInputs.from_json(
        read_json_file(args.manifest, io.stdin),
        optional(args.exclusions),
        optional(args.inspectors),
        optional(args.conflicts),
    )


def _commitment(args: argparse.Namespace, io: Io) -> int:
    committed_at = args.committed_at or _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    beacon = _beacon(args)
    inputs = _inputs(args, io)
    doc = build_commitment(
        inputs,
        draw_id=args.draw_id,
        strata=_strata(args.stratum),
        team=_team(args),
        beacon=beacon,
        committed_at=committed_at,
    )
    if isinstance(beacon, DrandBeacon):
        _check_round_time(beacon, committed_at, io)
    if args.pretty:
        io.emit(doc)
    else:
        io.stdout.write(canonical_json(doc).decode("utf-8") + "\n")
    io.note(f"commitment_sha256 {commitment_hash(doc).hex()}")
    for name, digest in inputs.hashes().items():
        io.note(f"{name}_sha256 {digest}")
    if isinstance(beacon, FixedBeacon):
        io.note("ids1: warning: fixed beacon (tests only); production draws must not use it")
    return EXIT_OK


def _strata(specs: list[str]) -> list[StratumRule]:
    rules: list[StratumRule] = []
    for spec in specs:
        name, sep, rule = spec.rpartition("=")
        if not sep or not name:
            raise Unreadable(f"--stratum {spec!r}: expected NAME=RULE")
        percent = _PERCENT.fullmatch(rule)
        if percent is not None:
            share = Fraction(percent[1]) / 100
            rule = f"{share.numerator}/{share.denominator}"
        if _COUNT.fullmatch(rule):
            rules.append(StratumRule(name, int(rule)))
        else:
            rules.append(StratumRule(name, parse_ratio(rule, f"--stratum {name}")))
    # The document lists strata in byte order (§4.1); flags may come in any order.
    return sorted(rules, key=lambda r: utf8(r.stratum))


def _team(args: argparse.Namespace) -> TeamRule | None:
    if args.team_size is None:
        if args.lead_expertise or args.scope or args.task_date:
            raise Unreadable("team options given without --team-size")
        return None
    if args.scope is None or args.task_date is None:
        raise Unreadable("--team-size needs --scope and --task-date")
    return TeamRule(args.team_size, args.lead_expertise, args.scope, args.task_date)


def _beacon(args: argparse.Namespace) -> Beacon:
    chosen = [x for x in (args.drand_round, args.party_commitment, args.fixed_beacon) if x]
    if len(chosen) != 1:
        raise Unreadable(
            "give exactly one beacon: --drand-round, --party-commitment or --fixed-beacon"
        )
    if args.drand_round is not None:
        return DrandBeacon(QUICKNET_CHAIN_HASH, args.drand_round)
    if args.party_commitment:
        # A set of commitments: listed in ascending order by the tool, repeats kept so the
        # verifier's own check reports them (E_DUPLICATE).
        return CommitRevealBeacon(tuple(sorted(args.party_commitment)))
    return FixedBeacon(args.fixed_beacon)


def _check_round_time(beacon: DrandBeacon, committed_at: str, io: Io) -> None:
    committed = timestamp_seconds(committed_at)
    assert committed is not None
    when = round_time(beacon.round)
    stamp = _dt.datetime.fromtimestamp(when, _dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if when <= committed:
        raise Rejected(
            ErrorCode.BEACON,
            f"drand round {beacon.round} ({stamp}) is not after committed_at {committed_at}",
        )
    io.note(f"drand round {beacon.round} is published at {stamp}")
    if when - committed < _RECOMMENDED_LEAD_SECONDS:
        io.note("ids1: warning: choose a round at least 10 minutes after publication (§5.1)")


def _bundle(args: argparse.Namespace, io: Io) -> int:
    doc = read_json_file(args.commitment, io.stdin)
    commitment = read_commitment(doc)
    assert isinstance(doc, dict)
    raw_value = read_json_file(args.beacon_value, io.stdin)
    if isinstance(commitment.beacon, DrandBeacon) and isinstance(raw_value, dict):
        raw_value = {k: v for k, v in raw_value.items() if k in ("randomness", "signature")}
    value = read_beacon_value(commitment.beacon, raw_value, "beacon_value")
    if isinstance(value, tuple):
        value = tuple(sorted(value, key=lambda r: utf8(r.party_id)))
    recusals: JsonValue = []
    if args.recusals is not None:
        recusals = read_json_file(args.recusals, io.stdin)
    bundle = build_bundle(doc, value, _inputs(args, io), items(recusals, "recusals", read_recusal))
    try:
        verify_tree(bundle)
    except VerifierUnavailable as exc:
        io.note(f"ids1: warning: bundle not fully verified: {exc}")
    io.emit(bundle, pretty=not args.compact)
    return EXIT_OK
