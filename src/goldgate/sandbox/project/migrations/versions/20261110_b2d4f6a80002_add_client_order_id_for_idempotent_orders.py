"""add client order id for idempotent orders

Expand step only: a nullable column plus a unique index, so v1.1.0 (which never writes
the column) keeps working against the new schema.

Revision ID: b2d4f6a80002
Revises: a1c3e5f70001
Create Date: 2026-11-10 14:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b2d4f6a80002"
down_revision = "a1c3e5f70001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("client_order_id", sa.String(64), nullable=True))
    op.create_index("ix_orders_client_order_id", "orders", ["client_order_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_orders_client_order_id", table_name="orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("client_order_id")
