"""The live topic a till watches, `till:{id}:{key}`: "sync now" (the Z asked), and nothing
else. Its key comes from the device's credential, which only the device holds."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pos.models import Till


def topic_of(till: Till) -> str:
    """`till:{id}:{key}`: the key comes from the device's credential, which only the
    device holds; the page learns its topic from the sync's answer."""
    return f"till:{till.id}:{topic_key(till.credential_hash or '')}"


def topic_key(credential_hash: str) -> str:
    return hashlib.sha256(f"comptoir-till-topic:{credential_hash}".encode()).hexdigest()[:32]


class TillTopic:
    """`till:{id}:{key}`: watched by the till's own page (the key says it is the device),
    whoever is switched in, even when locked."""

    async def authorize(self, session: AsyncSession, args: list[str], viewer: Any) -> bool:
        if len(args) != 2 or not args[0].isdigit() or len(args[0]) > 18:
            return False
        till = await session.get(Till, int(args[0]))
        if till is None or till.revoked_at is not None or not till.credential_hash:
            return False
        return hmac.compare_digest(topic_key(till.credential_hash), args[1])

    async def snapshot(self, session: AsyncSession, args: list[str]) -> dict[str, Any]:
        till = await session.get(Till, int(args[0]))
        return {"till_id": int(args[0]),
                "synced_at": till.synced_at.isoformat() if till and till.synced_at else None}

    def audience(self, view: dict[str, Any], viewer: Any) -> str:
        return "full"

    def present(self, view: dict[str, Any], audience: str) -> dict[str, Any]:
        return view

    def render(self, view: dict[str, Any], event: str | None, change: dict[str, Any] | None,
               audience: str, locale: str) -> dict[str, Any]:
        return {"html": {}}
