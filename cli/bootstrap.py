"""`python -m cli bootstrap --credentials .oms/credentials.env`: what `make run` does on every
start. The first time it issues one API key per role (the storefront's on channel `default`)
and a console admin with a random password, and writes them to the file (mode 0600); later it
reuses what the file holds, replacing only what no longer works (a key revoked, a database
wiped)."""

import asyncio
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

from dotenv import dotenv_values

from accounts import ensure_user, set_password
from cli.keys import server_secret
from db.keys import ApiKeyRepository
from db.session import SessionFactory
from security.keys import key_hash, well_formed
from security.roles import Role, default_channel
from settings import Settings

KEY_VARIABLES = {
    Role.ADMIN: "OMS_ADMIN_KEY",
    Role.STOREFRONT: "OMS_STOREFRONT_KEY",
    Role.SUPPORT: "OMS_SUPPORT_KEY",
    Role.WAREHOUSE: "OMS_WAREHOUSE_KEY",
    Role.OPS: "OMS_OPS_KEY",
}
CONSOLE_ADMIN = "admin"


async def bootstrap(sessions: SessionFactory, settings: Settings, path: Path) -> None:
    """Make every credential in `path` one that works, then write the file back."""
    known = await asyncio.to_thread(_read, path)
    values = await _keys(sessions, settings, known)
    user = known.get("OMS_CONSOLE_USER", CONSOLE_ADMIN)
    password = known.get("OMS_CONSOLE_PASSWORD")
    if password is None:  # first start, or the file was lost: a new password
        password = secrets.token_urlsafe(18)
        if not await ensure_user(sessions, user, Role.ADMIN, password):
            await set_password(sessions, user, password, actor="make run", must_change=False)
    else:
        await ensure_user(sessions, user, Role.ADMIN, password)  # a wiped database
    values |= {"OMS_CONSOLE_USER": user, "OMS_CONSOLE_PASSWORD": password}
    text = "".join(f"{name}={value}\n" for name, value in values.items())
    await asyncio.to_thread(_write_private, path, text)


async def _keys(
    sessions: SessionFactory, settings: Settings, known: dict[str, str]
) -> dict[str, str]:
    secret, now = server_secret(settings), datetime.now(UTC)
    values: dict[str, str] = {}
    async with sessions.begin() as session:
        keys = ApiKeyRepository(session)
        for role, variable in KEY_VARIABLES.items():
            old = known.get(variable, "")
            stored = await keys.by_hash(key_hash(old, secret)) if well_formed(old) else None
            if stored is not None and stored.valid_at(now):
                values[variable] = old
                continue
            _, values[variable] = await keys.issue(
                name=f"make-run-{role.value}",
                role=role,
                channel=default_channel(role),
                created_by="make run",
                secret=secret,
                now=now,
            )
    return values


def _read(path: Path) -> dict[str, str]:
    """The variables the file sets (none when there is no file yet)."""
    return {k: v for k, v in dotenv_values(path).items() if v} if path.exists() else {}


def _write_private(path: Path, text: str) -> None:
    """Written whole (a rename) and readable by its owner only, from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    os.chmod(partial, 0o600)
    partial.replace(path)
