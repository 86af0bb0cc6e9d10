"""A tampered, deleted or reordered record is found: live by `verify-records`, and in an
exported archive checked with nothing but the company's public key."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import uuid
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from pos.archive import make_archive
from pos.archive_check import verify_archive
from pos.closings import CloseDay, close_day
from pos.keys import public_key_pem
from pos.models import ChainLink, JournalEntry, Ticket
from pos.signing import new_key_pair, sealing_box
from pos.vat import INTERMEDIATE, Line
from pos.verification import verify_all
from settings import ROOT
from tests.conftest import Database
from tests.pos.conftest import BOX, COFFEE, Clock, Shop

pytestmark = pytest.mark.asyncio
MARCH_10 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@asynccontextmanager
async def tampering(db: Database, *tables: str) -> AsyncIterator[AsyncSession]:
    """A session where the append-only triggers of `tables` are off, as an intruder with
    the database's keys would have them; they are back on afterwards."""
    async with db.sessionmaker() as session, session.begin():
        if db.backend == "postgresql":
            for table in tables:
                await session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            yield session
            for table in tables:
                await session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
            return
        triggers = (await session.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
            f"({', '.join(repr(t) for t in tables)})"))).all()
        for name, _ in triggers:
            await session.execute(text(f'DROP TRIGGER "{name}"'))
        yield session
        for _, sql in triggers:
            await session.execute(text(sql))


async def a_day(shop: Shop, clock_at: Clock) -> None:
    clock_at.at = MARCH_10
    for _ in range(4):
        await shop.sell(Line("Café", 2, 150, INTERMEDIATE))
    await shop.sell(COFFEE, till=1)
    await shop.run(lambda tx: close_day(tx, BOX, CloseDay(
        uuid.uuid4(), shop.company_id, shop.site_id, date(2026, 3, 10), shop.supervisor_id,
        1350)))


async def mismatches(db: Database) -> list[str]:
    async with db.sessionmaker() as session:
        return [str(m) for m in await verify_all(session)]


async def archive(shop: Shop) -> bytes:
    made = await shop.run(lambda tx: make_archive(
        tx, BOX, shop.company_id, date(2026, 3, 1), date(2026, 3, 31), shop.supervisor_id))
    return made.data


async def pem(shop: Shop) -> str:
    async with shop.db.sessionmaker() as session:
        key = await public_key_pem(session, shop.company_id)
    assert key is not None
    return key


async def test_intact_records_verify_live_and_in_their_archive(shop: Shop, clock_at: Clock):
    await a_day(shop, clock_at)
    assert await mismatches(shop.db) == []
    data = await archive(shop)
    assert verify_archive(data, await pem(shop)) == []
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        names = set(zipped.namelist())
        csv_rows = zipped.read("records.csv").decode().splitlines()
    assert names == {"README.txt", "records.json", "records.csv", "chains.csv",
                     "signatures.json", "public_key.pem", "manifest.json", "manifest.sig"}
    assert len(csv_rows) == 1 + 5
    async with shop.db.sessionmaker() as session:
        kinds = (await session.scalars(select(JournalEntry.kind).order_by(
            JournalEntry.position))).all()
    assert kinds[-2:] == ["closing", "archive_made"]


async def test_a_tampered_amount_is_named_live(shop: Shop, clock_at: Clock):
    await a_day(shop, clock_at)
    async with tampering(shop.db, "pos_ticket_line") as session:
        await session.execute(text(
            "UPDATE pos_ticket_line SET unit_price = 100 WHERE ticket_id = "
            "(SELECT id FROM pos_ticket WHERE sequence = 3 AND till_id = :till)"),
            {"till": shop.till_ids[0]})
    assert await mismatches(shop.db) == [
        f"company {shop.company_id}, till T1, position 3 (T1-000003): "
        "its content does not match its hash"]


async def test_a_deleted_record_is_named_live(shop: Shop, clock_at: Clock):
    await a_day(shop, clock_at)
    async with tampering(shop.db, "pos_chain_link", "pos_ticket", "pos_ticket_line",
                         "pos_ticket_tax", "pos_ticket_payment") as session:
        ticket = await session.scalar(select(Ticket.id).where(
            Ticket.till_id == shop.till_ids[0], Ticket.sequence == 2))
        for table in ("pos_chain_link", "pos_ticket_line", "pos_ticket_tax",
                      "pos_ticket_payment"):
            await session.execute(text(f"DELETE FROM {table} WHERE ticket_id = :t"),
                                  {"t": ticket})
        await session.execute(text("DELETE FROM pos_ticket WHERE id = :t"), {"t": ticket})
    assert await mismatches(shop.db) == [
        f"company {shop.company_id}, till T1, position 2 (T1-000003): "
        "a record is missing before it"]


async def test_reordered_records_are_named_live(shop: Shop, clock_at: Clock):
    await a_day(shop, clock_at)
    async with tampering(shop.db, "pos_chain_link") as session:
        a, b = (await session.scalars(select(ChainLink.id).where(
            ChainLink.till_id == shop.till_ids[0], ChainLink.position.in_([2, 3]))
            .order_by(ChainLink.position))).all()
        for link, place in ((a, -1), (b, 2), (a, 3)):
            await session.execute(text("UPDATE pos_chain_link SET position = :p WHERE id = :l"),
                                  {"p": place, "l": link})
    found = await mismatches(shop.db)
    assert found == [f"company {shop.company_id}, till T1, position 2 (T1-000003): "
                     "its previous hash is not the hash of the record before it"]


async def test_a_forged_closing_signature_is_found(shop: Shop, clock_at: Clock):
    await a_day(shop, clock_at)
    async with tampering(shop.db, "pos_signing_key") as session:
        _, other = new_key_pair(sealing_box("another"))
        await session.execute(text("UPDATE pos_signing_key SET public_pem = :p"), {"p": other})
    found = await mismatches(shop.db)
    assert found == [
        f"company {shop.company_id}, till T1, position 5 (closing day 2026-03-10): "
        "its signature does not match the company's public key",
        f"company {shop.company_id}, till T2, position 2 (closing day 2026-03-10): "
        "its signature does not match the company's public key"]


def rewrite(data: bytes, change: Any) -> bytes:
    """The archive with records.json changed by `change` (an intruder without the key)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        files = {name: zipped.read(name) for name in zipped.namelist()}
    records = json.loads(files["records.json"])
    change(records)
    files["records.json"] = json.dumps(records).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zipped:
        for name, content in files.items():
            zipped.writestr(name, content)
    return out.getvalue()


def t1(records: dict[str, Any]) -> list[dict[str, Any]]:
    return records["tills"][0]["records"]  # type: ignore[no-any-return]


async def test_tampered_deleted_and_reordered_records_are_named_in_an_archive(
    shop: Shop, clock_at: Clock,
):
    await a_day(shop, clock_at)
    data, key = await archive(shop), await pem(shop)

    def tamper(records: dict[str, Any]) -> None:
        t1(records)[2]["fields"]["record"]["total_incl"] = 30

    def delete(records: dict[str, Any]) -> None:
        del t1(records)[1]

    def reorder(records: dict[str, Any]) -> None:
        t1(records)[1], t1(records)[2] = t1(records)[2], t1(records)[1]

    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        records = t1(json.loads(zipped.read("records.json")))
    uuid_3 = records[2]["fields"]["record"]["uuid"]
    tampered = verify_archive(rewrite(data, tamper), key)
    assert tampered[0] == (f"till T1, position 3 (ticket 3 {uuid_3}): "
                           "its content does not match its hash")
    assert "records.json: its SHA-256 is not the manifest's" in tampered
    assert verify_archive(rewrite(data, delete), key)[0] == (
        f"till T1, position 2 (ticket 3 {uuid_3}): a record is missing before it")
    assert verify_archive(rewrite(data, reorder), key)[0] == (
        f"till T1, position 2 (ticket 3 {uuid_3}): a record is missing before it")


async def test_an_archive_checks_with_only_the_public_key_from_the_command_line(
    shop: Shop, clock_at: Clock, tmp_path: Path,
):
    await a_day(shop, clock_at)

    def comptoir(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "comptoir_cli", *args], capture_output=True, text=True,
            cwd=ROOT, timeout=60,
            env={**os.environ, "DATABASE_URL": shop.db.url, "SECRET_KEY": "test-secret"})

    company = str(shop.company_id)
    made, exported = await asyncio.gather(
        asyncio.to_thread(comptoir, "archive-records", "--company", company, "--from",
                          "2026-03-01", "--to", "2026-03-31", str(tmp_path / "records.zip")),
        asyncio.to_thread(comptoir, "export-public-key", "--company", company))
    assert made.returncode == 0 and exported.returncode == 0, made.stderr + exported.stderr
    assert exported.stdout == await pem(shop)
    data = (tmp_path / "records.zip").read_bytes()
    (tmp_path / "forged.zip").write_bytes(rewrite(data, lambda r: t1(r).pop()))
    (tmp_path / "company.pem").write_text(exported.stdout)
    _, other = new_key_pair(sealing_box("x"))
    (tmp_path / "other.pem").write_text(other)

    def verify(name: str, pem_file: str) -> subprocess.CompletedProcess[str]:
        # No database, no secret: the archive and the key alone.
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
        return subprocess.run(
            [sys.executable, "-m", "comptoir_cli", "verify-records", "--archive",
             str(tmp_path / name), "--public-key", str(tmp_path / pem_file)],
            capture_output=True, text=True, cwd=ROOT, timeout=60, env=env)

    good, forged, stranger = await asyncio.gather(
        asyncio.to_thread(verify, "records.zip", "company.pem"),
        asyncio.to_thread(verify, "forged.zip", "company.pem"),
        asyncio.to_thread(verify, "records.zip", "other.pem"))
    assert good.returncode == 0, good.stdout + good.stderr
    assert forged.returncode == 1 and "records.json: its SHA-256" in forged.stdout
    assert stranger.returncode == 1
    assert "manifest.json: its signature does not match" in stranger.stdout


async def test_verify_records_live_exits_non_zero_and_journals_the_failure(
    shop: Shop, clock_at: Clock,
):
    await a_day(shop, clock_at)

    def verify() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "comptoir_cli", "verify-records"],
            capture_output=True, text=True, cwd=ROOT, timeout=60,
            env={**os.environ, "DATABASE_URL": shop.db.url, "SECRET_KEY": "test-secret"})

    intact = await asyncio.to_thread(verify)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    async with tampering(shop.db, "pos_ticket") as session:
        await session.execute(text("UPDATE pos_ticket SET staff_id = :s WHERE sequence = 1"),
                              {"s": shop.supervisor_id})
    broken = await asyncio.to_thread(verify)
    assert broken.returncode == 1
    assert "till T1, position 1 (T1-000001): its content does not match" in broken.stdout
    assert "till T2, position 1 (T2-000001)" in broken.stdout
    async with shop.db.sessionmaker() as session:
        last = await session.scalar(select(JournalEntry).order_by(
            JournalEntry.position.desc()).limit(1))
    assert last is not None and last.kind == "chain_check_failed"


async def test_a_record_tampered_in_the_database_is_named_in_its_archive(
    shop: Shop, clock_at: Clock,
):
    await a_day(shop, clock_at)
    async with tampering(shop.db, "pos_ticket_line") as session:
        await session.execute(text(
            "UPDATE pos_ticket_line SET label = 'Eau' WHERE ticket_id = "
            "(SELECT id FROM pos_ticket WHERE sequence = 3 AND till_id = :till)"),
            {"till": shop.till_ids[0]})
    data = await archive(shop)
    async with shop.db.sessionmaker() as session:
        uuid_3 = await session.scalar(select(Ticket.uuid).where(
            Ticket.till_id == shop.till_ids[0], Ticket.sequence == 3))
    assert verify_archive(data, await pem(shop)) == [
        f"till T1, position 3 (ticket 3 {uuid_3}): its content does not match its hash"]


async def test_a_chain_cut_after_a_closing_sealed_it_is_found(shop: Shop, clock_at: Clock):
    await a_day(shop, clock_at)
    async with tampering(shop.db, "pos_chain_link") as session:
        await session.execute(text(
            "DELETE FROM pos_chain_link WHERE till_id = :till AND position = 5"),
            {"till": shop.till_ids[0]})
    assert await mismatches(shop.db) == [
        f"company {shop.company_id}, till T1, position 5 (closing day 2026-03-10): "
        "the chain no longer holds what this closing sealed"]
