"""Table PINs and the limit on wrong guesses: plain Python."""

from __future__ import annotations

import hmac
import secrets


def new_pin(length: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(length))


def matches(expected: str, given: object) -> bool:
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(expected.encode(), given.strip().encode())


def is_blocked(failures_at_table: int, failures_by_client: int, limit: int) -> bool:
    """Joining is blocked once a table, or a client anywhere, reached the limit in the window."""
    return failures_at_table >= limit or failures_by_client >= limit
