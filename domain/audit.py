"""The audit log: each change that matters, written in the transaction that makes it.

`record` adds one `audit_entry` row beside the change: a rollback takes both away, so the
log never tells of a change that did not happen, nor misses one that did. Administrators
read it on /backoffice/audit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from domain.models import AuditEntry
from realtime.events import Tx

MAX_TARGET = 120


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The fields whose value changed, each as [before, after]."""
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


async def record(
    tx: Tx,
    actor_staff_id: int | None,
    company_id: int,
    action: str,
    target: str,
    changes: dict[str, Any],
) -> None:
    """Write who (`actor_staff_id`, None for the system) did `action` to `target`
    ("site 3", "table T4") of `company_id`, and what changed, in the caller's transaction."""
    connection = await tx.session.connection()  # one Core statement, no ORM work
    await connection.execute(
        insert(AuditEntry).values(
            company_id=company_id,
            actor_staff_id=actor_staff_id,
            at=datetime.now(UTC),
            action=action,
            target=target[:MAX_TARGET],
            changes=json.dumps(changes, ensure_ascii=False, sort_keys=True, default=str),
        )
    )
