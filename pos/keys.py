"""Each company's signing key: made on first use, its public half exported as PEM."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from payments.secret_box import SecretBox, UnreadableSecret
from pos import signing
from pos.errors import SigningKeyUnreadable
from pos.journal import lock_company
from pos.models import SigningKey
from realtime.events import Tx


async def company_key(tx: Tx, box: SecretBox, company_id: int) -> SigningKey:
    """The company's key pair, made the first time a closing needs it."""
    key = await tx.session.scalar(select(SigningKey).where(SigningKey.company_id == company_id))
    if key is not None:
        return key
    await lock_company(tx, company_id)
    key = await tx.session.scalar(select(SigningKey).where(SigningKey.company_id == company_id))
    if key is None:
        sealed, pem = signing.new_key_pair(box)
        key = SigningKey(company_id=company_id, public_pem=pem, sealed_private=sealed)
        tx.session.add(key)
        await tx.session.flush()
    return key


def sign(box: SecretBox, key: SigningKey, data: bytes) -> str:
    try:
        return signing.sign(box, key.sealed_private, data)
    except UnreadableSecret as error:
        raise SigningKeyUnreadable() from error


async def public_key_pem(session: AsyncSession, company_id: int) -> str | None:
    """The PEM an auditor checks the company's closings and archives with; None before
    the company's first closing or archive."""
    return await session.scalar(
        select(SigningKey.public_pem).where(SigningKey.company_id == company_id)
    )
