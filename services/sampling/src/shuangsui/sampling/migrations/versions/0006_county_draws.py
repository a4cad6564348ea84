"""Draws per county (DRAW_SPEC B.10): a `county_code` on each draw of a multi-county
`bureau_wide` batch, and one live subject draw per (batch, county) rather than per batch. Team
draws keep one live draw per (batch, department, subject draw) (B.11)."""

import sqlalchemy as sa
from alembic import op

revision = "0006_county_draws"
down_revision = "0005"

LIVE = "status NOT IN ('failed', 'voided')"
SUBJECT_DRAWS = f"kind IN ('combined', 'subjects') AND {LIVE}"


def upgrade() -> None:
    op.add_column("draws", sa.Column("county_code", sa.String(6), nullable=True))
    op.drop_index("draws_one_live_subject_draw", table_name="draws")
    # A batch drawn as one draw has county_code NULL: COALESCE keeps it one live draw too.
    op.create_index(
        "draws_one_live_subject_draw", "draws", ["batch_id", sa.text("COALESCE(county_code, '')")],
        unique=True, postgresql_where=sa.text(SUBJECT_DRAWS),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("draws_one_live_subject_draw", table_name="draws")
    op.create_index(
        "draws_one_live_subject_draw", "draws", ["batch_id"], unique=True,
        postgresql_where=sa.text(SUBJECT_DRAWS),
    )  # fmt: skip
    op.drop_column("draws", "county_code")
