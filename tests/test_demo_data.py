"""The demo province is deterministic and every row passes the registry's own push rules."""

from datetime import UTC, datetime

from shuangsui.devstack.demo import DemoProvince
from shuangsui.registry.domain.subjects import Subject, read_row

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_same_seed_gives_the_same_province():
    assert list(DemoProvince(subjects=50).subject_rows()) == list(
        DemoProvince(subjects=50).subject_rows()
    )


def test_every_demo_row_is_a_valid_subject_of_the_province_with_a_unique_uscc():
    rows = list(DemoProvince(subjects=2000).subject_rows())
    subjects = [read_row(row, line, NOW, "33") for line, row in enumerate(rows, start=1)]
    refused = [s for s in subjects if not isinstance(s, Subject)]
    assert refused == []
    assert len({row["uscc"] for row in rows}) == len(rows)


def test_the_mix_of_subject_types_is_realistic():
    rows = list(DemoProvince(subjects=2000).subject_rows())
    share = sum(r["subject_type"] == "individual" for r in rows) / len(rows)
    assert 0.3 < share < 0.5, "about two in five market subjects are individual businesses"
