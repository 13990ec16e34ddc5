"""API keys for tests: issued straight into the database, as `python -m cli api-keys` does."""

from datetime import UTC, datetime
from uuid import uuid4

from temporalio.converter import DataConverter

from db.keys import ApiKeyRepository
from db.session import SessionFactory
from security.payloads import converter_for, parse_keys
from security.roles import Role, default_channel
from settings import Settings

# The server secret every test's settings carry (API keys are hashed with it).
TEST_SECRET = "test-secret-not-for-production"
# The actor history and audit name for the session's key of each role (`role_keys`).
ACTORS = {role: f"key:tests-{role.value}" for role in Role}
# The Temporal payload key of every test's clients and workers (security/payloads.py's format).
TEST_PAYLOAD_KEYS = "test-1:zqssG07CIs70hYi38cW6ClJVALND8poCV9EwxyVRLuE"


def payload_converter(keys: str = TEST_PAYLOAD_KEYS) -> DataConverter:
    """The data converter of the tests' Temporal clients: what production's, with test keys."""
    return converter_for(parse_keys(keys))


async def issue_key(
    sessions: SessionFactory,
    settings: Settings,
    role: Role,
    channel: str | None = None,
    *,
    expires_at: datetime | None = None,
    name: str | None = None,
) -> str:
    """A fresh key of `role` (a storefront on `channel`, `default` unless given)."""
    channel = channel or default_channel(role)
    async with sessions.begin() as session:
        _, key = await ApiKeyRepository(session).issue(
            name=name or f"test-{role.value}-{uuid4().hex[:8]}",
            role=role,
            channel=channel,
            created_by="tests",
            secret=settings.server_secret(),
            now=datetime.now(UTC),
            expires_at=expires_at,
        )
    return key


def bearer(key: str) -> dict[str, str]:
    """The header that carries `key`."""
    return {"Authorization": f"Bearer {key}"}
