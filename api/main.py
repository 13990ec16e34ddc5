"""The HTTP API v1: `uvicorn api.main:app`. Resources live for the process, made in the lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.access import KeyGuard
from api.body_limit import BodyLimit
from api.console import app as console
from api.deps import Resources
from api.errors import install_error_handlers
from api.routes import (
    accounting,
    api_keys,
    claims,
    codec,
    customers,
    events,
    health,
    inventory,
    invoices,
    notifications,
    orders,
    refunds,
    returns,
    store_credit,
    support,
    webhooks,
)
from db.session import create_engine, create_session_factory
from settings import Settings, get_settings
from temporal_client import connect_temporal


async def open_resources(settings: Settings) -> Resources:
    """ONE engine, session factory and Temporal client for the whole process."""
    guard = KeyGuard(settings)  # first: no server secret, no API
    engine = create_engine(settings)
    # Lazy: the API starts (and /healthz tells) while Temporal is down; calls connect on use.
    temporal = await connect_temporal(settings, lazy=True)
    sessions = create_session_factory(engine)
    return Resources(
        settings=settings, engine=engine, sessions=sessions, temporal=temporal, guard=guard
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application; settings default to the environment (OMS_*), read at startup."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = await open_resources(settings or get_settings())
        app.state.resources = resources
        try:
            yield
        finally:
            await resources.engine.dispose()

    app = FastAPI(
        title="Order management API",
        version="1",
        summary="Place, follow and cancel orders; keep stock; refund, credit and invoice. Money "
        "is integer minor units.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    money = (refunds, returns, claims, invoices, store_credit, accounting)
    integration = (events, webhooks, customers, notifications)
    for module in (orders, support, *money, *integration, inventory, api_keys, health, codec):
        app.include_router(module.router)
    console.install(app)  # its routes, login redirects, 403 pages, security headers
    app.add_middleware(codec.CodecCors)  # CORS for the Temporal UI, on /codec/ only
    app.add_middleware(BodyLimit)  # outermost: nothing reads a body over the cap
    return app


app = create_app()
