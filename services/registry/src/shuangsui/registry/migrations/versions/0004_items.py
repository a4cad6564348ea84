"""Item lists (抽查事项清单), their check items, and work guides (抽查工作指引).

The DDL is written out here rather than imported from the adapters, so this migration keeps
meaning what it meant when it ran, whatever the adapters become.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0004"
down_revision = "0001"

_uuid = UUID(as_uuid=True)


def upgrade() -> None:
    op.create_table(
        "item_lists",
        sa.Column("list_id", _uuid, primary_key=True),
        # "national" or the province's 6-digit code: the sequence a version belongs to.
        sa.Column("family", sa.Text, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("province", sa.String(6)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("adopted_list_id", _uuid, sa.ForeignKey("item_lists.list_id")),
        sa.Column("based_on_list_id", _uuid, sa.ForeignKey("item_lists.list_id")),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("family", "version", name="item_lists_family_version"),
        sa.CheckConstraint("level IN ('national', 'provincial')", name="item_lists_level"),
        sa.CheckConstraint("status IN ('draft', 'published')", name="item_lists_status"),
    )
    # One draft per family: two concurrent "create version" requests cannot both win.
    op.create_index(
        "item_lists_one_draft",
        "item_lists",
        ["family"],
        unique=True,
        postgresql_where=sa.text("status = 'draft'"),
    )
    op.create_table(
        "check_items",
        sa.Column(
            "list_id",
            _uuid,
            sa.ForeignKey("item_lists.list_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("item_id", _uuid, primary_key=True),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("business_line", sa.Text, nullable=False),
        sa.Column("item_category", sa.Text, nullable=False),
        sa.Column("responsible_department", sa.Text, nullable=False),
        sa.Column("legal_basis", JSONB, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("subject_types", JSONB, nullable=False),
        sa.Column("allowed_methods", JSONB, nullable=False),
        sa.Column("iplus_item_code", sa.String(14), nullable=False),
        sa.Column("implementation_codes", JSONB, nullable=False),
        sa.Column("power_list_code", sa.Text),
        sa.Column("min_ratio", sa.Numeric(6, 5)),
        sa.Column("status", sa.Text, nullable=False),
        sa.UniqueConstraint("list_id", "code", name="check_items_code_per_version"),
        sa.CheckConstraint("iplus_item_code ~ '^[0-9]{14}$'", name="check_items_iplus_code"),
    )
    op.create_index("check_items_item", "check_items", ["item_id"])
    op.create_table(
        "work_guides",
        sa.Column("guide_id", _uuid, primary_key=True),
        sa.Column("item_id", _uuid, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("steps", JSONB, nullable=False),
        sa.Column("evidence_requirements", JSONB, nullable=False),
        sa.Column("record_form_schema", JSONB, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("item_id", "version", name="work_guides_item_version"),
    )
    op.create_index(
        "work_guides_one_draft",
        "work_guides",
        ["item_id"],
        unique=True,
        postgresql_where=sa.text("status = 'draft'"),
    )


def downgrade() -> None:
    op.drop_table("work_guides")
    op.drop_table("check_items")
    op.drop_table("item_lists")
