"""Request dependencies: the process-wide resources the lifespan put on `app.state`."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from temporalio.client import Client

from db.session import SessionFactory
from settings import Settings


@dataclass(frozen=True, kw_only=True)
class Resources:
    """One engine, one session factory and one Temporal client per process."""

    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    temporal: Client


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
