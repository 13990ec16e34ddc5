"""Brute force: too many failed logins for one username, or from one address, lock it for a while.

`login_max_failures` (5) failures within `login_failure_window` (15 min) lock that username or that
address for `login_lockout` (15 min): every attempt meanwhile answers 429, the right password
too. The count is read back from the security events (so it holds across API processes and
restarts); a user's successful login starts their count afresh, an address's does not (an
attacker with one good account must not reset their address's count with it). Attempts for one
username or address are serialized by transaction locks, so parallel guesses cannot slip past
the limit.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from db.console_users import SecurityEvent, SecurityEventRepository
from settings import Settings

Events = Sequence[tuple[str, datetime]]  # (kind, at)


def lock_end(
    events: Events, lock: SecurityEvent, now: datetime, settings: Settings
) -> datetime | None:
    """When the newest `lock` among `events` ends, if it has not yet."""
    locks = [at for kind, at in events if kind == lock]
    end = max(locks) + settings.login_lockout if locks else None
    return end if end is not None and end > now else None


def failures(events: Events, resets: set[SecurityEvent], now: datetime, settings: Settings) -> int:
    """Failures within the window, since the last event that starts the count afresh."""
    since = max(
        [now - settings.login_failure_window, *(at for kind, at in events if kind in resets)]
    )
    return sum(1 for kind, at in events if kind == SecurityEvent.LOGIN_FAILED and at > since)


@dataclass(frozen=True, kw_only=True)
class LoginThrottle:
    """The login events of one attempt's username and address, read under their locks."""

    events: SecurityEventRepository
    settings: Settings
    username: str
    address: str
    by_user: Events
    by_address: Events

    @classmethod
    async def read(
        cls,
        events: SecurityEventRepository,
        settings: Settings,
        username: str,
        address: str,
        now: datetime,
    ) -> "LoginThrottle":
        await events.serialize_login(
            f"console-login-user:{username}", f"console-login-address:{address}"
        )
        since = now - max(settings.login_failure_window, settings.login_lockout)
        return cls(
            events=events,
            settings=settings,
            username=username,
            address=address,
            by_user=await events.login_events(username=username, since=since),
            by_address=await events.login_events(address=address, since=since),
        )

    def retry_after(self, now: datetime) -> int | None:
        """Seconds until this username and this address may try again; None: they may now."""
        ends = [
            lock_end(self.by_user, SecurityEvent.USER_LOCKED, now, self.settings),
            lock_end(self.by_address, SecurityEvent.ADDRESS_LOCKED, now, self.settings),
        ]
        end = max((moment for moment in ends if moment is not None), default=None)
        return None if end is None else max(1, math.ceil((end - now).total_seconds()))

    async def failed(self, now: datetime, detail: str) -> None:
        """Record a failure, and the lock it completes, if it does."""
        who = {"username": self.username, "address": self.address}
        await self.events.record(SecurityEvent.LOGIN_FAILED, **who, detail=detail)
        limit, user_resets = (
            self.settings.login_max_failures,
            {SecurityEvent.LOGIN, SecurityEvent.USER_LOCKED},
        )
        if failures(self.by_user, user_resets, now, self.settings) + 1 >= limit:
            await self.events.record(SecurityEvent.USER_LOCKED, **who, detail=f"{limit} failures")
        if (
            failures(self.by_address, {SecurityEvent.ADDRESS_LOCKED}, now, self.settings) + 1
            >= limit
        ):
            await self.events.record(
                SecurityEvent.ADDRESS_LOCKED, **who, detail=f"{limit} failures"
            )
