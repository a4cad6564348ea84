"""The registry's export is NDJSON: a line ends at `\\n` and nowhere else, whatever a subject's
name holds and however the stream is cut into chunks."""

import json

import pytest

from shuangsui.sampling.adapters.subjects import ndjson_objects

LINES = [
    {"type": "header", "snapshot": "10:12:"},
    {"type": "subject", "name": "杭州\u2028某某\u0085商行\x1c", "address": "a\u2029b"},
    {"type": "trailer", "lines": 1},
]
BODY = b"".join(json.dumps(line, ensure_ascii=False).encode() + b"\n" for line in LINES)


async def _chunks(body: bytes, size: int):
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("size", [1, 7, 64, len(BODY)])
async def test_lines_split_at_newlines_only_whatever_the_chunks(size):
    found = [line async for line in ndjson_objects(_chunks(BODY, size))]

    assert found == LINES


async def test_a_last_line_without_its_newline_is_read_and_blank_lines_are_skipped():
    body = b"\n" + json.dumps(LINES[0]).encode() + b"\n\n" + json.dumps(LINES[2]).encode()

    found = [line async for line in ndjson_objects(_chunks(body, 5))]

    assert found == [LINES[0], LINES[2]]
