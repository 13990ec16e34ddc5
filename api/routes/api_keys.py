"""API keys: issue one (its secret shown once), list them, revoke one. Admin only.

`python -m cli api-keys` does the same from a shell, for the first key of an install."""

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Response

from api.auth import grants
from api.deps import ResourcesDep, SessionDep
from api.errors import NotFound, answers, field_error, invalid
from api.mapping import to_api_key_created, to_api_key_public
from api.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeysPublic
from db.keys import ApiKeyRepository
from security.principal import Principal
from security.roles import Role, Scope, channel_problem

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"])
Admin = Annotated[Principal, grants(Scope.API_KEYS_MANAGE)]


class KeyNotFound(NotFound):
    def __init__(self, key_id: str) -> None:
        super().__init__(f"API key {key_id} not found")


@router.post("", status_code=HTTPStatus.CREATED)
async def create_key(
    body: ApiKeyCreate, session: SessionDep, resources: ResourcesDep, caller: Admin
) -> ApiKeyCreated:
    """A new key. The answer is the only time its secret is shown: store it now."""
    now = datetime.now(UTC)
    role = Role(body.role)
    if (problem := channel_problem(role, body.channel)) is not None:
        raise invalid([field_error(("body", "channel"), problem, "channel", body.channel)])
    if body.expires_at is not None and body.expires_at <= now:
        msg = "must be in the future"
        raise invalid([field_error(("body", "expires_at"), msg, "expired", str(body.expires_at))])
    record, key = await ApiKeyRepository(session).issue(
        name=body.name,
        role=role,
        channel=body.channel,
        created_by=caller.actor,
        secret=resources.guard.secret,
        now=now,
        expires_at=body.expires_at,
    )
    await session.commit()
    return to_api_key_created(record, key)


@router.get("", dependencies=[grants(Scope.API_KEYS_MANAGE)])
async def list_keys(session: SessionDep) -> ApiKeysPublic:
    """Every key not revoked (expired ones too), oldest first; never a secret."""
    keys = await ApiKeyRepository(session).all()
    return ApiKeysPublic(items=[to_api_key_public(k) for k in keys if k.revoked_at is None])


@router.delete(
    "/{key_id}",
    status_code=HTTPStatus.NO_CONTENT,
    responses=answers({404: "No such key"}),
    dependencies=[grants(Scope.API_KEYS_MANAGE)],
)
async def revoke_key(key_id: str, session: SessionDep) -> Response:
    """Revoke the key: every process refuses it from the next request on. Again: still 204."""
    keys = ApiKeyRepository(session)
    key = await keys.get(key_id)
    if key is None:
        raise KeyNotFound(key_id)
    await keys.revoke(key, datetime.now(UTC))
    await session.commit()
    return Response(status_code=HTTPStatus.NO_CONTENT)
