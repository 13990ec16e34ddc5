"""One async engine and session factory per process: the only way code reaches PostgreSQL."""

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from settings import Settings

SessionFactory = async_sessionmaker[AsyncSession]


def create_engine(settings: Settings) -> AsyncEngine:
    """A pooled engine on psycopg 3; `pool_pre_ping` rides out a database restart."""
    return create_async_engine(
        settings.require_database_url(),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
    )


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that keep loaded rows usable after commit (we return them to callers)."""
    return async_sessionmaker(engine, expire_on_commit=False)
