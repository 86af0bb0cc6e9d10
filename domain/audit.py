"""The audit log: who changed what that matters, when, written in the change's transaction."""

from __future__ import annotations

from typing import Any

from domain.models import AuditEntry
from realtime.events import Tx


async def record(
    tx: Tx, actor_staff_id: int | None, company_id: int, action: str, target: str,
    changes: dict[str, Any],
) -> None:
    """Keep an entry with the transaction's changes: a rollback takes it away with them.

    `action`: a stable name ("staff.role", "table.archive"); `target`: what it was done
    to ("staff:12"); `changes`: what changed, as JSON (never a secret: no PIN, no token)."""
    tx.session.add(AuditEntry(
        actor_staff_id=actor_staff_id, company_id=company_id, action=action, target=target,
        changes=changes,
    ))
