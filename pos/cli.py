"""`comptoir verify-records`: the live chains and signatures, or an archive alone."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from settings import Settings


def add_parser(commands: Any) -> None:
    verify = commands.add_parser(
        "verify-records", help="recompute every till's chain, the journal and the closings' "
        "signatures; name the first record that does not match (exit 1)",
    )
    verify.add_argument("--archive", type=Path, help="check this archive alone, offline")
    verify.add_argument("--public-key", type=Path,
                        help="with --archive: the company's exported public key (PEM)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    """The exit status: 0 intact, 1 a mismatch, 2 unreadable."""
    if args.archive:
        return _archive(args.archive, args.public_key)
    return asyncio.run(_live(settings))


def _archive(path: Path, key: Path | None) -> int:
    from pos.archive_check import UnreadableArchive, verify_archive

    try:
        found = verify_archive(path.read_bytes(), key.read_text() if key else None)
    except (OSError, UnreadableArchive) as error:
        print(f"cannot read {path}: {error}", file=sys.stderr)
        return 2
    for line in found:
        print(line)
    if found:
        return 1
    print(f"{path}: every chain, signature and file matches"
          + ("" if key else " (checked with the archive's own public key)"))
    return 0


async def _live(settings: Settings) -> int:
    from db.engine import make_engine, make_sessionmaker
    from pos.journal import JournalKind, write
    from pos.verification import verify_all
    from realtime.bus import make_bus
    from realtime.events import Tx, run

    engine = make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    try:
        async with sessionmaker() as session:
            found = await verify_all(session)
        for mismatch in found:
            print(mismatch)
        bus = make_bus(None)  # the journal's entries publish nothing
        for company_id in sorted({m.company_id for m in found}):
            failed = [str(m) for m in found if m.company_id == company_id]

            async def journal(tx: Tx, company_id: int = company_id,
                              failed: list[str] = failed) -> None:
                await write(tx, company_id, JournalKind.CHAIN_CHECK_FAILED,
                            {"mismatches": failed})

            await run(sessionmaker, bus, journal)
        await bus.close()
    finally:
        await engine.dispose()
    if found:
        return 1
    print("every chain and signature matches")
    return 0
