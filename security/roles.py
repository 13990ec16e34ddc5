"""The one table of roles and the scopes each grants. Routes declare the scope they need
(`api/auth.py`'s `grants`); a role's holder passes when the role's set contains it."""

from enum import StrEnum


class Scope(StrEnum):
    """One thing a caller may do. `resource:verb`, as the OpenAPI document lists them."""

    ORDERS_CREATE = "orders:create"
    ORDERS_READ = "orders:read"
    ORDERS_CANCEL = "orders:cancel"
    ORDERS_CHANGE = "orders:change"  # change lines or address, hold, release
    AUDIT_READ = "audit:read"
    INVENTORY_READ = "inventory:read"
    INVENTORY_WRITE = "inventory:write"
    PAYLOADS_DECODE = "payloads:decode"  # the Temporal UI's codec endpoints
    API_KEYS_MANAGE = "api_keys:manage"
    USERS_MANAGE = "users:manage"
    REFUNDS_CREATE = "refunds:create"
    REFUNDS_READ = "refunds:read"
    STORE_CREDIT_READ = "store_credit:read"  # a storefront: its own channel's customers only
    STORE_CREDIT_ISSUE = "store_credit:issue"  # goodwill credit
    INVOICES_READ = "invoices:read"  # invoices, credit notes (and their PDFs), tax rates
    TAX_RATES_MANAGE = "tax_rates:manage"
    ACCOUNTING_READ = "accounting:read"  # the journal
    RETURNS_CREATE = "returns:create"  # a storefront: its own channel's orders only
    RETURNS_READ = "returns:read"
    RETURNS_DECIDE = "returns:decide"  # approve or decline
    RETURNS_RECEIVE = "returns:receive"  # the warehouse scans the parcel
    RETURNS_CANCEL = "returns:cancel"
    CLAIMS_CREATE = "claims:create"
    CLAIMS_READ = "claims:read"
    EVENTS_READ = "events:read"  # the event feed
    WEBHOOKS_READ = "webhooks:read"  # endpoints (never their secrets) and delivery logs
    WEBHOOKS_MANAGE = "webhooks:manage"  # subscribe, change, rotate, retry, replay
    CUSTOMERS_READ = "customers:read"  # a storefront: its own channel's customers only
    NOTIFICATIONS_READ = "notifications:read"  # the e-mails an order sent


class Role(StrEnum):
    STOREFRONT = "storefront"  # bound to one channel: sees and acts on that channel's orders only
    SUPPORT = "support"
    WAREHOUSE = "warehouse"
    OPS = "ops"
    ADMIN = "admin"


S = Scope
ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.STOREFRONT: frozenset(
        {
            S.ORDERS_CREATE,
            S.ORDERS_READ,
            S.ORDERS_CANCEL,
            S.INVENTORY_READ,
            S.STORE_CREDIT_READ,
            S.INVOICES_READ,
            S.RETURNS_CREATE,
            S.RETURNS_READ,
            S.RETURNS_CANCEL,
            S.CUSTOMERS_READ,
        }
    ),
    Role.SUPPORT: frozenset(
        {
            S.ORDERS_READ,
            S.AUDIT_READ,
            S.ORDERS_CHANGE,
            S.ORDERS_CANCEL,
            S.INVENTORY_READ,
            S.PAYLOADS_DECODE,
            S.REFUNDS_CREATE,
            S.REFUNDS_READ,
            S.STORE_CREDIT_READ,
            S.STORE_CREDIT_ISSUE,
            S.INVOICES_READ,
            S.RETURNS_CREATE,
            S.RETURNS_READ,
            S.RETURNS_DECIDE,
            S.RETURNS_CANCEL,
            S.CLAIMS_CREATE,
            S.CLAIMS_READ,
            S.CUSTOMERS_READ,
            S.NOTIFICATIONS_READ,
        }
    ),
    Role.WAREHOUSE: frozenset(
        {S.ORDERS_READ, S.INVENTORY_READ, S.INVENTORY_WRITE, S.RETURNS_READ, S.RETURNS_RECEIVE}
    ),
    Role.OPS: frozenset(
        {
            S.ORDERS_READ,
            S.AUDIT_READ,
            S.INVENTORY_READ,
            S.PAYLOADS_DECODE,
            S.REFUNDS_READ,
            S.STORE_CREDIT_READ,
            S.INVOICES_READ,
            S.ACCOUNTING_READ,
            S.RETURNS_READ,
            S.CLAIMS_READ,
            S.EVENTS_READ,
            S.WEBHOOKS_READ,
            S.CUSTOMERS_READ,
            S.NOTIFICATIONS_READ,
        }
    ),
    Role.ADMIN: frozenset(Scope),
}

# Roles whose holders are bound to one channel: they never see another channel's orders.
CHANNEL_BOUND = frozenset({Role.STOREFRONT})
DEFAULT_CHANNEL = "default"


def may(role: Role, scope: Scope) -> bool:
    """Whether the role's holder may do what `scope` names."""
    return scope in ROLE_SCOPES[role]


def default_channel(role: Role) -> str | None:
    """The channel a key of `role` gets when none is named: `default` for a storefront's."""
    return DEFAULT_CHANNEL if role in CHANNEL_BOUND else None


def channel_problem(role: Role, channel: str | None) -> str | None:
    """Why `channel` cannot go with `role` (a storefront needs one; no other role has one)."""
    if role in CHANNEL_BOUND and channel is None:
        return f"a {role.value} key needs a channel"
    if role not in CHANNEL_BOUND and channel is not None:
        return f"a {role.value} key sees every channel: it takes none"
    return None
