"""Console users, their sessions, and the append-only log of security events.

A session is stored only as the SHA-256 of its id: the id is 256 random bits, so a fast hash is
enough, and a copy of the table cannot be replayed as cookies. Security events are never updated
or deleted (a trigger refuses it, as for order_audit); the login throttle reads them back.
"""

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from uuid import uuid4

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Timestamp
from security.roles import Role


class SecurityEvent(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    USER_LOCKED = "user_locked"  # too many failures for one username
    ADDRESS_LOCKED = "address_locked"  # too many failures from one address
    LOGOUT = "logout"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    USER_CREATED = "user_created"
    USER_DISABLED = "user_disabled"
    USER_ENABLED = "user_enabled"
    WEBHOOK_CREATED = "webhook_created"  # a subscriber: its secret is a credential
    WEBHOOK_CHANGED = "webhook_changed"
    WEBHOOK_DELETED = "webhook_deleted"
    WEBHOOK_SECRET_ROTATED = "webhook_secret_rotated"


class ConsoleUserRecord(Base):
    """Someone who logs in to the console; disabled, never deleted (events name them)."""

    __tablename__ = "console_users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('support', 'warehouse', 'ops', 'admin')", name="console_user_role"
        ),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)  # lower-cased
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(Text)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    password_changed_at: Mapped[datetime] = mapped_column(Timestamp)
    disabled_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    last_login_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)


class ConsoleSessionRecord(Base):
    """One login: ended by logout (the row is deleted), or expired by idle or absolute time."""

    __tablename__ = "console_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("console_users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    last_seen_at: Mapped[datetime] = mapped_column(Timestamp)


class SecurityEventRecord(Base):
    """Append-only: a login, a failure, a lockout, a change to a user; who, from where, when."""

    __tablename__ = "security_events"
    __table_args__ = (
        Index("ix_security_events_username_at", "username", "at"),
        Index("ix_security_events_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    kind: Mapped[str] = mapped_column(String(32))
    username: Mapped[str | None] = mapped_column(Text, default=None)  # as given, or affected
    address: Mapped[str | None] = mapped_column(String(64), default=None)
    actor: Mapped[str | None] = mapped_column(Text, default=None)  # who did it: user:…, cli
    detail: Mapped[str | None] = mapped_column(Text, default=None)


class ConsoleUserRepository:
    """Users by name and id; the caller owns the transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(
        self,
        *,
        username: str,
        role: Role,
        password_hash: str,
        created_by: str,
        now: datetime,
        must_change: bool = False,
    ) -> ConsoleUserRecord:
        """A new user (flushed): `username` normalized, `role` one of CONSOLE_ROLES."""
        user = ConsoleUserRecord(
            id=f"usr_{uuid4().hex}",
            username=username,
            role=role.value,
            password_hash=password_hash,
            must_change_password=must_change,
            created_by=created_by,
            created_at=now,
            password_changed_at=now,
        )
        self._session.add(user)
        await self._session.flush()
        return user

    async def named(self, username: str) -> ConsoleUserRecord | None:
        found = await self._session.scalars(
            select(ConsoleUserRecord).where(ConsoleUserRecord.username == username)
        )
        return found.one_or_none()

    async def get(self, user_id: str) -> ConsoleUserRecord | None:
        return await self._session.get(ConsoleUserRecord, user_id)

    async def all(self) -> Sequence[ConsoleUserRecord]:
        query = select(ConsoleUserRecord).order_by(ConsoleUserRecord.username)
        found = await self._session.scalars(query.execution_options(populate_existing=True))
        return found.all()

    async def set_password(
        self,
        user: ConsoleUserRecord,
        password_hash: str,
        now: datetime,
        *,
        must_change: bool,
        keep_session: str | None = None,
    ) -> None:
        """A new password ends the user's sessions (but `keep_session`, the one changing it)."""
        user.password_hash, user.must_change_password = password_hash, must_change
        user.password_changed_at = now
        await ConsoleSessionRepository(self._session).end_all_of(user.id, keep=keep_session)
        await self._session.flush()

    async def set_disabled(self, user: ConsoleUserRecord, disabled: bool, now: datetime) -> None:
        """Disabling ends every session of the user at once; enabling lets them log in again."""
        user.disabled_at = now if disabled else None
        if disabled:
            await ConsoleSessionRepository(self._session).end_all_of(user.id)
        await self._session.flush()


class ConsoleSessionRepository:
    """Sessions by the hash of their id."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def open(self, id_hash: str, user_id: str, now: datetime) -> None:
        self._session.add(
            ConsoleSessionRecord(id_hash=id_hash, user_id=user_id, created_at=now, last_seen_at=now)
        )
        await self._session.flush()

    async def find(self, id_hash: str) -> tuple[ConsoleSessionRecord, ConsoleUserRecord] | None:
        """The session and its user (one query: every console request makes it)."""
        found = await self._session.execute(
            select(ConsoleSessionRecord, ConsoleUserRecord)
            .join(ConsoleUserRecord, ConsoleUserRecord.id == ConsoleSessionRecord.user_id)
            .where(ConsoleSessionRecord.id_hash == id_hash)
        )
        row = found.one_or_none()
        return None if row is None else (row[0], row[1])

    async def touch(self, id_hash: str, now: datetime) -> None:
        """Restart the idle clock (callers do it at most once a minute or so per session)."""
        await self._session.execute(
            update(ConsoleSessionRecord)
            .where(ConsoleSessionRecord.id_hash == id_hash)
            .values(last_seen_at=now)
        )

    async def end(self, id_hash: str) -> bool:
        """Delete the session; whether there was one."""
        ended = await self._session.execute(
            delete(ConsoleSessionRecord).where(ConsoleSessionRecord.id_hash == id_hash)
        )
        return bool(getattr(ended, "rowcount", 0))

    async def end_all_of(self, user_id: str, keep: str | None = None) -> None:
        """End every session of the user (but `keep`, the one changing its own password)."""
        query = delete(ConsoleSessionRecord).where(ConsoleSessionRecord.user_id == user_id)
        if keep is not None:
            query = query.where(ConsoleSessionRecord.id_hash != keep)
        await self._session.execute(query)

    async def end_expired(self, idle_since: datetime, started_before: datetime) -> None:
        """Delete sessions idle since `idle_since` or older than `started_before`."""
        await self._session.execute(
            delete(ConsoleSessionRecord).where(
                or_(
                    ConsoleSessionRecord.last_seen_at < idle_since,
                    ConsoleSessionRecord.created_at < started_before,
                )
            )
        )


class SecurityEventRepository:
    """Writes events, and reads back what the login throttle counts."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(
        self,
        kind: SecurityEvent,
        *,
        username: str | None = None,
        address: str | None = None,
        actor: str | None = None,
        detail: str | None = None,
    ) -> None:
        row = SecurityEventRecord(
            kind=kind.value, username=username, address=address, actor=actor, detail=detail
        )
        self._session.add(row)
        await self._session.flush()

    async def login_events(
        self, *, username: str | None = None, address: str | None = None, since: datetime
    ) -> list[tuple[str, datetime]]:
        """(kind, at) of the logins, failures and lockouts of one username or one address."""
        kinds = [SecurityEvent.LOGIN, SecurityEvent.LOGIN_FAILED]
        kinds += [SecurityEvent.USER_LOCKED, SecurityEvent.ADDRESS_LOCKED]
        column = SecurityEventRecord.username if username else SecurityEventRecord.address
        found = await self._session.execute(
            select(SecurityEventRecord.kind, SecurityEventRecord.at).where(
                column == (username or address),
                SecurityEventRecord.at > since,
                SecurityEventRecord.kind.in_([kind.value for kind in kinds]),
            )
        )
        return [(row.kind, row.at) for row in found]

    async def serialize_login(self, *keys: str) -> None:
        """Take each key's transaction lock, in the given order: concurrent attempts for one
        user or address count their failures one after another, so none slips past the limit."""
        for key in keys:
            await self._session.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key}
            )
