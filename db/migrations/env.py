"""Alembic environment: the URL comes from settings (OMS_DATABASE_URL), never from a config file."""

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from db.console_users import ConsoleUserRecord  # noqa: F401  (registers its tables)
from db.keys import ApiKeyRecord  # noqa: F401  (registers the table)
from db.models import Base
from settings import get_settings


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_async_engine(get_settings().require_database_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=get_settings().require_database_url(), target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
