"""Credit risk classes (信用风险分类) per subject and domain, with history."""

from alembic import op

from shuangsui.registry.adapters.risk_classes import risk_class_columns, risk_class_history_columns

revision = "0005"
down_revision = "0002"


def upgrade() -> None:
    op.create_table("subject_risk_classes", *risk_class_columns())
    op.create_table("risk_class_history", *risk_class_history_columns())
