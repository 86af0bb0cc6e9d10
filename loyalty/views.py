"""Loyalty's part of a customer's own view (`user:{id}`): their points and latest entries.

Handed to customers/views.py by app.py at assembly, as the machines hand their brews.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.ledger import balance_of
from loyalty.models import PointsEntry

RECENT = 10


async def user_points(session: AsyncSession, consumer_id: int) -> dict[str, Any]:
    entries = (await session.scalars(
        select(PointsEntry).where(PointsEntry.consumer_id == consumer_id)
        .order_by(PointsEntry.id.desc()).limit(RECENT)
    )).all()
    return {"loyalty": {
        "points": await balance_of(session, consumer_id),
        "entries": [
            {"id": e.id, "points": e.points, "balance_after": e.balance_after, "kind": e.kind,
             "note": e.note, "created_at": e.created_at.isoformat()}
            for e in entries
        ],
    }}
