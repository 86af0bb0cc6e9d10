"""The credit ledger: append-only entries, a balance that never goes below zero.

Every entry is posted with its business event's unique key in the caller's transaction,
and the balance row is changed in the same transaction by a conditional update: a debit
is `UPDATE … SET balance = balance - x WHERE balance >= x`, so concurrent brews on one
balance queue on that row and the ones that no longer fit find nothing to update.
PostgreSQL re-checks the condition on the committed row; SQLite has one writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from customers.errors import InsufficientCredit
from customers.ledger import Kind
from customers.models import CreditBalance, LedgerEntry
from customers.publishing import user_changed
from db.engine import on_postgresql
from realtime.events import Tx


@dataclass(frozen=True)
class Posted:
    entry: LedgerEntry
    duplicate: bool


def insert_for(session: AsyncSession) -> Any:
    return pg_insert if on_postgresql(session) else sqlite_insert


async def post(
    tx: Tx,
    consumer_id: int,
    amount: int,
    kind: Kind,
    key: str,
    *,
    brew_id: int | None = None,
    note: str = "",
    publish: bool = True,
) -> Posted:
    """Add one entry; a key already used returns its entry and changes nothing.

    Two transactions posting the same key at once both pass the first check; the
    unique key refuses the second at flush, its whole transaction (balance included)
    rolls back, and its retry finds the first one's entry.
    """
    session = tx.session
    existing = await session.scalar(select(LedgerEntry).where(LedgerEntry.key == key))
    if existing is not None:
        return Posted(existing, duplicate=True)
    await session.execute(
        insert_for(session)(CreditBalance)
        .values(consumer_id=consumer_id, balance=0)
        .on_conflict_do_nothing(index_elements=[CreditBalance.consumer_id])
    )
    change = update(CreditBalance).where(CreditBalance.consumer_id == consumer_id)
    if amount < 0:
        change = change.where(CreditBalance.balance >= -amount)
    after = await session.scalar(
        change.values(balance=CreditBalance.balance + amount)
        .returning(CreditBalance.balance)
        .execution_options(synchronize_session=False)
    )
    if after is None:
        raise InsufficientCredit()
    entry = LedgerEntry(
        consumer_id=consumer_id, amount=amount, balance_after=after, kind=kind.value, key=key,
        brew_id=brew_id, note=note[:200],
    )
    session.add(entry)
    await session.flush()
    if publish:
        await user_changed(tx, consumer_id, "credit.changed", {"amount": amount, "kind": kind})
    return Posted(entry, duplicate=False)
