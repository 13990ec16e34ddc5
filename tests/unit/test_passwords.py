"""The console's password rules and hashes (security/passwords.py): pure, no server."""

import pytest
from argon2 import PasswordHasher

from api.console.access import ANY_CONSOLE_USER
from security.passwords import (
    CONSOLE_ROLES,
    MIN_LENGTH,
    generate_password,
    hash_password,
    needs_rehash,
    new_user_problems,
    normalize_username,
    password_problems,
    username_problem,
    verify_password,
)
from security.roles import Role, may


def test_a_long_uncommon_password_passes() -> None:
    assert password_problems("correct horse battery staple") == []


@pytest.mark.parametrize("password", ["", "short", "a" * (MIN_LENGTH - 1)])
def test_a_password_shorter_than_twelve_characters_is_refused(password: str) -> None:
    assert password_problems(password) == ["a password needs at least 12 characters"]


@pytest.mark.parametrize(
    "password", ["1qaz2wsx3edc", "PASSWORD1234", "QwertyUiop123", "LeaveMeAlone"]
)
def test_a_password_among_the_most_common_is_refused_in_any_case(password: str) -> None:
    assert "this password is one of the most common ones: choose another" in password_problems(
        password
    )


def test_the_common_list_is_zxcvbns_thirty_thousand() -> None:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

    words = FREQUENCY_LISTS["passwords"]
    long_ones = [word for word in words if len(word) >= MIN_LENGTH]

    assert len(words) == 30_000
    assert all(password_problems(word) for word in long_ones[:200])


def test_length_counts_characters_after_unicode_normalization() -> None:
    composed, decomposed = "sécurité-été-2026", "se\u0301curite\u0301-e\u0301te\u0301-2026"

    assert password_problems(decomposed) == []
    assert verify_password(hash_password(composed), decomposed)  # the same password, typed apart


def test_a_password_may_not_be_the_username() -> None:
    assert "a password must not be the username" in password_problems(
        "Ana.Lovelace.1815", "ana.lovelace.1815"
    )


def test_a_password_longer_than_the_limit_is_refused() -> None:
    assert password_problems("x" * 1025) == ["a password has at most 1024 characters"]


def test_a_hash_is_argon2id_salted_and_verifies_only_its_password() -> None:
    first, second = hash_password("a fine passphrase"), hash_password("a fine passphrase")

    assert first.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert first != second  # a salt of its own
    assert verify_password(first, "a fine passphrase")
    assert not verify_password(first, "a fine passphrase!")
    assert not verify_password("not a hash", "a fine passphrase")
    assert not needs_rehash(first)


def test_a_hash_made_with_weaker_parameters_needs_a_rehash() -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("a fine passphrase")

    assert verify_password(old, "a fine passphrase")
    assert needs_rehash(old)


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("ana", None),
        ("ana.lovelace_1-2", None),
        ("a", "too short"),
        ("-ana", "starts badly"),
        ("ana lovelace", "a space"),
        ("x" * 65, "too long"),
    ],
)
def test_usernames_are_lower_case_letters_digits_and_dots_dashes_underscores(
    given: str, problem: str | None
) -> None:
    assert (username_problem(normalize_username(given)) is None) == (problem is None)


def test_usernames_are_case_insensitive() -> None:
    assert normalize_username("  Ana.Lovelace ") == "ana.lovelace"


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.WAREHOUSE, Role.OPS, Role.ADMIN])
def test_each_console_role_may_have_users(role: Role) -> None:
    assert new_user_problems("ana", role, "correct horse battery staple") == []


def test_a_storefront_is_never_a_console_user() -> None:
    assert new_user_problems("shop", Role.STOREFRONT, "correct horse battery staple") == [
        "console users are support, warehouse, ops, admin: a storefront is an API key, not a user"
    ]


def test_a_generated_password_passes_the_rules() -> None:
    passwords = {generate_password() for _ in range(20)}

    assert len(passwords) == 20
    assert all(password_problems(password) == [] for password in passwords)


def test_every_console_role_holds_the_scope_of_logging_out() -> None:
    assert all(may(role, ANY_CONSOLE_USER) for role in CONSOLE_ROLES)
