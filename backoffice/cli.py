"""`comptoir rebuild-stats`: the statistics' rollups deleted and replayed from the outbox."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from settings import Settings


def add_parser(commands: Any) -> None:
    rebuild = commands.add_parser(
        "rebuild-stats", help="delete the statistics' rollups and replay every recorded "
        "event (of one company, or all): the same figures, from scratch",
    )
    rebuild.add_argument("--company", type=int, default=None)


def run(settings: Settings, args: argparse.Namespace) -> None:
    counted = asyncio.run(_rebuild(settings, args.company))
    print(f"statistics rebuilt from {counted} events")


async def _rebuild(settings: Settings, company_id: int | None) -> int:
    from backoffice.rollups import rebuild
    from db.engine import make_engine, make_sessionmaker

    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await rebuild(session, company_id)
    finally:
        await engine.dispose()
