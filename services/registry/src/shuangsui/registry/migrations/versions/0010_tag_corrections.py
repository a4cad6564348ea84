"""Tag corrections (标签纠正): station staff propose tags to add and remove, admins review.

No foreign key to `subjects`: the directory is bulk-loaded and truncated by benchmarks, and a
correction names its subject by USCC like every other record of it. Two partial unique indexes
hold the rules concurrent requests could otherwise break: one proposal awaiting review per
subject, one approved correction in force per subject."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    op.create_table(
        "tag_corrections",
        sa.Column("correction_id", sa.Uuid, primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("add_tags", ARRAY(sa.Text), nullable=False),
        sa.Column("remove_tags", ARRAY(sa.Text), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("proposed_by", sa.Text, nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Text),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decision_note", sa.Text, nullable=False),
        sa.Column("in_force", sa.Boolean, nullable=False),
        sa.Column("replaced_by", sa.Uuid),
        sa.CheckConstraint(
            "status IN ('proposed', 'approved', 'rejected', 'withdrawn')",
            name="tag_corrections_status",
        ),
        sa.CheckConstraint(
            "NOT in_force OR status = 'approved'", name="tag_corrections_in_force_approved"
        ),
    )
    op.create_index(
        "tag_corrections_one_proposed",
        "tag_corrections",
        ["uscc"],
        unique=True,
        postgresql_where=sa.text("status = 'proposed'"),
    )
    op.create_index(
        "tag_corrections_one_in_force",
        "tag_corrections",
        ["uscc"],
        unique=True,
        postgresql_where=sa.text("in_force"),
    )
    op.create_index("tag_corrections_by_subject", "tag_corrections", ["uscc", "seq"])
