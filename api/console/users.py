"""Console users, for admins: list, create, disable, enable, reset a password (`users:manage`).

A password the admin sets (typed, or generated and shown once on the answer page) must be
changed by its user at their next login. Disabling a user, or resetting their password, ends
their sessions at once. An admin cannot disable themselves (the last admin would lock everyone
out). Each change is a security event. The answer is the page itself, not a redirect: a
generated password must not travel in a cookie or a URL.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from accounts import Refusal, create_user, set_disabled, set_password
from api.console import forms, pages
from api.console.access import console_grants
from api.deps import ResourcesDep, SessionDep
from db.console_users import ConsoleUserRepository
from security.passwords import CONSOLE_ROLES, generate_password
from security.principal import Principal
from security.roles import Role, Scope

router = APIRouter(prefix=f"{pages.PREFIX}/users", include_in_schema=False)
Admin = Annotated[Principal, console_grants(Scope.USERS_MANAGE)]


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What the admin's last action did, shown above the list."""

    text: str
    problems: list[str]
    password: str | None = None  # generated: shown this once


@router.get("", dependencies=[console_grants(Scope.USERS_MANAGE)])
async def users_page(request: Request, session: SessionDep) -> Response:
    """Every console user, and the form to add one."""
    return await _page(request, session, None)


@router.post("")
async def add_user(
    request: Request, caller: Admin, resources: ResourcesDep, session: SessionDep
) -> Response:
    """A new user with a role (never a storefront) and a password typed or generated."""
    form = await forms.read(request)
    try:
        role = Role(forms.raw(form, "role"))
    except ValueError:
        named = forms.raw(form, "role")[:32]
        return await _refuse(request, session, [f"there is no console role named {named}"])
    typed = forms.raw(form, "password")
    password = typed or generate_password()
    try:
        username = await create_user(
            resources.sessions,
            forms.raw(form, "username"),
            role,
            password,
            actor=caller.actor,
            must_change=True,
        )
    except Refusal as refusal:
        return await _refuse(request, session, refusal.problems)
    outcome = Outcome(
        text=f"Created {username} ({role}).", problems=[], password=None if typed else password
    )
    return await _page(request, session, outcome)


@router.post("/{username}/disable")
async def disable_user(
    request: Request, username: str, caller: Admin, resources: ResourcesDep, session: SessionDep
) -> Response:
    """The user can no longer log in; their sessions end now."""
    if username == caller.name:
        return await _refuse(request, session, ["you cannot disable yourself"])
    return await _set_disabled(request, username, caller, resources, session, disabled=True)


@router.post("/{username}/enable")
async def enable_user(
    request: Request, username: str, caller: Admin, resources: ResourcesDep, session: SessionDep
) -> Response:
    """The user may log in again."""
    return await _set_disabled(request, username, caller, resources, session, disabled=False)


@router.post("/{username}/password")
async def reset_password(
    request: Request, username: str, caller: Admin, resources: ResourcesDep, session: SessionDep
) -> Response:
    """A new password (typed, or generated and shown once) that the user must change."""
    form = await forms.read(request)
    typed = forms.raw(form, "password")
    password = typed or generate_password()
    try:
        await set_password(
            resources.sessions, username, password, actor=caller.actor, must_change=True
        )
    except Refusal as refusal:
        return await _refuse(request, session, refusal.problems)
    outcome = Outcome(
        text=f"New password for {username}.", problems=[], password=None if typed else password
    )
    return await _page(request, session, outcome)


async def _set_disabled(
    request: Request,
    username: str,
    caller: Principal,
    resources: ResourcesDep,
    session: AsyncSession,
    *,
    disabled: bool,
) -> Response:
    try:
        await set_disabled(resources.sessions, username, disabled, actor=caller.actor)
    except Refusal as refusal:
        return await _refuse(request, session, refusal.problems)
    done = "Disabled" if disabled else "Enabled"
    return await _page(request, session, Outcome(text=f"{done} {username}.", problems=[]))


async def _refuse(request: Request, session: AsyncSession, problems: list[str]) -> Response:
    return await _page(request, session, Outcome(text="Not done.", problems=problems), 400)


async def _page(
    request: Request, session: AsyncSession, outcome: Outcome | None, status_code: int = 200
) -> Response:
    users = await ConsoleUserRepository(session).all()
    context = {"users": users, "outcome": outcome, "roles": [role.value for role in CONSOLE_ROLES]}
    return pages.render(request, "users.html", context, status_code=status_code)
