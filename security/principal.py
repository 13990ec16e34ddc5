"""Who is asking: an API key or a console user, with the role that says what they may do."""

from dataclasses import dataclass
from enum import StrEnum

from security.roles import Role, Scope, may


class PrincipalKind(StrEnum):
    API_KEY = "key"
    CONSOLE_USER = "user"


@dataclass(frozen=True, kw_only=True)
class Principal:
    """An authenticated caller. `channel` is set for roles bound to one (a storefront)."""

    kind: PrincipalKind
    id: str
    name: str
    role: Role
    channel: str | None = None

    @property
    def actor(self) -> str:
        """How history, audit and stock movements name this caller: `key:shop-eu`, `user:ana`."""
        return f"{self.kind.value}:{self.name}"

    def may(self, scope: Scope) -> bool:
        return may(self.role, scope)

    def sees(self, channel: str) -> bool:
        """Whether this caller may know that something of `channel` exists."""
        return self.channel is None or self.channel == channel
