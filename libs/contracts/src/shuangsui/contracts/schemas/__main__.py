"""``python -m shuangsui.contracts.schemas write [--force] | check``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from shuangsui.contracts.schemas import check_schemas, default_schema_dir, write_schemas


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shuangsui.contracts.schemas",
        description="Write or check the committed JSON schemas of the event payloads.",
    )
    parser.add_argument("command", choices=["write", "check"])
    parser.add_argument(
        "--dir", type=Path, help="schema directory (default: libs/contracts/schemas)"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="with write: rewrite changed schemas of models not yet released (released = False)",
    )
    args = parser.parse_args(argv)
    directory: Path = args.dir or default_schema_dir()

    if args.command == "check":
        problems = check_schemas(directory)
        for problem in problems:
            print(f"{problem.kind}: {problem.message}", file=sys.stderr)
        if not problems:
            print(f"schemas in {directory} match the payload models")
        return 1 if problems else 0

    report = write_schemas(directory, force=args.force)
    for path in report.written:
        print(f"wrote {path}")
    for problem in report.refused:
        print(f"refused: {problem.message}", file=sys.stderr)
    orphans = [p for p in check_schemas(directory) if p.kind == "orphan"]
    for problem in orphans:
        print(f"orphan: {problem.message}", file=sys.stderr)
    return 0 if report.ok and not orphans else 1


if __name__ == "__main__":
    sys.exit(main())
