"""support: append-only audit trail, orders by email

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 18:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_audit",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("request", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_order_audit_order_id", "order_audit", ["order_id"])
    op.create_index(
        "ix_order_audit_request", "order_audit", ["request_id", "outcome"], unique=True
    )
    # Nothing in the audit trail is ever changed or removed, whatever the code does.
    op.execute(
        """
        CREATE FUNCTION order_audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'order_audit is append-only: % refused', TG_OP;
        END $$;
        CREATE TRIGGER order_audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
            ON order_audit FOR EACH STATEMENT EXECUTE FUNCTION order_audit_is_append_only();
        """
    )
    op.create_index("ix_orders_email", "orders", [sa.text("lower(customer_email)")])


def downgrade() -> None:
    op.drop_index("ix_orders_email", table_name="orders")
    op.execute("DROP TABLE order_audit")
    op.execute("DROP FUNCTION order_audit_is_append_only()")
