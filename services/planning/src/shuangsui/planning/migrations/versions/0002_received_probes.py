"""Pipeline probes received from the registry."""

from alembic import op

from shuangsui.planning.adapters.tables import received_probe_columns

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table("received_probes", *received_probe_columns())
