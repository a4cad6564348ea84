"""The qualification an item requires of a drawn inspector (所需执法资格, R17).

Nullable: items written before it, and items any certified officer may check, require none. The
length bound is the inspector directory's for a qualification code, so a code an item requires
is always one an officer can hold.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    op.add_column("check_items", sa.Column("required_qualification", sa.Text))
    op.create_check_constraint(
        "check_items_required_qualification",
        "check_items",
        "char_length(required_qualification) BETWEEN 1 AND 60",
    )


def downgrade() -> None:
    op.drop_constraint("check_items_required_qualification", "check_items", type_="check")
    op.drop_column("check_items", "required_qualification")
