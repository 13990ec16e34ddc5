"""`python -m cli api-keys create|list|revoke`: what POST/GET/DELETE /v1/api-keys do, for the
first key of an install (nobody holds an admin key yet) and for scripts."""

import argparse
from datetime import UTC, datetime

from db.keys import ApiKeyRepository
from db.session import SessionFactory
from security.roles import Role, channel_problem
from settings import Settings

ACTOR = "cli"


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    keys = commands.add_parser("api-keys", help="issue, list and revoke API keys")
    verbs = keys.add_subparsers(dest="verb", required=True)
    create = verbs.add_parser("create", help="issue a key; prints it once")
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--channel", help="a storefront key's channel")
    create.add_argument("--expires-at", type=datetime.fromisoformat, help="ISO 8601, with offset")
    verbs.add_parser("list", help="keys not revoked (never their secrets)")
    revoke = verbs.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("key_id")


async def run(args: argparse.Namespace, sessions: SessionFactory, settings: Settings) -> int:
    """Carry out one `api-keys` command; 0 when done, 2 for a refused request."""
    if args.verb == "create":
        return await _create(args, sessions, settings)
    async with sessions.begin() as session:
        keys = ApiKeyRepository(session)
        if args.verb == "list":
            for listed in await keys.all():
                if listed.revoked_at is None:
                    print(
                        _line(
                            listed.id, listed.name, listed.role, listed.channel, listed.expires_at
                        )
                    )
            return 0
        key = await keys.get(args.key_id)
        if key is None:
            print(f"no API key {args.key_id}")
            return 2
        await keys.revoke(key, datetime.now(UTC))
        print(f"revoked {key.id} ({key.name})")
        return 0


async def _create(args: argparse.Namespace, sessions: SessionFactory, settings: Settings) -> int:
    role, now = Role(args.role), datetime.now(UTC)
    if (problem := channel_problem(role, args.channel)) is not None:
        print(problem)
        return 2
    if args.expires_at is not None and (args.expires_at.tzinfo is None or args.expires_at <= now):
        print("--expires-at must be a future time with its UTC offset")
        return 2
    async with sessions.begin() as session:
        record, key = await ApiKeyRepository(session).issue(
            name=args.name,
            role=role,
            channel=args.channel,
            created_by=ACTOR,
            secret=server_secret(settings),
            now=now,
            expires_at=args.expires_at,
        )
    print(_line(record.id, record.name, record.role, record.channel, record.expires_at))
    print(key)  # the only time it is shown
    return 0


def server_secret(settings: Settings) -> bytes:
    try:
        return settings.server_secret()
    except RuntimeError as error:
        raise SystemExit(str(error)) from None


def _line(key_id: str, name: str, role: str, channel: str | None, expires: datetime | None) -> str:
    until = "never expires" if expires is None else f"expires {expires.isoformat()}"
    return f"{key_id}  {name}  {role}{f'@{channel}' if channel else ''}  {until}"
