"""`comptoir backup` and `comptoir restore`: a backup taken from a serving demo while phones
change a cart holds one consistent moment, and restoring it gives that moment back, on
SQLite (the online backup API) and PostgreSQL (pg_dump and pg_restore)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.engine import make_url

from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade
from demo.seed import DemoVenue, seed
from ordering.models import OrderLine
from realtime.models import TopicVersion
from settings import ROOT
from tests.conftest import PG_URL, Server, _migrate_fresh, _reachable, _truncate, unavailable
from tests.realtime.phones import Phone


@dataclass
class Live:
    """A seeded demo database to serve, and an empty place to restore into."""

    backend: str
    url: str
    restore_url: str
    venue: DemoVenue
    tmp: Path


def libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _seeded(url: str, backend: str, empty_first: bool) -> DemoVenue:
    engine = make_engine(url)
    try:
        maker = make_sessionmaker(engine)
        if empty_first:
            await _truncate(maker, backend)
        async with maker() as session, session.begin():
            return await seed(session)
    finally:
        await engine.dispose()  # no connection of the test's own stays open on it


async def _fresh_database(url: str) -> None:
    """An empty database of that name, made anew."""
    name = make_url(url).database
    admin = await asyncpg.connect(libpq(str(make_url(url).set(database="postgres"))))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        if not _reachable("127.0.0.1", 5432):
            unavailable("PostgreSQL")
        if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
            unavailable("pg_dump and pg_restore (PostgreSQL's client tools)")
        _migrate_fresh(PG_URL)  # outside the event loop: it runs one of its own
    return str(request.param)


@pytest_asyncio.fixture
async def live(backend: str, tmp_path: Path) -> AsyncIterator[Live]:
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'comptoir.db'}"
        restore_url = f"sqlite+aiosqlite:///{tmp_path / 'restored' / 'comptoir.db'}"
        (tmp_path / "restored").mkdir()
        await asyncio.to_thread(upgrade, url)
        venue = await _seeded(url, backend, empty_first=False)
    else:
        url = PG_URL
        parsed = make_url(PG_URL)
        restore_url = parsed.set(database=f"{parsed.database}_restore").render_as_string(
            hide_password=False
        )
        venue = await _seeded(url, backend, empty_first=True)
        await _fresh_database(restore_url)
    yield Live(backend, url, restore_url, venue, tmp_path)


def env_for(database_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret", **extra}


async def comptoir(
    *args: str, database_url: str, cwd: Path = ROOT, **env: str
) -> subprocess.CompletedProcess[str]:
    """The `comptoir` command in its own process, as an operator or cron would run it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "comptoir_cli", *args, cwd=cwd, env=env_for(database_url, **env),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return subprocess.CompletedProcess(args, process.returncode, out.decode(), err.decode())


def data_of(live: Live, backup: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Every table's rows as stored in the backup file, and as restored."""
    if live.backend == "sqlite":
        restored = Path(make_url(live.restore_url).database or "")
        return _sqlite_rows(backup), _sqlite_rows(restored)
    archive = subprocess.run(["pg_restore", "--data-only", "--file=-", str(backup)],
                             capture_output=True, text=True, check=True).stdout
    database = subprocess.run(["pg_dump", "--data-only", libpq(live.restore_url)],
                              capture_output=True, text=True, check=True).stdout
    return _copy_rows(archive), _copy_rows(database)


def _sqlite_rows(path: Path) -> dict[str, list[str]]:
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows: dict[str, list[str]] = {}
        for statement in connection.iterdump():
            found = re.match(r'INSERT INTO "(\w+)"', statement)
            if found:
                rows.setdefault(found[1], []).append(statement)
        return rows
    finally:
        connection.close()


def _copy_rows(script: str) -> dict[str, list[str]]:
    """The rows of each table's COPY block in a plain pg_dump script, sorted (a restored
    table's rows may lie in another order), and the sequences' values."""
    rows: dict[str, list[str]] = {}
    table = None
    for line in script.splitlines():
        if table is not None:
            if line == "\\.":
                table = None
            else:
                rows[table].append(line)
        elif line.startswith("COPY "):
            table = line.split()[1]
            rows[table] = []
        elif line.startswith("SELECT pg_catalog.setval("):
            rows.setdefault("sequences", []).append(line)
    return {name: sorted(lines) for name, lines in rows.items()}


async def cart_in(url: str, session_id: int, topic: str) -> tuple[list[str], int]:
    """The cart's lines (client ids, in the order they were added) and the table's version."""
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            lines = await session.scalars(
                select(OrderLine.client_id).where(OrderLine.session_id == session_id)
                .order_by(OrderLine.id)
            )
            version = await session.scalar(
                select(TopicVersion.version).where(TopicVersion.topic == topic)
            )
            return list(lines), int(version or 0)
    finally:
        await engine.dispose()


async def test_a_backup_of_a_serving_demo_under_cart_changes_restores_to_the_same_state(
    live: Live, server_factory: type[Server]
) -> None:
    server = server_factory({"DATABASE_URL": live.url})
    token = live.venue.table_tokens[0][1]
    backup = live.tmp / "backups" / "tonight.backup"
    backup.parent.mkdir()

    async with Phone(server.url) as anne, Phone(server.url) as bruno:
        await anne.scan(token)
        await bruno.scan(token)
        await bruno.join(token, "Bruno", await anne.start(token, "Anne"))
        state = await anne.scan(token)
        topic, start_version = state["topics"][0], state["table"]["version"]
        session_id = state["table"]["session"]["id"]
        products = [p["id"] for c in state["menu"]["categories"] for p in c["products"]]

        # Two phones add lines, each waiting for its answer before the next, all along.
        sent: dict[str, list[str]] = {"anne": [], "bruno": []}
        acknowledged: list[str] = []
        stop = asyncio.Event()

        async def keep_adding(phone: Phone, name: str) -> None:
            while not stop.is_set() and len(acknowledged) < 80:  # a cart holds 100 lines
                client_id = uuid.uuid4().hex
                sent[name].append(client_id)
                response = await phone.http.post(
                    f"/api/v1/tables/{token}/cart/lines",
                    json={"client_id": client_id, "quantity": 1 + len(acknowledged) % 3,
                          "product_id": products[len(acknowledged) % len(products)]},
                )
                assert response.status_code == 201, response.text
                acknowledged.append(client_id)
                await asyncio.sleep(0.03)

        phones = [asyncio.create_task(keep_adding(anne, "anne")),
                  asyncio.create_task(keep_adding(bruno, "bruno"))]
        while len(acknowledged) < 6:
            await asyncio.sleep(0.01)
        before = list(acknowledged)
        made = await comptoir("backup", str(backup), database_url=live.url)
        during = len(acknowledged) - len(before)
        stop.set()
        await asyncio.gather(*phones)
        assert made.returncode == 0, made.stderr
        assert str(backup) in made.stdout
        assert during > 0, "the cart changed while the backup ran"
        assert not list(backup.parent.glob(".*")), "no temporary file is left beside it"

        # Restoring under a serving process would pull its data away from under it.
        refused = await comptoir("restore", str(backup), database_url=live.url)
        assert refused.returncode == 1
        assert "in use" in refused.stderr and "Traceback" not in refused.stderr
        assert sorted((await cart_in(live.url, session_id, topic))[0]) == sorted(acknowledged)

        restored = await comptoir("restore", str(backup), database_url=live.restore_url)
        assert restored.returncode == 0, restored.stderr

        # The restored database holds exactly what the backup holds, table by table.
        in_backup, in_restored = data_of(live, backup)
        assert in_restored == in_backup
        assert any("order_line" in table for table in in_backup)

        # … and that is one moment of the serving database: every change answered before
        # the backup began, then for each phone the first of its later changes; the table's
        # version counts exactly the changes the copy holds.
        lines, version = await cart_in(live.restore_url, session_id, topic)
        assert set(before) <= set(lines)
        for name, added in sent.items():
            mine = [line for line in lines if line in added]
            assert mine == added[: len(mine)], f"{name}'s lines are a prefix of what {name} sent"
        assert version == start_version + len(lines)

        # A server on the restored database picks up where the backup left off: the same
        # cart for the same phone (its cookie), and new lines get new ids.
        again = server_factory({"DATABASE_URL": live.restore_url})
        async with Phone(again.url) as anne_again:
            anne_again.http.cookies = anne.http.cookies
            view = (await anne_again.http.get(f"/api/v1/tables/{token}")).json()["table"]
            assert [line["client_id"] for line in view["session"]["cart"]] == lines
            assert view["version"] == version
            await anne_again.add(token, products[0])
            view = (await anne_again.http.get(f"/api/v1/tables/{token}")).json()["table"]
            assert len(view["session"]["cart"]) == len(lines) + 1
            assert view["version"] == version + 1


async def test_restore_refuses_a_file_that_is_no_comptoir_backup(live: Live) -> None:
    # Refused before anything is touched: the database to restore into stays empty.
    text = live.tmp / "notes.txt"
    text.write_text("not a backup\n")
    other = live.tmp / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    for wrong in (text, other, live.tmp / "missing.backup"):
        refused = await comptoir("restore", str(wrong), database_url=live.restore_url)
        assert refused.returncode == 1, wrong
        assert "Traceback" not in refused.stderr and str(wrong) in refused.stderr
        assert "not a Comptoir backup" in refused.stderr or "no file" in refused.stderr
    if live.backend == "sqlite":  # a backup of a later version's schema: this one cannot read it
        future = live.tmp / "future.db"
        made = await comptoir("backup", str(future), database_url=live.url)
        assert made.returncode == 0, made.stderr
        with sqlite3.connect(future) as connection:
            connection.execute("UPDATE alembic_version SET version_num = '9999_later'")
        connection.close()
        refused = await comptoir("restore", str(future), database_url=live.restore_url)
        assert refused.returncode == 1 and "newer Comptoir" in refused.stderr
    if live.backend == "sqlite":
        assert not Path(make_url(live.restore_url).database or "").exists()
    else:
        tables = subprocess.run(["psql", "-tAc", r"\dt", libpq(live.restore_url)],
                                capture_output=True, text=True, check=True).stdout
        assert "alembic_version" not in tables


async def test_a_backup_without_a_file_name_is_named_by_the_time_here_or_in_a_directory(
    live: Live,
) -> None:
    nightly = live.tmp / "nightly"
    nightly.mkdir()
    for where, args in ((live.tmp, ()), (nightly, (str(nightly),))):
        made = await comptoir("backup", *args, database_url=live.url, cwd=live.tmp)
        assert made.returncode == 0, made.stderr
        names = [p.name for p in where.glob("comptoir-*")]
        assert len(names) == 1, names
        assert re.fullmatch(r"comptoir-\d{8}T\d{6}Z\.(db|dump)", names[0]), names


async def test_postgresql_backup_says_when_pg_dump_is_missing(tmp_path: Path) -> None:
    made = await comptoir("backup", str(tmp_path / "x.dump"), database_url=PG_URL,
                          PATH=str(tmp_path))
    assert made.returncode == 1
    assert "pg_dump is not installed" in made.stderr and "Traceback" not in made.stderr
    assert not list(tmp_path.iterdir())
