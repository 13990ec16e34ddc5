"""integration: the event outbox (events written with their change, numbered per aggregate, read in
commit order), webhook endpoints, deliveries and attempts, customer e-mails, the customer view

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        -- The last sequence number of each aggregate's events: taken under its row lock.
        CREATE TABLE event_streams (
            aggregate varchar(32) NOT NULL,
            aggregate_id varchar(200) NOT NULL,
            seq integer NOT NULL,
            PRIMARY KEY (aggregate, aggregate_id)
        );

        -- The outbox. `tx` is the writing transaction's id: the feed reads (tx, id) below the
        -- oldest transaction still running, so an event that commits late is never skipped.
        CREATE TABLE events (
            id bigserial PRIMARY KEY,
            tx bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
            type varchar(64) NOT NULL,
            aggregate varchar(32) NOT NULL,
            aggregate_id varchar(200) NOT NULL,
            seq integer NOT NULL,
            occurred_at timestamptz NOT NULL DEFAULT statement_timestamp(),
            data jsonb NOT NULL,
            UNIQUE (aggregate, aggregate_id, seq)
        );
        CREATE INDEX ix_events_feed ON events (tx, id);
        CREATE INDEX ix_events_occurred ON events (occurred_at, id);
        CREATE FUNCTION events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
        END $$;
        CREATE TRIGGER events_immutable BEFORE UPDATE ON events
            FOR EACH STATEMENT EXECUTE FUNCTION events_are_immutable();

        -- How far the relay (integration/relay.py) has fanned events out: one row, locked.
        CREATE TABLE relay_cursors (
            name varchar(32) PRIMARY KEY,
            tx bigint NOT NULL,
            event_id bigint NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        INSERT INTO relay_cursors (name, tx, event_id) VALUES ('relay', 0, 0);
        -- When the outbox began: the orders placed since have their events (db/invariants).
        CREATE TABLE outbox_started (at timestamptz NOT NULL);
        INSERT INTO outbox_started (at) VALUES (now());

        CREATE TABLE webhook_endpoints (
            id varchar(40) PRIMARY KEY,
            url text NOT NULL,
            events text[] NOT NULL,
            description text,
            secret text NOT NULL,  -- sealed with the server secret (security/sealed.py)
            previous_secret text,  -- after a rotation, signed with too until `previous_until`
            previous_until timestamptz,
            disabled boolean NOT NULL DEFAULT false,
            disabled_reason text,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            deleted_at timestamptz
        );

        CREATE TABLE webhook_deliveries (
            id varchar(40) PRIMARY KEY,
            endpoint_id varchar(40) NOT NULL REFERENCES webhook_endpoints (id),
            event_id bigint NOT NULL REFERENCES events (id),
            origin varchar(64) NOT NULL DEFAULT 'live',  -- or the replay that re-sent it
            status varchar(16) NOT NULL
                CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled')),
            attempts integer NOT NULL DEFAULT 0,
            last_status_code integer,
            last_error text,
            last_latency_ms integer,
            next_attempt_at timestamptz,
            started boolean NOT NULL DEFAULT false,  -- its workflow was started
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            succeeded_at timestamptz,
            UNIQUE (endpoint_id, event_id, origin)
        );
        CREATE INDEX ix_webhook_deliveries_endpoint
            ON webhook_deliveries (endpoint_id, created_at, id);
        CREATE INDEX ix_webhook_deliveries_unstarted ON webhook_deliveries (created_at)
            WHERE NOT started;

        CREATE TABLE webhook_attempts (
            delivery_id varchar(40) NOT NULL REFERENCES webhook_deliveries (id),
            attempt integer NOT NULL,
            at timestamptz NOT NULL,
            status_code integer,
            latency_ms integer NOT NULL,
            error text,
            response text,  -- the body, truncated
            PRIMARY KEY (delivery_id, attempt)
        );

        -- Customer e-mails: one per (order, kind, event), recorded before it is sent.
        CREATE TABLE notifications (
            id varchar(40) PRIMARY KEY,
            order_id varchar(64) NOT NULL REFERENCES orders (id),
            kind varchar(32) NOT NULL,
            event_id bigint NOT NULL REFERENCES events (id),
            to_address text NOT NULL,
            language varchar(8) NOT NULL,
            message_id text NOT NULL UNIQUE,
            subject text,
            status varchar(16) NOT NULL
                CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
            attempts integer NOT NULL DEFAULT 0,
            last_error text,
            started boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL,
            sent_at timestamptz,
            UNIQUE (order_id, kind, event_id)
        );
        CREATE INDEX ix_notifications_order ON notifications (order_id, created_at);
        CREATE INDEX ix_notifications_unstarted ON notifications (created_at) WHERE NOT started;

        -- The customer view, kept by the transactions that place orders and issue documents.
        CREATE TABLE customers (
            id varchar(128) PRIMARY KEY,
            email text NOT NULL,
            name text NOT NULL,
            addresses jsonb NOT NULL DEFAULT '[]',
            orders_count integer NOT NULL DEFAULT 0 CHECK (orders_count >= 0),
            first_order_at timestamptz,
            last_order_at timestamptz,
            updated_at timestamptz NOT NULL
        );
        CREATE INDEX ix_customers_email ON customers (lower(email), id);
        -- Per currency: invoiced less credited (credit notes) is what the customer spent.
        CREATE TABLE customer_spend (
            customer_id varchar(128) NOT NULL REFERENCES customers (id),
            currency varchar(3) NOT NULL,
            invoiced bigint NOT NULL DEFAULT 0,
            credited bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (customer_id, currency)
        );

        -- An order as its events carry it (db/snapshots.py's `order`, which a test keeps equal):
        -- built in the statement that writes the event, with no round trip to load it.
        CREATE FUNCTION order_snapshot(wanted text) RETURNS jsonb
        LANGUAGE sql STABLE AS $$
            SELECT jsonb_build_object(
                'id', o.id, 'channel', o.channel, 'status', o.status,
                'status_reason', o.status_reason,
                'customer', jsonb_build_object('id', o.customer_id, 'email', o.customer_email,
                                               'name', o.customer_name),
                'shipping_address', o.shipping_address,
                'lines', (
                    SELECT coalesce(jsonb_agg(jsonb_build_object(
                               'sku', l.sku, 'quantity', l.quantity, 'unit_price', l.unit_price)
                           ORDER BY l.line_no), '[]'::jsonb)
                    FROM order_lines AS l WHERE l.order_id = o.id),
                'currency', o.currency, 'total', o.total, 'store_credit', o.store_credit,
                'shipments', (
                    SELECT coalesce(jsonb_agg(jsonb_build_object(
                               'id', s.id, 'carrier', s.carrier,
                               'tracking_number', s.tracking_number, 'status', s.status)
                           ORDER BY s.id), '[]'::jsonb)
                    FROM shipments AS s WHERE s.order_id = o.id),
                'exchange_for', o.exchange_for, 'placed_by_return', o.placed_by_return,
                'created_at', to_char(o.created_at AT TIME ZONE 'UTC',
                                      'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
                'updated_at', to_char(o.updated_at AT TIME ZONE 'UTC',
                                      'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'))
            FROM orders AS o WHERE o.id = wanted
        $$;

        -- The customer view as GET /v1/customers/{id} shows it and customer.updated carries it.
        CREATE FUNCTION customer_view(customer text) RETURNS jsonb
        LANGUAGE sql STABLE AS $$
            SELECT jsonb_build_object(
                'id', c.id, 'email', c.email, 'name', c.name, 'addresses', c.addresses,
                'orders_count', c.orders_count,
                'total_spent', (
                    SELECT coalesce(jsonb_agg(jsonb_build_object(
                               'currency', s.currency, 'amount', s.invoiced - s.credited)
                           ORDER BY s.currency), '[]'::jsonb)
                    FROM customer_spend AS s WHERE s.customer_id = c.id),
                'first_order_at', to_char(c.first_order_at AT TIME ZONE 'UTC',
                                          'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
                'last_order_at', to_char(c.last_order_at AT TIME ZONE 'UTC',
                                         'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
                'store_credit', (
                    SELECT coalesce(jsonb_agg(jsonb_build_object(
                               'currency', a.currency, 'balance', a.balance)
                           ORDER BY a.currency), '[]'::jsonb)
                    FROM store_credit_accounts AS a WHERE a.customer_id = c.id))
            FROM customers AS c WHERE c.id = customer
        $$;

        -- Every order counts for its customer, with customer.updated, whatever inserted it. At
        -- COMMIT (deferred): the customer's locks are held from here to the end of the commit,
        -- never across the application's own round trips, so a customer's orders placed at
        -- once queue only for these few statements. The stream row first, as every writer of a
        -- customer takes it (db/customers.py), then the view read after it.
        CREATE FUNCTION count_order_for_customer() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            next_seq integer;
        BEGIN
            INSERT INTO event_streams AS s (aggregate, aggregate_id, seq)
            VALUES ('customer', NEW.customer_id, 1)
            ON CONFLICT (aggregate, aggregate_id) DO UPDATE SET seq = s.seq + 1
            RETURNING seq INTO next_seq;
            INSERT INTO customers AS known (id, email, name, addresses, orders_count,
                                            first_order_at, last_order_at, updated_at)
            VALUES (NEW.customer_id, NEW.customer_email, NEW.customer_name,
                    jsonb_build_array(NEW.shipping_address), 1, NEW.created_at,
                    NEW.created_at, now())
            ON CONFLICT (id) DO UPDATE SET
                orders_count = known.orders_count + 1,
                email = CASE WHEN excluded.last_order_at >= known.last_order_at
                             THEN excluded.email ELSE known.email END,
                name = CASE WHEN excluded.last_order_at >= known.last_order_at
                            THEN excluded.name ELSE known.name END,
                first_order_at = least(known.first_order_at, excluded.first_order_at),
                last_order_at = greatest(known.last_order_at, excluded.last_order_at),
                addresses = (
                    SELECT coalesce(jsonb_agg(address ORDER BY first), '[]'::jsonb)
                    FROM (SELECT address, min(n) AS first
                          FROM jsonb_array_elements(excluded.addresses || known.addresses)
                               WITH ORDINALITY AS seen(address, n)
                          GROUP BY address ORDER BY first LIMIT 5) AS kept),
                updated_at = now();
            INSERT INTO events (type, aggregate, aggregate_id, seq, data)
            VALUES ('customer.updated', 'customer', NEW.customer_id, next_seq,
                    jsonb_build_object('customer', customer_view(NEW.customer_id)));
            RETURN NULL;
        END $$;
        CREATE CONSTRAINT TRIGGER orders_count_for_customers AFTER INSERT ON orders
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION count_order_for_customer();

        -- When the order was found late (OMS_SHIP_SLA): set once, with order.delayed.
        ALTER TABLE orders ADD COLUMN late_at timestamptz;

        -- The customers of the orders placed so far, as if the view had always been kept.
        INSERT INTO customers (id, email, name, addresses, orders_count, first_order_at,
                               last_order_at, updated_at)
        SELECT DISTINCT ON (customer_id) customer_id, customer_email, customer_name,
               jsonb_build_array(shipping_address),
               count(*) OVER w, min(created_at) OVER w, max(created_at) OVER w, now()
        FROM orders
        WINDOW w AS (PARTITION BY customer_id)
        ORDER BY customer_id, created_at DESC, id DESC;
        INSERT INTO customer_spend (customer_id, currency, invoiced, credited)
        SELECT o.customer_id, d.currency,
               coalesce(sum(d.total) FILTER (WHERE d.kind = 'invoice'), 0),
               coalesce(sum(d.total) FILTER (WHERE d.kind = 'credit_note'), 0)
        FROM documents AS d JOIN orders AS o ON o.id = d.order_id
        GROUP BY o.customer_id, d.currency;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TRIGGER orders_count_for_customers ON orders;
        DROP FUNCTION count_order_for_customer();
        DROP FUNCTION customer_view(text);
        DROP FUNCTION order_snapshot(text);
        ALTER TABLE orders DROP COLUMN late_at;
        DROP TABLE outbox_started, customer_spend, customers, notifications, webhook_attempts,
            webhook_deliveries, webhook_endpoints, relay_cursors, events, event_streams;
        DROP FUNCTION events_are_immutable();
        """
    )
