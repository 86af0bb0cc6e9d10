"""Password hashing with scrypt from the standard library.

A hash names the cost it was made with (`scrypt$n=16384,r=8,p=1$salt$digest`) and is
checked at that cost: the cost of new hashes can be raised later without locking anyone
out. A hash of the first form, `scrypt$salt$digest`, was made at the default cost.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class Cost:
    n: int  # CPU and memory: a power of two
    r: int  # block size
    p: int  # parallelism

    def __str__(self) -> str:
        return f"n={self.n},r={self.r},p={self.p}"


DEFAULT = Cost(n=2**14, r=8, p=1)  # 16 MiB and about 40 ms a hash
# scrypt's memory is about 128 * n * r bytes: a stored hash may not ask for more than this.
_MAX_MEMORY = 64 * 1024 * 1024
_cost = DEFAULT


def use_cost(cost: Cost) -> Cost:
    """Hash new passwords at this cost from now on; returns the cost used until now. Only
    the tests lower it (scrypt's tens of milliseconds, over thousands of sign-ins): a
    server always hashes at DEFAULT."""
    global _cost
    before, _cost = _cost, cost
    return before


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _cost)
    return f"scrypt${_cost}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    parts = stored.split("$")
    if len(parts) == 3:
        cost = DEFAULT
    elif len(parts) == 4 and (read := _read_cost(parts[1])) is not None:
        cost = read
        del parts[1]
    else:
        return False
    scheme, salt_b64, digest_b64 = parts
    if scheme != "scrypt":
        return False
    digest = _scrypt(password, base64.b64decode(salt_b64), cost)
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def dummy_hash() -> str:
    """A hash of nobody's password, at the current cost: checked when an email is unknown,
    so that timing does not tell who has an account (made on first use, not at import)."""
    if _cost not in _dummies:
        _dummies[_cost] = hash_password("not a password")
    return _dummies[_cost]


_dummies: dict[Cost, str] = {}


def _scrypt(password: str, salt: bytes, cost: Cost) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=cost.n, r=cost.r, p=cost.p,
                          maxmem=_MAX_MEMORY)


def _read_cost(text: str) -> Cost | None:
    try:
        fields = dict(item.split("=", 1) for item in text.split(","))
        cost = Cost(n=int(fields["n"]), r=int(fields["r"]), p=int(fields["p"]))
    except (KeyError, ValueError):
        return None
    if cost.n < 2 or cost.n & (cost.n - 1) or not 1 <= cost.r <= 64 or not 1 <= cost.p <= 16:
        return None
    if 128 * cost.n * cost.r > _MAX_MEMORY:
        return None
    return cost
