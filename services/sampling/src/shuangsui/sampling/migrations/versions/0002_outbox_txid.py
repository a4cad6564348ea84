"""The outbox records each row's transaction, so that events carry it (ADR 0012)."""

from alembic import op

from shuangsui.messaging.tables import add_outbox_txid_v1, drop_outbox_txid_v1

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    add_outbox_txid_v1(op)


def downgrade() -> None:
    drop_outbox_txid_v1(op)
