"""What the tills' uploads flagged, for managers: the latest issues of a site, and a
manager's note that one was dealt with."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from errors import NotFound
from pos import clock
from pos.legal import number
from pos.models import SyncIssue, Till
from realtime.events import Tx


@dataclass(frozen=True)
class IssueRow:
    id: int
    kind: str
    till: str
    number: str | None
    at: datetime
    ticket_id: int | None
    detail: dict[str, Any]
    dealt_at: datetime | None = None
    dealt_note: str = ""


async def deal_with(tx: Tx, company_id: int, sites: frozenset[int] | None, issue_id: int,
                    staff_id: int, note: str) -> SyncIssue:
    """A manager dealt with a flagged issue (once: the first note stays)."""
    issue = await tx.session.get(SyncIssue, issue_id)
    if issue is None or issue.company_id != company_id or (
            sites is not None and issue.site_id not in sites):
        raise NotFound()
    if issue.dealt_at is None:
        issue.dealt_at = clock.now()
        issue.dealt_by_id = staff_id
        issue.dealt_note = note
    return issue


async def issues_of(session: AsyncSession, site_id: int, limit: int = 50) -> list[IssueRow]:
    """The site's latest flagged sync issues, newest first."""
    rows = (await session.execute(
        select(SyncIssue, Till.prefix).join(Till, Till.id == SyncIssue.till_id)
        .where(SyncIssue.site_id == site_id)
        .order_by(SyncIssue.id.desc()).limit(limit))).all()
    return [IssueRow(issue.id, issue.kind, prefix,
                     number(prefix, issue.sequence) if issue.sequence else None,
                     clock.aware(issue.created_at), issue.ticket_id, json.loads(issue.detail),
                     clock.aware(issue.dealt_at) if issue.dealt_at else None, issue.dealt_note)
            for issue, prefix in rows]
