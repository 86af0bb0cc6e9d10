"""The events a machines change emits, each with its topic's fresh view."""

from __future__ import annotations

from typing import Any

from machines.views import machine_topic, machine_view
from realtime.events import Tx


async def machine_changed(tx: Tx, machine_id: int, type: str, change: dict[str, Any]) -> None:
    session = tx.session
    await tx.emit(
        machine_topic(machine_id), type, change, lambda: machine_view(session, machine_id)
    )
