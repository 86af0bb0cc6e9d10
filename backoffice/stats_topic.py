"""`stats:{company}`: a company's figures changed; its screens read them again.

Its events carry nothing but the topic's version: what a screen shows depends on who looks
(a manager limited to some sites sees only theirs), so each reads its own figures through
backoffice/stats.py. Watched by the company's staff whose role reads statistics
(`Permission.REPORT`), whichever of its sites they work at.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from accounts.roles import Permission
from accounts.sections import holds
from accounts.tenant import belongs
from realtime import topics
from realtime.events import Tx
from realtime.topics import OneAudience, Viewer

KIND = "stats"
CHANGED = "stats.changed"


def topic_of(company_id: int) -> str:
    return f"{KIND}:{company_id}"


async def stats_changed(tx: Tx, company_id: int) -> None:
    """Bump the company's topic in the transaction that changed its figures."""

    async def nothing() -> dict[str, Any]:
        return {}

    await tx.emit(topic_of(company_id), CHANGED, {}, nothing)


class StatsTopic(OneAudience):
    async def authorize(self, session: AsyncSession, args: list[str], viewer: Viewer) -> bool:
        if len(args) != 1 or not args[0].isdigit() or len(args[0]) > 18:
            return False
        return holds(viewer, Permission.REPORT) and belongs(viewer, int(args[0]))

    async def snapshot(self, session: AsyncSession, args: list[str]) -> dict[str, Any]:
        return {}

    def render(self, view: dict[str, Any], event: str | None, change: dict[str, Any] | None,
               audience: str, locale: str) -> dict[str, Any]:
        return {"html": {}, "notify": None}


def register() -> None:
    topics.register(KIND, StatsTopic())
