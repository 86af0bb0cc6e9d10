"""The audit log: each change that matters, written in the transaction that makes it.

`record` adds one `audit_entry` row beside the change: a rollback takes both away, so the
log never tells of a change that did not happen, nor misses one that did. Administrators
read it on /backoffice/audit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from domain.models import AuditEntry
from realtime.events import Tx

MAX_TARGET = 80


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The fields whose value changed, each as [before, after]."""
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


async def record(
    tx: Tx, actor_staff_id: int | None, company_id: int, action: str, target: str,
    changes: dict[str, Any],
) -> None:
    """Write who (`actor_staff_id`, None for the system) did `action` to `target` of
    `company_id`, and what changed, in the caller's transaction.

    `action`: a stable name ("staff.role", "table.archive"); `target`: what it was done
    to ("staff:12"); `changes`: what changed, as JSON (never a secret: no PIN, no token)."""
    tx.session.add(AuditEntry(
        actor_staff_id=actor_staff_id, company_id=company_id, action=action,
        target=target[:MAX_TARGET],
        # As JSON holds it: dates and amounts as text, whatever the caller passed.
        changes=json.loads(json.dumps(changes, ensure_ascii=False, default=str)),
    ))
