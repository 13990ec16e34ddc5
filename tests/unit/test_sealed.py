"""Webhook secrets at rest: sealed under the server secret and a purpose, opened only by both."""

import pytest

from security.sealed import Unsealable, seal, unseal

SERVER = b"a server secret of sufficient length"


def test_a_sealed_value_opens_with_the_same_secret_and_purpose() -> None:
    sealed = seal("whsec_abc", SERVER, "webhook-secret")

    assert sealed.startswith("v1.")
    assert "whsec_abc" not in sealed
    assert unseal(sealed, SERVER, "webhook-secret") == "whsec_abc"


def test_sealing_twice_gives_two_different_values() -> None:
    assert seal("whsec_abc", SERVER, "p") != seal("whsec_abc", SERVER, "p")  # a fresh nonce


@pytest.mark.parametrize(
    ("server", "purpose"),
    [(b"another server secret, also long", "webhook-secret"), (SERVER, "another-purpose")],
    ids=["another server secret", "another purpose"],
)
def test_a_sealed_value_does_not_open_with_another_secret_or_purpose(
    server: bytes, purpose: str
) -> None:
    sealed = seal("whsec_abc", SERVER, "webhook-secret")

    with pytest.raises(Unsealable):
        unseal(sealed, server, purpose)


def test_an_altered_value_does_not_open() -> None:
    sealed = seal("whsec_abc", SERVER, "webhook-secret")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]

    with pytest.raises(Unsealable):
        unseal(flipped, SERVER, "webhook-secret")
    with pytest.raises(Unsealable):
        unseal("whsec_abc", SERVER, "webhook-secret")  # never sealed at all
