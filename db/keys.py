"""API keys as stored: a keyed hash, never the key (security/keys.py makes and hashes them)."""

from collections.abc import Sequence
from datetime import datetime
from uuid import uuid4

from sqlalchemy import String, Text, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Timestamp
from security.keys import key_hash, new_key
from security.roles import Role


class ApiKeyRecord(Base):
    """One API key: who (name), what it may do (role, channel), until when. Revoked, never
    deleted."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(64), default=None)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    expires_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)

    def valid_at(self, moment: datetime) -> bool:
        """Neither revoked nor expired at `moment`."""
        expired = self.expires_at is not None and self.expires_at <= moment
        return self.revoked_at is None and not expired


class ApiKeyRepository:
    """Keys by hash (every request), by id and name (management)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def issue(
        self,
        *,
        name: str,
        role: Role,
        channel: str | None,
        created_by: str,
        secret: bytes,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> tuple[ApiKeyRecord, str]:
        """A new key: its row (flushed, not committed) and the key itself, shown this once."""
        key = new_key()
        record = ApiKeyRecord(
            id=f"key_{uuid4().hex}",
            name=name,
            role=role.value,
            channel=channel,
            key_hash=key_hash(key, secret),
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
        )
        self._session.add(record)
        await self._session.flush()
        return record, key

    async def by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        found = await self._session.execute(
            select(ApiKeyRecord).where(ApiKeyRecord.key_hash == key_hash)
        )
        return found.scalar_one_or_none()

    async def get(self, key_id: str) -> ApiKeyRecord | None:
        return await self._session.get(ApiKeyRecord, key_id)

    async def active_named(self, name: str, moment: datetime) -> ApiKeyRecord | None:
        """The newest key of this name still valid at `moment` (bootstrap reuses it)."""
        found = await self._session.execute(
            select(ApiKeyRecord)
            .where(ApiKeyRecord.name == name, ApiKeyRecord.revoked_at.is_(None))
            .order_by(ApiKeyRecord.created_at.desc())
        )
        return next((key for key in found.scalars() if key.valid_at(moment)), None)

    async def all(self) -> Sequence[ApiKeyRecord]:
        found = await self._session.execute(
            select(ApiKeyRecord).order_by(ApiKeyRecord.created_at, ApiKeyRecord.id)
        )
        return found.scalars().all()

    async def revoke(self, key: ApiKeyRecord, moment: datetime) -> None:
        """Revoked once: a second DELETE keeps the first time."""
        if key.revoked_at is None:
            key.revoked_at = moment
            await self._session.flush()

    async def touch(self, key_id: str, moment: datetime) -> None:
        """Record a use (the caller rate-limits these writes: not one per request)."""
        await self._session.execute(
            update(ApiKeyRecord).where(ApiKeyRecord.id == key_id).values(last_used_at=moment)
        )
