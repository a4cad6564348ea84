"""What a row of a bulk input comes to: only a created or updated row changes what is stored."""

import pytest

from shuangsui.contracts.batches import ChangeKind, RowError


@pytest.mark.parametrize(
    ("kind", "applies"),
    [
        (ChangeKind.created, True),
        (ChangeKind.updated, True),
        (ChangeKind.unchanged, False),
        (ChangeKind.stale, False),
    ],
)
def test_only_created_and_updated_rows_are_applied(kind, applies):
    assert kind.applies is applies


def test_a_row_error_without_a_readable_key_names_none():
    assert RowError(3, "line", "not JSON").key is None
