"""`ids1` / `python -m shuangsui.drawspec`: compute and verify IDS-1 draws (DRAW_SPEC §10.5).

Exit codes:
  0  compute: a result object was computed; verify: the published result equals the computed
     one (an equal rejection code counts as equal)
  1  compute: the bundle was rejected (the rejection object is printed), or a vector file's
     `expected` differs; verify: mismatch (the differing field is named)
  2  unreadable input: a file cannot be read or is not JSON, a published result is neither a
     result nor a rejection object, a vector file lacks `bundle`/`expected`; also usage errors
  3  the draw cannot be checked in this installation (drand beacon without the `drand` extra)

Only JSON goes to standard output; diagnostics go to standard error. `main(argv)` never calls
`sys.exit`, so other command-line front ends can wrap it.
"""

from __future__ import annotations

import argparse
import sys

from . import cli_build
from .cli_io import (
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_UNAVAILABLE,
    EXIT_UNREADABLE,
    Io,
    Unreadable,
    read_input,
)
from .errors import ErrorCode, Rejected, VerifierUnavailable
from .jsontext import BomPrefixed, JsonValue, NotJson, dumps, parse_json
from .result import first_difference, is_rejection_object, is_result_object, value_at
from .verdict import Verdict
from .verification import outcome


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree for all subcommands (exposed for wrappers and documentation)."""
    parser = argparse.ArgumentParser(
        prog="ids1",
        description="IDS-1 verifiable draw (双随机抽查): compute, verify, build commitments.",
        epilog="Exit codes: 0 ok/match, 1 rejected/mismatch, 2 unreadable input, "
        "3 check unavailable here (install shuangsui-drawspec[drand]).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    compute = sub.add_parser(
        "compute",
        help="compute the result (or rejection) of a bundle or vector file",
        description="Print the result object (§10.2) or the rejection object (§10.3) of a "
        "bundle. FILE may also be a test-vector file {name, description, bundle, expected}; "
        "the result is then compared with `expected` (exit 1 on mismatch).",
    )
    compute.add_argument("file", metavar="FILE", help="bundle or vector file; '-' for stdin")
    _common(compute)
    verify = sub.add_parser(
        "verify",
        help="check a published result against its bundle",
        description="Recompute the bundle and compare with the published result as JSON "
        "values (rejections compare by code only). With a single vector file, compare with "
        "its `expected`. Prints a verdict object naming the first differing field.",
    )
    verify.add_argument("bundle", metavar="BUNDLE", help="bundle or vector file; '-' for stdin")
    verify.add_argument("result", metavar="RESULT", nargs="?", help="published result file")
    _common(verify)
    cli_build.add_subcommands(sub)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--compact", action="store_true", help="print JSON on one line")
    parser.add_argument(
        "--test-mode", action="store_true", help="do not warn about fixed (test-only) beacons"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    io = Io(sys.stdin.buffer, sys.stdout, sys.stderr)
    return run(list(sys.argv[1:] if argv is None else argv), io)


def run(argv: list[str], io: Io) -> int:
    """Run with explicit streams."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_UNREADABLE
    try:
        if args.command == "compute":
            return _compute(args, io)
        if args.command == "verify":
            return _verify(args, io)
        return cli_build.run(args, io)
    except Unreadable as exc:
        io.note(f"ids1: {exc}")
        return EXIT_UNREADABLE
    except VerifierUnavailable as exc:
        io.note(f"ids1: {exc}")
        return EXIT_UNAVAILABLE


def _load(path: str, io: Io, *, echo_rejection: bool = False) -> JsonValue | Rejected:
    """Parse a file. A BOM-prefixed JSON text is JSON that IDS-1 rejects (exit 1, not 2), so
    it comes back as a `Rejected` unless it turns out to be a vector file."""
    data = read_input(path, io.stdin)
    try:
        return parse_json(data)
    except BomPrefixed as exc:
        if _split_vector(exc.tree, path) is not None:
            return exc.tree
        return Rejected(ErrorCode.SCHEMA, f"{path}: {exc}")
    except NotJson as exc:
        if echo_rejection:  # §10.5 allows printing the E_SCHEMA outcome with exit 2
            io.emit(Rejected(ErrorCode.SCHEMA, str(exc)).to_json())
        raise Unreadable(f"{path}: {exc}") from exc


def _split_vector(tree: JsonValue | Rejected, path: str) -> tuple[JsonValue, JsonValue] | None:
    """`(bundle, expected)` if the file is a test vector (§10.4), None if it is a bundle."""
    if not isinstance(tree, dict) or "commitment" in tree:
        return None
    if "bundle" not in tree and "expected" not in tree:
        return None
    if "bundle" not in tree or "expected" not in tree:
        raise Unreadable(f"{path}: a vector file needs both 'bundle' and 'expected'")
    return tree["bundle"], tree["expected"]


def _outcome(bundle: JsonValue | Rejected) -> dict[str, JsonValue]:
    if isinstance(bundle, Rejected):
        return dict(bundle.to_json())
    return outcome(bundle)


def _compute(args: argparse.Namespace, io: Io) -> int:
    tree = _load(args.file, io, echo_rejection=True)
    vector = _split_vector(tree, args.file)
    bundle = tree if vector is None else vector[0]
    _warn_fixed(bundle, args, io)
    computed = _outcome(bundle)
    io.emit(computed, pretty=not args.compact)
    if vector is not None:
        return _compare(vector[1], computed, io, label="expected")
    if "error" in computed:
        io.note(f"ids1: bundle rejected: {computed['error']}: {computed.get('message', '')}")
        return EXIT_REJECTED
    return EXIT_OK


def _verify(args: argparse.Namespace, io: Io) -> int:
    tree = _load(args.bundle, io)
    vector = _split_vector(tree, args.bundle)
    published: JsonValue | Rejected
    if args.result is not None:
        bundle = tree if vector is None else vector[0]
        published = _load(args.result, io)
    elif vector is not None:
        bundle, published = vector
    else:
        raise Unreadable(f"{args.bundle}: not a vector file; give BUNDLE and RESULT")
    if isinstance(published, Rejected) or not (
        is_result_object(published) or is_rejection_object(published)
    ):
        raise Unreadable("the published result is neither a result nor a rejection object")
    _warn_fixed(bundle, args, io)
    computed = _outcome(bundle)
    io.emit(Verdict.of(published, computed).to_json(), pretty=not args.compact)
    return _compare(published, computed, io, label="published")


def _compare(published: JsonValue, computed: dict[str, JsonValue], io: Io, *, label: str) -> int:
    field = first_difference(published, computed)
    if field is None:
        io.note(f"ids1: OK, the {label} result equals the computed one")
        return EXIT_OK
    io.note(
        f"ids1: MISMATCH at {field}: {label} {dumps(value_at(published, field), pretty=False)}, "
        f"computed {dumps(value_at(computed, field), pretty=False)}"
    )
    if "message" in computed:
        io.note(f"ids1: computed rejection: {computed['error']}: {computed['message']}")
    return EXIT_REJECTED


def _warn_fixed(bundle: JsonValue | Rejected, args: argparse.Namespace, io: Io) -> None:
    # §5.3: verifiers SHOULD warn about a fixed beacon outside test mode.
    if args.test_mode or not isinstance(bundle, dict):
        return
    commitment = bundle.get("commitment")
    beacon = commitment.get("beacon") if isinstance(commitment, dict) else None
    if isinstance(beacon, dict) and beacon.get("source") == "fixed":
        io.note("ids1: warning: fixed beacon (tests only); production draws must not use it")
