"""Credit risk classes (信用风险分类) per subject and domain, with history.

Written out as they were in this revision (see 0002)."""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "subject_risk_classes",
        sa.Column("uscc", sa.String(18), primary_key=True),
        sa.Column("domain", sa.String(40), primary_key=True),
        sa.Column("risk_class", sa.String(1), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "risk_class_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("uscc", sa.String(18), nullable=False, index=True),
        sa.Column("domain", sa.String(40), nullable=False),
        sa.Column("old_class", sa.String(1)),
        sa.Column("new_class", sa.String(1), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
    )
