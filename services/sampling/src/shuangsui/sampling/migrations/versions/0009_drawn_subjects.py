"""Drawn subjects (名单比对, R22): one row per (draw, subject) of a completed subject draw, with
its batch's window, departments and items, so the overlap list compares batches without
reading every draw's result.

The back-fill fills it from the draws already completed before this migration: the selected
subjects of their results (§10.2 `strata[].selected`), the batch's publication as the batches
read model holds it, the subject's name and region from the subjects read model (else the
lead's region). It writes nothing that exists (ON CONFLICT DO NOTHING), so it may run again."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0009_drawn_subjects"
down_revision = "0008_orgs"

BACKFILL = """
INSERT INTO drawn_subjects (
    draw_id, subject_id, draw_code, subject_name, region_code, batch_id, batch_code, org_id,
    org_region_code, org_ids, departments, window_start, window_end, items, recorded_at
)
SELECT d.draw_id, picked.uscc, d.draw_code, s.name, COALESCE(s.region_code, d.region_code),
       d.batch_id, d.batch_code, (b.published->>'org_id')::uuid,
       d.region_code,
       ARRAY[(b.published->>'org_id')::uuid] || ARRAY(
           SELECT (p->>'org_id')::uuid FROM jsonb_array_elements(b.published->'participants') p
       ),
       jsonb_build_array(jsonb_build_object(
           'org_id', b.published->>'org_id', 'org_code', b.published->>'org_code',
           'department_type', b.published->>'department_type'
       )) || COALESCE((
           SELECT jsonb_agg(jsonb_build_object(
               'org_id', p->>'org_id', 'org_code', p->>'org_code',
               'department_type', p->>'department_type') ORDER BY n)
           FROM jsonb_array_elements(b.published->'participants') WITH ORDINALITY AS x(p, n)
       ), '[]'::jsonb),
       (b.published->>'window_start')::date, (b.published->>'window_end')::date,
       (
           SELECT jsonb_agg(jsonb_build_object(
               'item_id', i->>'item_id', 'code', i->>'code', 'name', i->>'name') ORDER BY n)
           FROM jsonb_array_elements(b.published->'items') WITH ORDINALITY AS y(i, n)
       ),
       d.completed_at
FROM draws d
JOIN batches b ON b.batch_id = d.batch_id AND b.published IS NOT NULL
CROSS JOIN LATERAL (
    SELECT DISTINCT selected #>> '{}' AS uscc
    FROM jsonb_array_elements(d.result->'strata') stratum,
         jsonb_array_elements(stratum->'selected') selected
) picked
LEFT JOIN subjects s ON s.uscc = picked.uscc
WHERE d.status = 'completed' AND d.kind IN ('combined', 'subjects') AND d.result IS NOT NULL
ON CONFLICT DO NOTHING
"""


def upgrade() -> None:
    op.create_table(
        "drawn_subjects",
        sa.Column("draw_id", UUID(as_uuid=True), sa.ForeignKey("draws.draw_id"), primary_key=True),
        sa.Column("subject_id", sa.Text, primary_key=True),
        sa.Column("draw_code", sa.Text, nullable=False),
        sa.Column("subject_name", sa.Text, nullable=True),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("batch_id", UUID(as_uuid=True), nullable=False),
        sa.Column("batch_code", sa.Text, nullable=False),
        sa.Column("org_id", UUID(as_uuid=True), nullable=False),
        sa.Column("org_region_code", sa.String(6), nullable=False),
        sa.Column("org_ids", ARRAY(UUID(as_uuid=True)), nullable=False),
        sa.Column("departments", JSONB, nullable=False),
        sa.Column("window_start", sa.Date, nullable=False),
        sa.Column("window_end", sa.Date, nullable=False),
        sa.Column("items", JSONB, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("drawn_subjects_subject", "drawn_subjects", ["subject_id"])
    op.create_index("drawn_subjects_batch", "drawn_subjects", ["batch_id"])
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_table("drawn_subjects")
