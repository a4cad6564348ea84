"""The subject directory (检查对象名录库) and its change history."""

from alembic import op

from shuangsui.registry.adapters.subjects import history_columns, subject_columns

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table("subjects", *subject_columns())
    op.create_index("subjects_region", "subjects", ["region_code", "uscc"])
    op.create_index("subjects_unit", "subjects", ["unit_code"])
    op.create_table("subject_history", *history_columns())
