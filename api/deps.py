"""Request dependencies: the process-wide resources the lifespan put on `app.state`, what each
request builds from them, and the request headers routes share."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from temporalio.client import Client

from api.access import KeyGuard
from api.support_adapters import SqlSupportRecords, TemporalOrderUpdates
from api.support_service import SupportService
from db.session import SessionFactory
from settings import Settings

# A retried request with the same key is the same request (an order, a support action).
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
]


@dataclass(frozen=True, kw_only=True)
class Resources:
    """One engine, one session factory, one Temporal client and one key guard per process."""

    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    temporal: Client
    guard: KeyGuard


def get_resources(request: Request) -> Resources:
    """The resources the lifespan created."""
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    """A session per request; routes commit what they write."""
    async with resources.sessions() as session:
        yield session


def get_temporal(resources: ResourcesDep) -> Client:
    return resources.temporal


def get_app_settings(resources: ResourcesDep) -> Settings:
    return resources.settings


SessionDep = Annotated[AsyncSession, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_support(resources: ResourcesDep, session: SessionDep) -> SupportService:
    """The support actions, on this request's session and the process's Temporal client."""
    return SupportService(SqlSupportRecords(session), TemporalOrderUpdates(resources.temporal))


SupportDep = Annotated[SupportService, Depends(get_support)]
