"""Secrets kept encrypted in the database (a company's Stripe keys), readable only with the
app's SECRET_KEY.

Fernet (AES-128-CBC with an HMAC-SHA256) under a key derived from SECRET_KEY by HKDF, so the
key that signs cookies is never used as is to encrypt. A stored value names its version
("enc:v1:…"): after a key rotation, old and new values can be told apart.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "enc:v1:"
INFO = b"comptoir payment secrets v1"


class UnreadableSecret(ValueError):
    """Stored under another SECRET_KEY (or not by us): it must be entered again."""


class SecretBox:
    """`info` tells the uses apart: each purpose gets a key of its own from SECRET_KEY."""

    def __init__(self, secret_key: str, info: bytes = INFO) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
            secret_key.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def __repr__(self) -> str:  # never the key
        return "SecretBox()"

    def seal(self, value: str) -> str:
        """The value as stored; nothing stays nothing (no key saved)."""
        if not value:
            return ""
        return PREFIX + self._fernet.encrypt(value.encode()).decode("ascii")

    def open(self, stored: str) -> str:
        if not stored:
            return ""
        if not stored.startswith(PREFIX):
            raise UnreadableSecret()
        try:
            return self._fernet.decrypt(stored[len(PREFIX):].encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as error:
            raise UnreadableSecret() from error


@lru_cache(maxsize=8)
def box_for(secret_key: str, info: bytes = INFO) -> SecretBox:
    """One box per SECRET_KEY and purpose: the derivation runs once, not on every payment."""
    return SecretBox(secret_key, info)
