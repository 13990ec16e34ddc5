"""returns: returns and claims with their lines, history and receipts; a damaged count per SKU
and the movements of it; orders placed by a return or claim (exchanges, reships), linked both ways

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        -- Damaged units received back: counted, never sellable, never reserved.
        ALTER TABLE inventory_items ADD COLUMN damaged integer NOT NULL DEFAULT 0
            CHECK (damaged >= 0);
        -- A movement moves `sellable` stock (whose sum is on_hand) or `damaged` stock.
        ALTER TABLE stock_movements ADD COLUMN stock varchar(8) NOT NULL DEFAULT 'sellable'
            CHECK (stock IN ('sellable', 'damaged'));
        ALTER TABLE stock_movements ADD COLUMN return_id varchar(64);
        CREATE INDEX ix_stock_movements_return ON stock_movements (return_id)
            WHERE return_id IS NOT NULL;

        CREATE TABLE returns (
            id varchar(64) PRIMARY KEY,
            kind varchar(8) NOT NULL CHECK (kind IN ('return', 'claim')),
            order_id varchar(64) NOT NULL REFERENCES orders (id),
            customer_id varchar(128) NOT NULL,
            channel varchar(64) NOT NULL,
            status varchar(24) NOT NULL,
            resolution varchar(16) NOT NULL
                CHECK (resolution IN ('refund', 'store_credit', 'exchange', 'reship')),
            claim_type varchar(24),
            advance boolean NOT NULL DEFAULT false,
            exchange_lines jsonb NOT NULL DEFAULT '[]',
            exchange_order_id varchar(64) UNIQUE REFERENCES orders (id),
            label_carrier text,
            label_tracking_number text,
            label_shipment_id text,
            receive_by timestamptz,
            note text,
            requested_by text NOT NULL,
            idempotency_key varchar(255),
            request_hash varchar(64) NOT NULL,
            version integer NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        );
        CREATE UNIQUE INDEX ix_returns_order_idempotency_key
            ON returns (order_id, kind, idempotency_key);
        CREATE INDEX ix_returns_order ON returns (order_id, created_at);
        CREATE INDEX ix_returns_created ON returns (created_at, id);
        CREATE INDEX ix_returns_status_created ON returns (status, created_at, id);
        CREATE INDEX ix_returns_tracking ON returns (label_tracking_number)
            WHERE label_tracking_number IS NOT NULL;

        CREATE TABLE return_lines (
            return_id varchar(64) NOT NULL REFERENCES returns (id),
            line_no integer NOT NULL,
            sku varchar(64) NOT NULL,
            quantity integer NOT NULL CHECK (quantity > 0),
            unit_price bigint NOT NULL CHECK (unit_price >= 0),
            reason varchar(24) NOT NULL,
            note text,
            resellable integer NOT NULL DEFAULT 0,
            damaged integer NOT NULL DEFAULT 0,
            PRIMARY KEY (return_id, line_no),
            CHECK (resellable >= 0 AND damaged >= 0 AND resellable + damaged <= quantity)
        );

        CREATE TABLE return_history (
            return_id varchar(64) NOT NULL REFERENCES returns (id),
            seq integer NOT NULL,
            status varchar(24) NOT NULL,
            reason text,
            actor text NOT NULL,
            at timestamptz NOT NULL,
            PRIMARY KEY (return_id, seq)
        );

        -- One row per receipt the warehouse scanned, keyed by its request: a retry adds nothing.
        CREATE TABLE return_receipts (
            request_id varchar(255) PRIMARY KEY,
            return_id varchar(64) NOT NULL REFERENCES returns (id),
            lines jsonb NOT NULL,
            received_by text NOT NULL,
            at timestamptz NOT NULL
        );
        CREATE INDEX ix_return_receipts_return ON return_receipts (return_id);

        -- An order a return (exchange) or claim (reship) placed: at most one per return or claim.
        ALTER TABLE orders ADD COLUMN exchange_for varchar(64) REFERENCES orders (id);
        ALTER TABLE orders ADD COLUMN placed_by_return varchar(64) UNIQUE REFERENCES returns (id);
        ALTER TABLE orders ADD COLUMN awaits_return boolean NOT NULL DEFAULT false;
        ALTER TABLE refunds ADD COLUMN return_id varchar(64) REFERENCES returns (id);
        CREATE INDEX ix_refunds_return ON refunds (return_id) WHERE return_id IS NOT NULL;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE refunds DROP COLUMN return_id;
        ALTER TABLE orders DROP COLUMN awaits_return;
        ALTER TABLE orders DROP COLUMN placed_by_return;
        ALTER TABLE orders DROP COLUMN exchange_for;
        DROP TABLE return_receipts, return_history, return_lines, returns;
        ALTER TABLE stock_movements DROP COLUMN return_id;
        ALTER TABLE stock_movements DROP COLUMN stock;
        ALTER TABLE inventory_items DROP COLUMN damaged;
        """
    )
