"""The technical event journal: a company's chain of what happened around its records."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from accounts.models import Company
from db.engine import on_postgresql
from pos import chain, clock
from pos.models import JournalEntry
from realtime.events import Tx


class JournalKind(StrEnum):
    SIGN_IN = "sign_in"
    SIGN_OUT = "sign_out"
    X_REPORT = "x_report"
    CLOSING = "closing"
    ARCHIVE_MADE = "archive_made"
    CHAIN_CHECK_FAILED = "chain_check_failed"
    CONFIG_CHANGED = "config_changed"
    TILL_PAIRED = "till_paired"
    TILL_REVOKED = "till_revoked"
    DRAWER_OPENED = "drawer_opened"  # outside a sale
    TRAINING = "training"  # training mode started or ended on a till
    TILL_OUT_OF_SERVICE = "till_out_of_service"  # for a day: its Z does not wait for it


def entry_fields(entry: JournalEntry) -> dict[str, Any]:
    """What the journal's hash covers."""
    return {
        "record": "journal",
        "company_id": entry.company_id,
        "position": entry.position,
        "kind": entry.kind,
        "site_id": entry.site_id,
        "till_id": entry.till_id,
        "staff_id": entry.staff_id,
        "at": stamp(entry.recorded_at),
        "detail": json.loads(entry.detail),
    }


def stamp(at: datetime) -> str:
    """A moment as the records say it: UTC, to the second."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_the_second(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(microsecond=0)


async def lock_company(tx: Tx, company_id: int) -> None:
    """Serialise the company's journal. FOR NO KEY UPDATE: rows that merely refer to the
    company (foreign keys take KEY SHARE) are not held up. SQLite serialises writers."""
    if on_postgresql(tx.session):
        await tx.session.execute(
            select(Company.id).where(Company.id == company_id).with_for_update(key_share=True)
        )


async def write(
    tx: Tx, company_id: int, kind: JournalKind, detail: Mapping[str, Any], *,
    site_id: int | None = None, till_id: int | None = None, staff_id: int | None = None,
    now: datetime | None = None,
) -> JournalEntry:
    """Append an entry to the company's journal, in the caller's transaction."""
    await lock_company(tx, company_id)
    last = (await tx.session.execute(
        select(JournalEntry.position, JournalEntry.hash)
        .where(JournalEntry.company_id == company_id)
        .order_by(JournalEntry.position.desc()).limit(1)
    )).first()
    position, previous = (last[0] + 1, last[1]) if last else (1, chain.GENESIS)
    entry = JournalEntry(
        company_id=company_id, position=position, kind=str(kind), site_id=site_id,
        till_id=till_id, staff_id=staff_id,
        recorded_at=to_the_second(now or clock.now()),
        detail=chain.canonical(dict(detail)).decode("utf-8"), previous_hash=previous,
    )
    entry.hash = chain.link(previous, entry_fields(entry))
    tx.session.add(entry)
    await tx.session.flush()
    return entry
