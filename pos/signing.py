"""Ed25519 signatures of closings and archives: a key pair per company.

The private key is kept sealed with the app's SECRET_KEY (payments/secret_box.py, under a
key derived for this purpose only); the public key is kept and exported as PEM, so that an
auditor checks a signature without Comptoir. Signatures travel as base64.
"""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from payments.secret_box import SecretBox, box_for

SEALING_INFO = b"comptoir till signing keys v1"


def sealing_box(secret_key: str) -> SecretBox:
    return box_for(secret_key, SEALING_INFO)


def new_key_pair(box: SecretBox) -> tuple[str, str]:
    """A fresh key pair: (the private key sealed, the public key as PEM)."""
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return box.seal(base64.b64encode(raw).decode("ascii")), public_pem(private.public_key())


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def sign(box: SecretBox, sealed_private: str, data: bytes) -> str:
    """Raises payments.secret_box.UnreadableSecret under another SECRET_KEY."""
    raw = base64.b64decode(box.open(sealed_private))
    signature = Ed25519PrivateKey.from_private_bytes(raw).sign(data)
    return base64.b64encode(signature).decode("ascii")


def load_public(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def verify(pem: str, data: bytes, signature: str) -> bool:
    try:
        load_public(pem).verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True
