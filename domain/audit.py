"""The audit log: each change that matters, written in the transaction that made it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from domain.models import AuditEntry
from realtime.events import Tx


async def record(
    tx: Tx,
    actor_staff_id: int | None,
    company_id: int,
    action: str,
    target: str,
    changes: dict[str, Any],
) -> AuditEntry:
    """Keep who did `action` to `target` and what changed; a rollback takes it away too."""
    entry = AuditEntry(
        company_id=company_id, actor_staff_id=actor_staff_id, action=action, target=target,
        changes=json.dumps(changes, ensure_ascii=False, default=str),
        at=datetime.now(UTC),
    )
    tx.session.add(entry)
    await tx.session.flush()
    return entry
