"""Streams, exit codes and input reading shared by the `ids1` subcommands (DRAW_SPEC §10.5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, TextIO

from .jsontext import JsonValue, NotJson, dumps, parse_json

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_UNREADABLE = 2
EXIT_UNAVAILABLE = 3


@dataclass(slots=True)
class Io:
    """The streams a command uses; injectable so the CLI can be driven in-process."""

    stdin: BinaryIO
    stdout: TextIO
    stderr: TextIO

    def emit(self, value: object, *, pretty: bool = True) -> None:
        """Write one JSON value to standard output."""
        self.stdout.write(dumps(value, pretty=pretty) + "\n")

    def note(self, message: str) -> None:
        """Write a diagnostic line to standard error."""
        self.stderr.write(message.rstrip("\n") + "\n")


class Unreadable(Exception):
    """Exit 2: the input cannot be read or is not JSON (§10.5)."""


def read_input(path: str, stdin: BinaryIO) -> bytes:
    """The bytes of a file, or of standard input for '-'."""
    try:
        if path == "-":
            return stdin.read()
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise Unreadable(f"cannot read {path}: {exc.strerror or exc}") from exc


def read_json_file(path: str, stdin: BinaryIO) -> JsonValue:
    """A JSON file for the operator tools; anything unparsable is `Unreadable`."""
    try:
        return parse_json(read_input(path, stdin))
    except NotJson as exc:
        raise Unreadable(f"{path}: {exc}") from exc
    except ValueError as exc:  # BomPrefixed: operators' files should be clean too
        raise Unreadable(f"{path}: {exc}") from exc
