"""Optimistic concurrency: updating a versioned resource needs `If-Match` with its current ETag;
none is 428, a stale one is 412 telling the current ETag."""

import pytest

from shuangsui.kernel.concurrency import check_if_match, etag_of
from shuangsui.kernel.problems import PRECONDITION_FAILED, PRECONDITION_REQUIRED, Problem


def refusal(if_match: str | None, current_version: int) -> Problem:
    with pytest.raises(Problem) as refused:
        check_if_match(if_match, current_version)
    return refused.value


def test_update_without_if_match_is_428():
    assert refusal(None, 3).kind == PRECONDITION_REQUIRED


def test_stale_etag_is_412():
    assert refusal('"2"', 3).kind == PRECONDITION_FAILED


def test_stale_etag_answer_tells_the_current_etag():
    assert refusal('"2"', 3).extensions["current_etag"] == '"3"'


def test_unquoted_version_is_not_an_etag():
    assert refusal("3", 3).kind == PRECONDITION_FAILED


@pytest.mark.parametrize("if_match", ['"3"', 'W/"3"', "*", '"1", "3"', ' "2" , W/"3" '], ids=str)
def test_current_etag_passes(if_match):
    check_if_match(if_match, 3)


def test_etag_is_the_quoted_version():
    assert etag_of(7) == '"7"'
