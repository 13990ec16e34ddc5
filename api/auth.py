"""Who may call what. Every route declares, where it is defined, the scope it needs:

    @router.get("/{order_id}")
    async def get_order(order_id: str, caller: Annotated[Principal, grants(Scope.ORDERS_READ)])

or `dependencies=[grants(Scope.X)]` when it does not need the caller, or `dependencies=[OPEN]`
for the few that anyone may call (health, the console's login page). tests/unit/test_route_scopes.py
fails for a route that declares neither. `/v1` takes API keys only (`Authorization: Bearer`);
the console takes its session cookie (api/console/access.py)."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes

from api.deps import ResourcesDep, SessionDep
from api.errors import Forbidden, Unauthenticated
from db.keys import ApiKeyRecord, ApiKeyRepository
from security.keys import key_hash, well_formed
from security.principal import Principal, PrincipalKind
from security.roles import Role, Scope

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key (`oms_sk_…`): `Authorization: Bearer <key>`.",
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def key_principal(key: ApiKeyRecord) -> Principal:
    return Principal(
        kind=PrincipalKind.API_KEY,
        id=key.id,
        name=key.name,
        role=Role(key.role),
        channel=key.channel,
    )


async def authenticate_key(
    resources: ResourcesDep, session: SessionDep, credentials: BearerDep
) -> Principal:
    """The API key's principal: 401 unless it is one we issued, unrevoked and unexpired."""
    if credentials is None:
        raise Unauthenticated("an API key is required: Authorization: Bearer <key>")
    presented = credentials.credentials
    if not well_formed(presented):
        raise Unauthenticated("malformed API key")
    key = await ApiKeyRepository(session).by_hash(key_hash(presented, resources.guard.secret))
    now = datetime.now(UTC)
    if key is None:
        raise Unauthenticated("unknown API key")
    if key.revoked_at is not None:
        raise Unauthenticated("this API key was revoked")
    if not key.valid_at(now):
        raise Unauthenticated("this API key has expired")
    resources.guard.admit(key.id)
    if resources.guard.due_for_touch(key.id, now):
        async with resources.sessions.begin() as touching:  # its own transaction: GETs never commit
            await ApiKeyRepository(touching).touch(key.id, now)
    return key_principal(key)


def require_scopes(caller: Principal, needed: SecurityScopes) -> Principal:
    """The caller, if their role grants every scope the route declared; else 403."""
    for scope in needed.scopes:
        if not caller.may(Scope(scope)):
            raise Forbidden(scope)
    return caller


async def authorize(
    needed: SecurityScopes, caller: Annotated[Principal, Depends(authenticate_key)]
) -> Principal:
    """An API key whose role grants the route's scopes."""
    return require_scopes(caller, needed)


def grants(scope: Scope) -> Any:
    """The dependency a `/v1` route declares: `Annotated[Principal, grants(Scope.X)]`."""
    return Security(authorize, scopes=[scope.value])


def open_to_anyone() -> None:
    """The declaration of a route anyone may call (it must reveal nothing but its purpose)."""


OPEN = Depends(open_to_anyone)
