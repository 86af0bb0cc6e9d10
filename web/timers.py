"""Background jobs: a step run again and again, each failure logged, never fatal."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def every(interval_s: float, step: Callable[[], Awaitable[object]], what: str) -> None:
    """Run `step` every `interval_s` seconds until cancelled (at shutdown).

    Every job is safe in every process at once: each of its changes is a conditional write
    or a unique claim in its own transaction, so there is no leader to elect."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await step()
        except Exception:
            log.exception("%s failed", what)
