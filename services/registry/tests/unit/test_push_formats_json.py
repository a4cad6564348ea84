"""NDJSON lines read through orjson give exactly what the standard library gives (no I/O)."""

import io
import json

import pytest

from shuangsui.contracts.batches import RowError
from shuangsui.registry.adapters.push_formats import _json_line, ndjson_rows

HOSTILE_LINES = [
    '{"uscc": "91330106MA2AXXXX0X", "name": "杭州西溪食品有限公司"}',
    '{"name": "\\u676d\\u5dde \\"quoted\\" \\\\ back\\tslash\\n", "emoji": "😀 \\ud83d\\ude00"}',
    '{"registered_capital_wan": 12.50, "tiny": 1e-300, "neg": -0.0, "exp": 2E+3}',
    '{"extra": {"big": 123456789012345678901234567890, "small": 5}}',
    '{"extra": {"edge": 18446744073709551615, "below": -9223372036854775809}}',
    '{"extra": {"nested": [{"a": [1, 2.5, {"b": null}]}, true, false]}}',
    '{"a": 1, "a": 2}',
    '{"nan": NaN, "inf": Infinity, "huge": 1e400}',
    '{"lone": "\\ud800"}',
    '{"控制": "\\u0000\\u001f", "licences": []}',
]


@pytest.mark.parametrize("line", HOSTILE_LINES)
def test_a_line_reads_as_the_standard_library_reads_it(line: str) -> None:
    expected = json.loads(line)
    got = _json_line(line.encode())
    assert repr(got) == repr(expected)  # repr: NaN, -0.0 and int-vs-float all compared
    assert [type(v) for v in got.values()] == [type(v) for v in expected.values()]


def test_an_integer_beyond_64_bits_stays_exact() -> None:
    got = _json_line(b'{"registered_capital_wan": 123456789012345678901234567890}')
    assert got["registered_capital_wan"] == 123456789012345678901234567890


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"uscc": "x",}', "not JSON: "),
        (b"[1, 2]", "each line must be one JSON object"),
        (b'{"name": "\xff\xfe"}', "not UTF-8 text"),
        (b'\xef\xbb\xbf{"name": "BOM"}', "not JSON: "),
    ],
)
def test_an_unreadable_line_is_refused_with_the_same_reason(line: bytes, reason: str) -> None:
    [(number, error)] = list(ndjson_rows(io.BytesIO(b"\n" + line + b"\n")))
    assert number == 2
    assert isinstance(error, RowError)
    assert (error.line, error.field) == (2, "line")
    assert error.reason.startswith(reason)
    if reason == "not JSON: ":
        with pytest.raises(json.JSONDecodeError) as refused:
            json.loads(line.decode("utf-8"))
        assert error.reason == f"not JSON: {refused.value.msg}"  # the standard library's words
