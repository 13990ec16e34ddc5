"""Console credentials: usernames, the password rules, and Argon2id hashes of passwords.

People choose passwords, so they get a slow, salted, memory-hard hash (Argon2id through
argon2-cffi, RFC 9106's low-memory profile: 64 MiB, 3 passes, 4 lanes), unlike API keys, which are
random (security/keys.py). The rules are NIST SP 800-63B's: long enough, and not one of the
passwords attackers try first; no composition rules, no forced periodic change.

Verifying is CPU-bound for about a tenth of a second: async callers run it in a thread.
"""

import re
import secrets
import unicodedata
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

from security.roles import Role

MIN_LENGTH = 12
MAX_LENGTH = 1024  # hashing cost hardly grows with length; this only bounds the request
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
CONSOLE_ROLES = (Role.SUPPORT, Role.WAREHOUSE, Role.OPS, Role.ADMIN)  # never a storefront
PARAMETERS = profiles.RFC_9106_LOW_MEMORY
_hasher = PasswordHasher.from_parameters(PARAMETERS)


def normalize(password: str) -> str:
    """NFKC, as NIST asks: the same password typed on two keyboards hashes the same."""
    return unicodedata.normalize("NFKC", password)


@cache
def _common() -> frozenset[str]:
    """The 30,000 passwords seen most often in breaches (zxcvbn's list), lower-cased."""
    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])


def password_problems(password: str, username: str = "") -> list[str]:
    """Why `password` may not be a console password (empty: it may)."""
    chosen = normalize(password)
    problems = []
    if len(chosen) < MIN_LENGTH:
        problems.append(f"a password needs at least {MIN_LENGTH} characters")
    if len(chosen) > MAX_LENGTH:
        problems.append(f"a password has at most {MAX_LENGTH} characters")
    if chosen.lower() in _common():
        problems.append("this password is one of the most common ones: choose another")
    if username and chosen.lower() == username.lower():
        problems.append("a password must not be the username")
    return problems


def normalize_username(username: str) -> str:
    """Usernames are case-insensitive: stored and looked up lower-cased."""
    return username.strip().lower()


def username_problem(username: str) -> str | None:
    """Why `username` (normalized) cannot name a console user, or None."""
    if USERNAME.fullmatch(username) is None:
        return (
            "a username is 2 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit"
        )
    return None


def new_user_problems(username: str, role: Role, password: str) -> list[str]:
    """Why these cannot make a console user (empty: they can); `username` normalized."""
    problems = [problem] if (problem := username_problem(username)) else []
    if role not in CONSOLE_ROLES:
        names = ", ".join(role.value for role in CONSOLE_ROLES)
        problems.append(f"console users are {names}: a {role.value} is an API key, not a user")
    return problems + password_problems(password, username)


def hash_password(password: str) -> str:
    """The PHC string to store: `$argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>`."""
    return _hasher.hash(normalize(password))


def verify_password(stored: str, password: str) -> bool:
    """Whether `password` is the one `stored` was made from (constant-time in libargon2)."""
    try:
        return _hasher.verify(stored, normalize(password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether `stored` was made with other parameters than today's (rehash at the next login)."""
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


@cache
def dummy_hash() -> str:
    """A hash to verify against when no such user exists, so that answering takes as long."""
    return hash_password(secrets.token_urlsafe(16))


def generate_password() -> str:
    """A random password an admin hands over (24 URL-safe characters, 144 bits)."""
    return secrets.token_urlsafe(18)
