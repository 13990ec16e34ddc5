"""Your own account: change your password (required after an admin set it for you).

Any logged-in user, whatever the role (ANY_CONSOLE_USER). The current password is asked again,
and a wrong one counts as a failed login (a stolen session cannot be used to guess it). The new
password ends every other session of the user.
"""

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from api.console import forms, pages
from api.console.access import (
    ACCOUNT,
    ANY_CONSOLE_USER,
    SignedIn,
    SignedInDep,
    console_grants,
)
from api.console.login import address_of, check_password, locked_out
from api.deps import ResourcesDep, SettingsDep
from db.console_users import (
    ConsoleUserRecord,
    ConsoleUserRepository,
    SecurityEvent,
    SecurityEventRepository,
)
from security.passwords import hash_password, password_problems

router = APIRouter(prefix=pages.PREFIX, include_in_schema=False)


@router.get("/account", dependencies=[console_grants(ANY_CONSOLE_USER)])
async def account_page(request: Request, signed_in: SignedInDep, changed: str = "") -> Response:
    """Who you are, and the form to change your password."""
    done = "Your password is changed." if changed else None
    return _page(request, signed_in, [], done)


@router.post("/account", dependencies=[console_grants(ANY_CONSOLE_USER)])
async def change_password(
    request: Request, signed_in: SignedInDep, resources: ResourcesDep, settings: SettingsDep
) -> Response:
    """Check the current password and the new one's rules; then the new one, and on."""
    form = await forms.read(request)
    current, new, again = (forms.raw(form, name) for name in ("current", "new", "again"))
    name, address = signed_in.principal.name, address_of(request)
    problems = password_problems(new, name) + (
        [] if new == again else ["the two new passwords differ"]
    )
    async with resources.sessions.begin() as session:
        checked = await check_password(session, settings, name, current, address)
        if checked.retry_after is not None:
            raise locked_out(checked.retry_after)
        if checked.user is None:
            problems.insert(0, "the current password is wrong")
        if problems or checked.user is None:
            return _page(request, signed_in, problems, None, status_code=400)
        await _store(session, checked.user, new, signed_in, address)
    return RedirectResponse(f"{ACCOUNT}?changed=1", status_code=303)


async def _store(
    session: AsyncSession, user: ConsoleUserRecord, new: str, signed_in: SignedIn, address: str
) -> None:
    """The new password; every other session of the user ends, this one goes on."""
    new_hash = await asyncio.to_thread(hash_password, new)
    await ConsoleUserRepository(session).set_password(
        user, new_hash, datetime.now(UTC), must_change=False, keep_session=signed_in.id_hash
    )
    await SecurityEventRepository(session).record(
        SecurityEvent.PASSWORD_CHANGED,
        username=user.username,
        address=address,
        actor=signed_in.principal.actor,
    )


def _page(
    request: Request,
    signed_in: SignedIn,
    problems: list[str],
    done: str | None,
    status_code: int = 200,
) -> Response:
    context = {"problems": problems, "done": done, "must_change": signed_in.must_change_password}
    return pages.render(request, "account.html", context, status_code=status_code)
