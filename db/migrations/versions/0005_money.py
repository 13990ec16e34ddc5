"""money: payments and their append-only transactions, refunds, store credit, invoices and
credit notes (gap-free numbers), the accounting journal, tax rates

Orders placed before this revision get no payment row (their money is only in the gateway's
books); the API shows their `payment` as null.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Ledgers and issued documents: nothing is ever changed or removed, whatever the code does.
APPEND_ONLY = (
    "payment_transactions",
    "store_credit_entries",
    "documents",
    "journal_entries",
    "journal_lines",
)

# The EU member states' standard VAT rates (percent), as of 2026; PUT /v1/tax-rates changes them.
EU_STANDARD_RATES = {
    "AT": "20", "BE": "21", "BG": "20", "CY": "19", "CZ": "21", "DE": "19", "DK": "25",
    "EE": "24", "ES": "21", "FI": "25.5", "FR": "20", "GR": "24", "HR": "25", "HU": "27",
    "IE": "23", "IT": "22", "LT": "21", "LU": "17", "LV": "21", "MT": "18", "NL": "21",
    "PL": "23", "PT": "23", "RO": "21", "SE": "25", "SI": "22", "SK": "23",
}  # fmt: skip


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE orders ADD COLUMN store_credit bigint NOT NULL DEFAULT 0
            CHECK (store_credit >= 0 AND store_credit <= total);
        -- The simulated gateway remembers the card of each authorization (tok_refund_declined).
        ALTER TABLE sim_payments ADD COLUMN token text;
        ALTER TABLE order_lines ADD COLUMN tax_rate numeric(5, 2)
            CHECK (tax_rate >= 0 AND tax_rate < 100);

        CREATE TABLE tax_rates (
            country varchar(2) PRIMARY KEY,
            rate numeric(5, 2) NOT NULL CHECK (rate >= 0 AND rate < 100),
            updated_at timestamptz NOT NULL DEFAULT now()
        );

        -- One per order: its money as the OMS knows it, kept current with each transaction.
        CREATE TABLE payments (
            order_id varchar(64) PRIMARY KEY REFERENCES orders (id),
            currency varchar(3) NOT NULL,
            status varchar(24) NOT NULL,
            authorized bigint NOT NULL DEFAULT 0 CHECK (authorized >= 0),
            captured bigint NOT NULL DEFAULT 0 CHECK (captured >= 0),
            refunded bigint NOT NULL DEFAULT 0 CHECK (refunded >= 0),
            store_credit bigint NOT NULL DEFAULT 0 CHECK (store_credit >= 0),
            updated_at timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE payment_transactions (
            id bigserial PRIMARY KEY,
            order_id varchar(64) NOT NULL REFERENCES orders (id),
            kind varchar(16) NOT NULL
                CHECK (kind IN ('authorize', 'adjust', 'capture', 'void', 'refund')),
            amount bigint NOT NULL CHECK (amount >= 0),
            currency varchar(3) NOT NULL,
            outcome varchar(16) NOT NULL CHECK (outcome IN ('succeeded', 'declined')),
            gateway_reference text,
            idempotency_key varchar(255) NOT NULL UNIQUE,
            detail text,
            refund_id varchar(64),
            at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_payment_transactions_order ON payment_transactions (order_id, id);

        CREATE TABLE refunds (
            id varchar(64) PRIMARY KEY,
            order_id varchar(64) NOT NULL REFERENCES orders (id),
            status varchar(16) NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
            amount bigint NOT NULL CHECK (amount > 0),
            currency varchar(3) NOT NULL,
            method varchar(24) NOT NULL CHECK (method IN ('original_payment', 'store_credit')),
            reason text NOT NULL,
            lines jsonb NOT NULL DEFAULT '[]',
            failure_reason text,
            credit_note varchar(32),
            requested_by text NOT NULL,
            idempotency_key varchar(255),
            request_hash varchar(64) NOT NULL,
            created_at timestamptz NOT NULL,
            completed_at timestamptz
        );
        CREATE INDEX ix_refunds_order ON refunds (order_id, created_at);
        CREATE UNIQUE INDEX ix_refunds_order_idempotency_key ON refunds (order_id, idempotency_key);

        -- A customer's balance per currency: the sum of their entries, never below zero.
        CREATE TABLE store_credit_accounts (
            customer_id varchar(128) NOT NULL,
            currency varchar(3) NOT NULL,
            balance bigint NOT NULL CHECK (balance >= 0),
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (customer_id, currency)
        );
        CREATE TABLE store_credit_entries (
            id bigserial PRIMARY KEY,
            customer_id varchar(128) NOT NULL,
            currency varchar(3) NOT NULL,
            kind varchar(16) NOT NULL CHECK (kind IN ('issued', 'held', 'redeemed', 'released')),
            amount bigint NOT NULL CHECK (amount > 0),
            delta bigint NOT NULL,  -- the change of the balance: + issued/released, - held, 0
            order_id varchar(64) REFERENCES orders (id),
            refund_id varchar(64),
            reason text NOT NULL,
            actor text NOT NULL,
            idempotency_key varchar(255) NOT NULL UNIQUE,
            at timestamptz NOT NULL DEFAULT now(),
            FOREIGN KEY (customer_id, currency) REFERENCES store_credit_accounts
        );
        CREATE INDEX ix_store_credit_entries_customer ON store_credit_entries (customer_id, id);
        CREATE INDEX ix_store_credit_entries_order ON store_credit_entries (order_id)
            WHERE order_id IS NOT NULL;

        -- Gap-free numbers: the next number of a series and year is taken under this row's lock,
        -- in the transaction that issues the document (a sequence would leave gaps).
        CREATE TABLE document_counters (
            series varchar(8) NOT NULL,
            year integer NOT NULL,
            last integer NOT NULL,
            PRIMARY KEY (series, year)
        );
        CREATE TABLE documents (
            number varchar(32) PRIMARY KEY,
            kind varchar(16) NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
            series varchar(8) NOT NULL,
            year integer NOT NULL,
            seq integer NOT NULL,
            order_id varchar(64) NOT NULL REFERENCES orders (id),
            refund_id varchar(64) UNIQUE REFERENCES refunds (id),
            refers_to varchar(32) REFERENCES documents (number),
            issued_at timestamptz NOT NULL,
            currency varchar(3) NOT NULL,
            seller jsonb NOT NULL,
            buyer jsonb NOT NULL,
            lines jsonb NOT NULL,
            tax_breakdown jsonb NOT NULL,
            net_total bigint NOT NULL,
            tax_total bigint NOT NULL,
            total bigint NOT NULL,
            paid_card bigint NOT NULL,
            paid_store_credit bigint NOT NULL,
            UNIQUE (series, year, seq),
            CHECK (net_total + tax_total = total AND paid_card + paid_store_credit = total)
        );
        CREATE UNIQUE INDEX ix_documents_one_invoice ON documents (order_id)
            WHERE kind = 'invoice';
        CREATE INDEX ix_documents_order ON documents (order_id, issued_at);

        -- Double entry: each entry's lines balance (db/invariants.py proves it).
        CREATE TABLE journal_entries (
            id bigserial PRIMARY KEY,
            kind varchar(32) NOT NULL,
            currency varchar(3) NOT NULL,
            order_id varchar(64),
            refund_id varchar(64),
            document varchar(32),
            customer_id varchar(128),
            description text NOT NULL,
            idempotency_key varchar(255) NOT NULL UNIQUE,
            at timestamptz NOT NULL
        );
        CREATE INDEX ix_journal_entries_at ON journal_entries (at, id);
        CREATE TABLE journal_lines (
            id bigserial PRIMARY KEY,
            entry_id bigint NOT NULL REFERENCES journal_entries (id),
            account varchar(64) NOT NULL,
            debit bigint NOT NULL DEFAULT 0 CHECK (debit >= 0),
            credit bigint NOT NULL DEFAULT 0 CHECK (credit >= 0),
            CHECK ((debit = 0) <> (credit = 0))
        );
        CREATE INDEX ix_journal_lines_entry ON journal_lines (entry_id);

        CREATE FUNCTION money_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
        END $$;
        """
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION money_is_append_only()"
        )
    values = ", ".join(f"('{country}', {rate})" for country, rate in EU_STANDARD_RATES.items())
    op.execute(f"INSERT INTO tax_rates (country, rate) VALUES {values}")


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE journal_lines, journal_entries, documents, document_counters,
            store_credit_entries, store_credit_accounts, refunds, payment_transactions,
            payments, tax_rates;
        DROP FUNCTION money_is_append_only();
        ALTER TABLE order_lines DROP COLUMN tax_rate;
        ALTER TABLE sim_payments DROP COLUMN token;
        ALTER TABLE orders DROP COLUMN store_credit;
        """
    )
