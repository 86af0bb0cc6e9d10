"""The points ledger: append-only entries named by their business event's unique key, and a
balance that never goes below zero.

As customers/credit.py does for money: a key already posted returns its entry and changes
nothing (a replayed event, an offline sale synced twice, a retried request), and a debit
is `UPDATE … SET balance = balance - n WHERE balance >= n`, so concurrent redemptions
queue on the balance's row and those that no longer fit find nothing to update.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from customers.publishing import user_changed
from db.engine import on_postgresql
from loyalty import automatic, issuing
from loyalty.errors import NotEnoughPoints
from loyalty.models import LoyaltyProfile, PointsEntry
from realtime.events import Tx


class Kind(StrEnum):
    EARN = "earn"  # a visit: a ticket, a table, a brew
    TAKE_BACK = "take_back"  # a refund or a void takes back what its sale earned
    REDEEM = "redeem"
    REFERRAL = "referral"
    PROFILE = "profile"
    BY_HAND = "by_hand"  # a visit or a redemption a manager adds with a reason (audited)
    GIVEN_BACK = "given_back"  # a reward's points returned: its ticket or table was abandoned


def ticket_key(ticket_uuid: str) -> str:
    return f"ticket:{ticket_uuid}"


def refund_key(ticket_uuid: str) -> str:
    return f"refund:{ticket_uuid}"


def table_key(session_id: int) -> str:
    return f"table:{session_id}"


def brew_key(brew_id: int) -> str:
    return f"brew:{brew_id}"


def redeem_key(consumer_id: int, idempotency_key: str) -> str:
    """Scoped by the customer: a client's key is unique for its own requests only."""
    return f"redeem:{consumer_id}:{idempotency_key}"


def given_back_key(redeem_key: str) -> str:
    """A redemption's points given back: once per redemption, however often asked."""
    return f"given_back:{redeem_key}"


def profile_key(consumer_id: int) -> str:
    return f"profile:{consumer_id}"


def referral_key(referrer_id: int, referred_id: int) -> str:
    return f"referral:{referrer_id}:{referred_id}"


def referred_key(referred_id: int) -> str:
    return f"referred:{referred_id}"


def ticket_origin(ticket_id: int) -> str:
    return f"ticket:{ticket_id}"


@dataclass(frozen=True)
class Posted:
    entry: PointsEntry
    duplicate: bool


def _insert_for(session: AsyncSession) -> Any:
    return pg_insert if on_postgresql(session) else sqlite_insert


async def ensure_profile(session: AsyncSession, company_id: int, consumer_id: int) -> None:
    """The customer's loyalty profile, made with its QR token the first time it is needed."""
    await session.execute(
        _insert_for(session)(LoyaltyProfile)
        .values(consumer_id=consumer_id, company_id=company_id,
                qr_token=secrets.token_urlsafe(24), balance=0)
        .on_conflict_do_nothing(index_elements=[LoyaltyProfile.consumer_id])
    )


async def entry_of(session: AsyncSession, key: str) -> PointsEntry | None:
    return await session.scalar(select(PointsEntry).where(PointsEntry.key == key))


async def post(
    tx: Tx, company_id: int, consumer_id: int, points: int, kind: Kind,
    key: str, *, origin: str | None = None, spent: int = 0, visit_at: datetime | None = None,
    site_id: int | None = None, reward_id: int | None = None, note: str = "",
) -> Posted:
    """Add one entry (zero points too: a visit heard is kept, so a replay finds it); a key
    already used returns its entry and changes nothing.

    Two transactions posting one key at once both pass the first check; the unique key
    refuses the second at flush, its whole transaction rolls back, and the runner's retry
    finds the first one's entry. Points that moved are told on the customer's own topic.
    A visit that earned (`visit_at`, points) may call for a coupon (loyalty/issuing.py).
    """
    session = tx.session
    existing = await entry_of(session, key)
    if existing is not None:
        return Posted(existing, duplicate=True)
    await ensure_profile(session, company_id, consumer_id)
    change = update(LoyaltyProfile).where(LoyaltyProfile.consumer_id == consumer_id)
    if points < 0:
        change = change.where(LoyaltyProfile.balance >= -points)
    after = await session.scalar(
        change.values(balance=LoyaltyProfile.balance + points)
        .returning(LoyaltyProfile.balance)
        .execution_options(synchronize_session=False)
    )
    if after is None:
        raise NotEnoughPoints()
    entry = PointsEntry(
        company_id=company_id, consumer_id=consumer_id, points=points, balance_after=after,
        kind=kind.value, key=key, origin=origin, spent=spent, visit_at=visit_at,
        site_id=site_id, reward_id=reward_id, note=note[:200],
    )
    session.add(entry)
    await session.flush()
    if points:
        await user_changed(tx, consumer_id, "points.changed", {"points": points, "kind": kind})
    if visit_at is not None and points > 0:
        await issuing.after_visit(tx, company_id, consumer_id)
        await automatic.after_visit(tx, company_id, consumer_id)
    return Posted(entry, duplicate=False)


async def balance_of(session: AsyncSession, consumer_id: int) -> int:
    return await session.scalar(
        select(LoyaltyProfile.balance).where(LoyaltyProfile.consumer_id == consumer_id)
    ) or 0
