"""Draws (抽取): one row per IDS-1 draw of a batch, from its prepared inputs to its result.

At most one live draw per decision of a batch (R14, B.11): the subject draw (`combined` or
`subjects`), and per department its team draw over a subject draw. A failed or voided draw stays,
and only uses up its code."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0005"
down_revision = "0004"

LIVE = "status NOT IN ('failed', 'voided')"


def upgrade() -> None:
    op.create_table(
        "draws",
        sa.Column("draw_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("draw_code", sa.Text, nullable=False, unique=True),
        sa.Column("batch_id", UUID(as_uuid=True), nullable=False),
        sa.Column("batch_code", sa.Text, nullable=False),
        sa.Column("sequence", sa.SmallInteger, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("org_id", UUID(as_uuid=True), nullable=True),
        sa.Column("department_type", sa.Text, nullable=True),
        sa.Column("subjects_draw_code", sa.Text, nullable=True),
        sa.Column("lead_org_id", UUID(as_uuid=True), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("inputs", JSONB, nullable=False),
        sa.Column("population", JSONB, nullable=False),
        sa.Column("commitment", JSONB, nullable=True),
        sa.Column("commitment_sha256", sa.String(64), nullable=True),
        sa.Column("beacon_source", sa.Text, nullable=True),
        sa.Column("beacon", JSONB, nullable=True),
        sa.Column("parties", JSONB, nullable=True),
        sa.Column("reveal_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("beacon_value", JSONB, nullable=True),
        sa.Column("bundle", JSONB, nullable=True),
        sa.Column("result", JSONB, nullable=True),
        sa.Column("failure", JSONB, nullable=True),
        sa.Column("voiding", JSONB, nullable=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("prepared_by", sa.Text, nullable=False),
        sa.Column("prepared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("committed_by", sa.Text, nullable=True),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("batch_id", "sequence", name="draws_batch_sequence"),
    )
    op.create_index(
        "draws_one_live_subject_draw", "draws", ["batch_id"], unique=True,
        postgresql_where=sa.text(f"kind IN ('combined', 'subjects') AND {LIVE}"),
    )  # fmt: skip
    op.create_index(
        "draws_one_live_team_draw", "draws", ["batch_id", "org_id", "subjects_draw_code"],
        unique=True, postgresql_where=sa.text(f"kind = 'teams' AND {LIVE}"),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("draws")
