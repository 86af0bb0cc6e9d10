"""Closes idle table sessions on a timer; safe to run in every process at once."""

from __future__ import annotations

from datetime import UTC, datetime

from ordering.config import OrderingConfig
from ordering.diner_service import expire_idle
from realtime.events import run
from web.state import AppState


async def sweep_once(state: AppState, config: OrderingConfig) -> int:
    return await run(
        state.sessionmaker, state.bus, lambda tx: expire_idle(tx, config, datetime.now(UTC))
    )
