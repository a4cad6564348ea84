"""Recusals (回避) of a completed draw's team members, declared then decided (R19, DRAW_SPEC §9).

One open declaration per (draw, subject, inspector); the accepted ones hold their place in the
draw's recusal list (`sequence`, the bundle's `recusals` order), unique per draw."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0007_recusals"
down_revision = "0006_county_draws"


def upgrade() -> None:
    op.create_table(
        "recusals",
        sa.Column("recusal_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("draw_id", UUID(as_uuid=True), sa.ForeignKey("draws.draw_id"), nullable=False),
        sa.Column("subject_id", sa.Text, nullable=False),
        sa.Column("inspector_id", sa.Text, nullable=False),
        sa.Column("cause", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("declared_by", sa.Text, nullable=False),
        sa.Column("declared_as", sa.Text, nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Text, nullable=True),
        sa.Column("decision_reason", sa.Text, nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sequence", sa.SmallInteger, nullable=True),
        sa.Column("replacement", JSONB, nullable=True),
        sa.UniqueConstraint("draw_id", "sequence", name="recusals_draw_sequence"),
    )
    op.create_index("recusals_draw", "recusals", ["draw_id", "declared_at"])
    op.create_index(
        "recusals_one_open", "recusals", ["draw_id", "subject_id", "inspector_id"],
        unique=True, postgresql_where=sa.text("status = 'declared'"),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("recusals")
