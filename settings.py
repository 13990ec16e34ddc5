"""The one place configuration comes from: `OMS_*` environment variables (or a `.env` file)."""

from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the OMS. Defaults run the embedded stack on loopback."""

    model_config = SettingsConfigDict(env_prefix="OMS_", env_file=".env", extra="ignore")

    # PostgreSQL. Unset: `make run` starts an embedded server and fills this in for its children.
    database_url: str | None = None
    db_pool_size: int = 10
    db_max_overflow: int = 20

    # Temporal
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_api_key: str | None = None
    temporal_tls: bool = False
    task_queue: str = "orders"
    temporal_ui_url: str = "http://127.0.0.1:8233"

    # HTTP API
    api_host: str = "127.0.0.1"
    api_port: int = 8000

    # Security (SECURITY.md). The server secret keys the hashes of API keys: a database dump alone
    # cannot test a guessed key. `make run` generates one under data_dir; a deployment sets it.
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None  # or the secret in a file (a Docker volume, a secret)
    # Requests per API key and window (the `limits` syntax, e.g. "100/second;3000/minute"),
    # counted in each API process.
    rate_limit: str = "100/second"
    # Console sessions: a cookie `Secure` attribute (on behind TLS), idle and absolute expiry.
    cookie_secure: bool = False
    session_idle: timedelta = timedelta(minutes=30)
    session_lifetime: timedelta = timedelta(hours=12)
    # Brute force: this many failed logins for one user or from one address within the window
    # locks further attempts (429) for `login_lockout`.
    login_max_failures: int = Field(default=5, ge=1)
    login_failure_window: timedelta = timedelta(minutes=15)
    login_lockout: timedelta = timedelta(minutes=15)
    # Temporal payload encryption (AES-256-GCM): "id:base64key,id2:base64key" or a file of such
    # lines. The first key encrypts, all decrypt: rotate by putting a new key first.
    payload_keys: SecretStr | None = None
    payload_keys_file: Path | None = None
    # The Temporal UI's origin, the only one the codec endpoints answer cross-origin.
    codec_cors_origin: str | None = None  # unset: the origin of temporal_ui_url

    # Money (README "Money"). The seller printed on every invoice and credit note.
    seller_name: str = "Example Shop GmbH"
    seller_street: str = "Musterstraße 1"
    seller_postal_code: str = "10115"
    seller_city: str = "Berlin"
    seller_country: str = Field(default="DE", pattern=r"^[A-Z]{2}$")
    seller_vat_id: str = "DE123456789"
    seller_email: str = "billing@example.com"
    # The chart of accounts the journal books to (JSON object, e.g. '{"psp_clearing": "1361"}'):
    # keys as money/journal.py's `Account` names them; `{rate}` in revenue/vat_payable/refunds
    # is the tax rate ("8400-{rate}" books 19 % revenue to 8400-19).
    chart_of_accounts: dict[str, str] = Field(default_factory=dict)

    # The embedded stack of `make run`
    data_dir: Path = Path(".oms")
    temporal_ui_port: int = 8233
    postgres_port: int = 5433

    # Order workflow behaviour
    backorder_window: timedelta = timedelta(days=7)
    backorder_recheck: timedelta = timedelta(hours=1)
    delivery_window: timedelta = timedelta(days=30)
    # Orders with a larger total (minor units of their currency) wait on a `payment_review` hold
    # before picking until support releases them. Unset: no automatic review.
    payment_review_above: int | None = Field(default=None, ge=0)
    reconcile_interval: timedelta = timedelta(seconds=30)
    # Returns: asked within `return_window` of delivery (ISO 8601, e.g. P30D); approved at once
    # unless `return_auto_approve` is off (then support decides); a parcel that has not arrived
    # `return_receive_window` after its label expires the return.
    return_window: timedelta = timedelta(days=30)
    return_auto_approve: bool = True
    return_receive_window: timedelta = timedelta(days=14)
    reconcile_grace: timedelta = timedelta(seconds=30)
    # An order not shipped this long after placement is late: order.delayed, a mail, `Late`.
    ship_sla: timedelta = timedelta(hours=48)

    # Events and webhooks (README "Events and webhooks"). The relay fans new events out to
    # webhook deliveries and customer e-mails every `relay_interval`.
    relay_interval: timedelta = timedelta(milliseconds=250)
    # How long a relay holds the deliveries and mails it claimed for their first try: a worker
    # that dies mid-round leaves them to another after this. Longer than a round's worst case
    # (integration/dispatch.py: 40 s), or a slow round's rows may be tried twice.
    relay_lease: timedelta = timedelta(seconds=60)
    # Webhook URLs must be https and resolve to public addresses; on, http and private,
    # loopback and link-local targets are allowed too (make run and the tests: local receivers).
    webhook_allow_private: bool = False
    # Customer e-mails: smtp://[user:password@]host[:port][?starttls=true] or smtps://...;
    # unset: no e-mails are sent (nor recorded). `make run` points it at its mail catcher.
    smtp_url: SecretStr | None = None
    mail_from: str = "Example Shop <shop@example.com>"
    # Where `make run`'s mail catcher keeps what it received: the console's Mail page shows it.
    mail_catcher_dir: Path | None = None
    mail_catcher_port: int = 2525  # make run's catcher, when OMS_SMTP_URL is not set

    # Simulated outside world: latency of each step, and of the carrier's delivery
    sim_step_latency: timedelta = timedelta(milliseconds=200)
    sim_delivery_delay: timedelta = timedelta(seconds=2)
    sim_failure_rate: float = Field(default=0.0, ge=0.0, le=1.0)

    @field_validator("database_url")
    @classmethod
    def _use_psycopg3(cls, url: str | None) -> str | None:
        """Accept any PostgreSQL URL; SQLAlchemy must talk to it through psycopg 3."""
        if url is None:
            return None
        for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url.removeprefix(prefix)
        if not url.startswith("postgresql+psycopg://"):
            raise ValueError("must be a postgresql:// URL")
        return url

    def server_secret(self) -> bytes:
        """OMS_SECRET_KEY (or the file OMS_SECRET_KEY_FILE names), or a clear error."""
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value()
        elif self.secret_key_file is not None:
            value = self.secret_key_file.read_text().strip()
        else:
            raise RuntimeError(
                "OMS_SECRET_KEY is not set: API keys and console tokens are keyed with it "
                "(make run generates one under .oms/; see SECURITY.md)"
            )
        if len(value) < 16:
            raise RuntimeError("OMS_SECRET_KEY is shorter than 16 characters")
        return value.encode()

    def require_database_url(self) -> str:
        """The database URL, or a clear error telling how to provide one."""
        if self.database_url is None:
            raise RuntimeError("OMS_DATABASE_URL is not set (make run sets it for its own server)")
        return self.database_url


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
