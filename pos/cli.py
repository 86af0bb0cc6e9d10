"""`comptoir verify-records` (the live chains and signatures, or an archive alone),
`comptoir archive-records` and `comptoir export-public-key` (what an auditor is given)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
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
    archive = commands.add_parser(
        "archive-records", help="write the archive of a company's records over a period "
        "(a zip that `verify-records --archive` checks alone)",
    )
    archive.add_argument("--company", type=int, required=True)
    archive.add_argument("--from", dest="first", type=date.fromisoformat, required=True,
                         help="first day, YYYY-MM-DD (the company's calendar)")
    archive.add_argument("--to", dest="last", type=date.fromisoformat, required=True,
                         help="last day, YYYY-MM-DD")
    archive.add_argument("file", type=Path, help="the zip to write, or a directory")
    key = commands.add_parser(
        "export-public-key", help="print the company's public key (PEM) for its auditors")
    key.add_argument("--company", type=int, required=True)


def run(settings: Settings, args: argparse.Namespace) -> int:
    """The exit status: 0 intact (or done), 1 a mismatch, 2 unreadable or missing."""
    if args.command == "archive-records":
        return asyncio.run(_make_archive(settings, args.company, args.first, args.last,
                                         args.file))
    if args.command == "export-public-key":
        return asyncio.run(_public_key(settings, args.company))
    if args.archive:
        return _archive(args.archive, args.public_key)
    return asyncio.run(_live(settings))


async def _make_archive(
    settings: Settings, company_id: int, first: date, last: date, path: Path
) -> int:
    from accounts.models import Company
    from db.engine import make_engine, make_sessionmaker
    from pos.archive import make_archive
    from pos.signing import sealing_box
    from realtime.bus import make_bus
    from realtime.events import Tx, run

    if last < first:
        print("--to is before --from", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    bus = make_bus(None)  # an archive publishes nothing
    try:
        async with make_sessionmaker(engine)() as session:
            if await session.get(Company, company_id) is None:
                print(f"no company {company_id}", file=sys.stderr)
                return 2

        async def build(tx: Tx) -> tuple[str, bytes]:
            made = await make_archive(tx, sealing_box(settings.secret_key), company_id,
                                      first, last, None)
            return made.name, made.data

        name, data = await run(make_sessionmaker(engine), bus, build)
    finally:
        await bus.close()
        await engine.dispose()
    target = path / name if path.is_dir() else path
    target.write_bytes(data)
    print(target)
    return 0


async def _public_key(settings: Settings, company_id: int) -> int:
    from db.engine import make_engine, make_sessionmaker
    from pos.keys import public_key_pem

    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            pem = await public_key_pem(session, company_id)
    finally:
        await engine.dispose()
    if pem is None:
        print(f"company {company_id} has no key yet (its first closing or archive makes it)",
              file=sys.stderr)
        return 2
    print(pem, end="")
    return 0


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
