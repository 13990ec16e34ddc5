"""Liveness of the API and of what it needs: PostgreSQL and Temporal."""

import asyncio
import logging
from collections.abc import Awaitable
from datetime import timedelta
from http import HTTPStatus

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.auth import OPEN
from api.deps import ResourcesDep
from api.schemas import HealthPublic

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])
PROBE_TIMEOUT = timedelta(seconds=2)


@router.get(
    "/healthz",
    dependencies=[OPEN],  # up or down, nothing more: load balancers ask without a key
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "A dependency is unavailable"}},
)
async def health(resources: ResourcesDep) -> JSONResponse:
    """200 when PostgreSQL and Temporal both answer, else 503 naming the one that does not."""
    database, temporal = await asyncio.gather(
        _probe("database", _database(resources.engine)),
        _probe("temporal", _temporal(resources.temporal)),
    )
    healthy = database and temporal
    body = HealthPublic(
        status="ok" if healthy else "unavailable",
        database="ok" if database else "unavailable",
        temporal="ok" if temporal else "unavailable",
    )
    code = HTTPStatus.OK if healthy else HTTPStatus.SERVICE_UNAVAILABLE
    return JSONResponse(body.model_dump(), status_code=code)


async def _probe(name: str, check: Awaitable[bool]) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT.total_seconds()):
            return await check
    except Exception as err:  # any failure means "unavailable"; the log says which
        log.warning("health: %s unavailable: %r", name, err)
        return False


async def _database(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        return bool(await connection.scalar(text("SELECT 1")) == 1)


async def _temporal(client: Client) -> bool:
    return await client.service_client.check_health(timeout=PROBE_TIMEOUT)
