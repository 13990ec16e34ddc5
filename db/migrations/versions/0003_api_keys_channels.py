"""security: API keys, each order's channel (idempotency keys unique per channel), labels

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    # Orders placed before channels existed belong to the default one.
    op.add_column(
        "orders",
        sa.Column("channel", sa.String(length=64), server_default="default", nullable=False),
    )
    op.drop_constraint("orders_idempotency_key_key", "orders", type_="unique")
    op.create_index(
        "ix_orders_channel_idempotency_key",
        "orders",
        ["channel", "idempotency_key"],
        unique=True,
    )
    op.create_index("ix_orders_channel_created", "orders", ["channel", "created_at", "id"])
    op.add_column("order_audit", sa.Column("label", sa.Text(), nullable=True))
    op.add_column("stock_movements", sa.Column("label", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("stock_movements", "label")
    op.drop_column("order_audit", "label")
    op.drop_index("ix_orders_channel_created", table_name="orders")
    op.drop_index("ix_orders_channel_idempotency_key", table_name="orders")
    op.create_unique_constraint("orders_idempotency_key_key", "orders", ["idempotency_key"])
    op.drop_column("orders", "channel")
    op.drop_table("api_keys")
