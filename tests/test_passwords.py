"""Passwords: scrypt at its real cost, each hash naming the cost it was made with.

The other tests hash at a token cost (tests/conftest.py); these at the real one."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

import pytest

from accounts import passwords
from accounts.passwords import DEFAULT, Cost, dummy_hash, hash_password, verify_password


@pytest.fixture
def real_cost() -> Iterator[None]:
    lowered = passwords.use_cost(DEFAULT)
    yield
    passwords.use_cost(lowered)


def test_a_server_hashes_at_the_real_cost_and_names_it(real_cost: None) -> None:
    assert DEFAULT == Cost(n=2**14, r=8, p=1)
    stored = hash_password("correct horse")
    scheme, cost, salt, digest = stored.split("$")
    assert (scheme, cost) == ("scrypt", "n=16384,r=8,p=1")
    assert base64.b64decode(digest) == hashlib.scrypt(
        b"correct horse", salt=base64.b64decode(salt), n=2**14, r=8, p=1)
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horse!", stored)
    assert dummy_hash().startswith("scrypt$n=16384,r=8,p=1$")


def test_a_hash_of_the_first_form_is_checked_at_the_real_cost() -> None:
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"caisse-demo", salt=salt, n=2**14, r=8, p=1)
    stored = f"scrypt${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    assert verify_password("caisse-demo", stored)
    assert not verify_password("caisse-demo2", stored)


def test_a_hash_is_checked_at_its_own_cost_whatever_new_ones_cost(real_cost: None) -> None:
    passwords.use_cost(Cost(n=2**4, r=8, p=1))
    cheap = hash_password("1234")
    passwords.use_cost(DEFAULT)
    assert cheap.startswith("scrypt$n=16,r=8,p=1$")
    assert verify_password("1234", cheap) and not verify_password("4321", cheap)


@pytest.mark.parametrize("cost", [
    "n=16,r=8", "n=15,r=8,p=1", "n=abc,r=8,p=1", "n=1048576,r=8,p=1", "n=16,r=0,p=1", "",
])
def test_a_hash_asking_an_odd_or_huge_cost_matches_nothing(cost: str) -> None:
    cheap = hash_password("1234").split("$")
    assert not verify_password("1234", "$".join([cheap[0], cost, *cheap[2:]]))
