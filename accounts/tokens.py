"""The secrets of mailed links: random, shown once in the mail, stored as their sha256."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> tuple[str, str]:
    """A link's token and the digest the database keeps (a stolen backup opens nothing)."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: object) -> bool:
    """Could this be one of our tokens? Anything else is answered as an unknown link."""
    return isinstance(token, str) and 16 <= len(token) <= 64 and token.isascii()
