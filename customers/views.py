"""What a customer's own topic (`user:{id}`) shows: account, balance and ledger.

Rooms above add their part of it (the machines, a customer's brews) through `add_part`,
registered by app.py at assembly, so this room never imports them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Company
from customers.models import Consumer, CreditBalance, LedgerEntry

RECENT = 10
ViewPart = Callable[[AsyncSession, int], Awaitable[dict[str, Any]]]
_parts: list[ViewPart] = []


def add_part(part: ViewPart) -> None:
    if part not in _parts:
        _parts.append(part)


def user_topic(consumer_id: int) -> str:
    return f"user:{consumer_id}"


async def balance_of(session: AsyncSession, consumer_id: int) -> int:
    value = await session.scalar(
        select(CreditBalance.balance).where(CreditBalance.consumer_id == consumer_id)
    )
    return value or 0


async def user_view(session: AsyncSession, consumer_id: int) -> dict[str, Any]:
    """A customer's own things: account, balance, ledger, and each room's part."""
    consumer = await session.get(Consumer, consumer_id)
    assert consumer is not None
    company = await session.get(Company, consumer.company_id)
    assert company is not None
    entries = (
        await session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.consumer_id == consumer_id)
            .order_by(LedgerEntry.id.desc())
            .limit(2 * RECENT)
        )
    ).all()
    view: dict[str, Any] = {
        "consumer": {
            "id": consumer.id,
            "name": consumer.name,
            "email": consumer.email,
            "email_confirmed": consumer.email_confirmed,
            "verified": consumer.verified,
        },
        "company_id": company.id,
        "balance": await balance_of(session, consumer_id),
        "currency": company.currency,
        "timezone": company.timezone,
        "entries": [
            {
                "id": e.id,
                "amount": e.amount,
                "balance_after": e.balance_after,
                "kind": e.kind,
                "note": e.note,
                "brew_id": e.brew_id,
                "created_at": e.created_at.isoformat(),
            }
            for e in entries
        ],
    }
    for part in _parts:
        view.update(await part(session, consumer_id))
    return view
