"""Shared fixtures: both databases, both buses, the app in-process and as real servers.

PostgreSQL and Redis are real services. Outside CI a missing one skips its tests; under
CI=true it fails them, so a run can never pass without exercising both backends.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from accounts import passwords
from db.base import Base
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade
from demo.seed import DemoVenue, seed
from realtime.bus import Bus, make_bus
from realtime.events import Event, Tx, transaction
from settings import ROOT, Settings

T = TypeVar("T")

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI") == "true"

# scrypt at its real cost takes 40 ms a hash, and the tests sign in, set passwords and PINs
# thousands of times: they hash at a token cost (microseconds a hash).
# A hash names its cost, so the servers the tests start check these at their own cost;
# tests/test_passwords.py checks the real one.
passwords.use_cost(passwords.Cost(n=2**4, r=8, p=1))


def unavailable(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is not reachable: under CI=true that is a failure, not a skip")
    pytest.skip(f"{what} is not reachable")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Database:
    url: str
    sessionmaker: async_sessionmaker[AsyncSession]
    # The demo venue when the test asked for it (`venue`): restored with the database.
    seeded: DemoVenue | None = None

    @property
    def backend(self) -> str:
        return "postgresql" if self.url.startswith("postgresql") else "sqlite"


_migrated: set[str] = set()


def _migrate_fresh(url: str) -> None:
    if url in _migrated:
        return
    if url.startswith("postgresql"):
        import asyncpg

        async def reset() -> None:
            conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
            # A test database needs no durability: commits need not wait for the disk (the
            # next connections get it; on this kind of VM a WAL flush can take 50 ms).
            name = url.rsplit("/", 1)[1].split("?")[0]
            await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
            # A statement stuck behind a lock (a connection a test left in a transaction)
            # fails after a minute, naming the statement, instead of hanging the run.
            await conn.execute(f'ALTER DATABASE "{name}" SET lock_timeout = \'60s\'')
            await conn.close()

        asyncio.run(reset())
    upgrade(url)
    _migrated.add(url)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    if request.param == "postgresql":
        if not _reachable("127.0.0.1", 5432):
            unavailable("PostgreSQL")
        url = PG_URL
    else:
        url = sqlite_url
    _migrate_fresh(url)
    return url


# Each test starts from a database as just migrated, or as just migrated and seeded with
# the demo venue when it asks for `venue`. Emptying every table and seeding again before
# each test cost 0.15 to 1 s on PostgreSQL (TRUNCATE of every table: the busier the disk,
# the slower) and 0.06 to 0.1 s on SQLite, for each of 1,600 tests; instead each state is
# taken once and put back:
#
# - SQLite: the migrated (and the seeded) database is copied aside once (in memory), and
#   copied back over the test database with SQLite's backup API (whole pages, schema and
#   triggers included: 3 ms).
# - PostgreSQL: one round trip empties every table (DELETE, with triggers and foreign-key
#   checks off for the transaction: `session_replication_role = replica`, which needs a
#   superuser as the test database's reset already does; much cheaper than TRUNCATE, which
#   makes new files for each table and index), restarts the sequences, and inserts the
#   seeded rows again from their JSON (20 ms).
#
# The seeded state is seeded again for real when older than SEEDED_MAX_AGE_S, so that its
# timestamps are never much older than those of a venue seeded by the test itself.
SEEDED_MAX_AGE_S = 60.0


@dataclass
class _Seeded:
    venue: DemoVenue
    taken_at: float
    # PostgreSQL: each non-empty table's rows as JSON, and the sequences' positions.
    rows: dict[str, str]
    sequences: list[tuple[str, int]]


_seeded: dict[str, _Seeded] = {}
_sqlite_templates: dict[tuple[str, bool], sqlite3.Connection] = {}


def _sqlite_path(url: str) -> str:
    return url.split(":///", 1)[1]


def _sqlite_copy(source: sqlite3.Connection | str, target: sqlite3.Connection | str) -> None:
    """Copy a whole SQLite database over another with the backup API."""
    src = sqlite3.connect(source, timeout=30) if isinstance(source, str) else source
    dst = sqlite3.connect(target, timeout=30) if isinstance(target, str) else target
    try:
        dst.execute("PRAGMA synchronous = OFF")  # a test database: no waiting on the disk
        src.backup(dst)
    finally:
        if isinstance(source, str):
            src.close()
        if isinstance(target, str):
            dst.close()


def _sqlite_template(url: str, seeded: bool) -> sqlite3.Connection | None:
    return _sqlite_templates.get((url, seeded))


def _sqlite_keep(url: str, seeded: bool) -> None:
    """Copy the test database as it is now aside (in memory), as the state to restore."""
    old = _sqlite_templates.pop((url, seeded), None)
    if old is not None:
        old.close()
    template = sqlite3.connect(":memory:", check_same_thread=False)
    _sqlite_copy(_sqlite_path(url), template)
    _sqlite_templates[(url, seeded)] = template


def _tables() -> list[str]:
    """Every table, in the order of their foreign keys (read when used: the models are all
    imported by then, with the app)."""
    return [t.name for t in Base.metadata.sorted_tables]


def _pg_empty_script() -> str:
    """One transaction: every table locked at once, as TRUNCATE locks them (a transaction
    still running from the test before finishes first, and none starts meanwhile), then
    emptied (no trigger, no foreign-key check: the till's records refuse DELETE, and the
    order of tables does not matter then), and every sequence used since it was last
    restarted restarted, as TRUNCATE ... RESTART IDENTITY does."""
    tables = ", ".join(f'"{name}"' for name in _tables())
    return "".join(
        ["BEGIN; SET LOCAL session_replication_role = replica; "
         f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE; "]
        + [f'DELETE FROM "{name}"; ' for name in _tables()]
        + ["SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, "
           "false) FROM pg_sequences "
           "WHERE schemaname = current_schema() AND last_value IS NOT NULL; "]
    )


async def _pg_run(maker: async_sessionmaker[AsyncSession], script: str) -> None:
    """Run statements in one round trip (asyncpg's simple query protocol)."""
    async with maker() as session:
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        await raw.driver_connection.execute(script)  # type: ignore[union-attr]
        await session.rollback()  # gives the connection back to the pool


async def _pg_keep(maker: async_sessionmaker[AsyncSession], venue: DemoVenue) -> _Seeded:
    """The seeded rows of every table, and where each sequence stands."""
    async with maker() as session:
        found = (await session.execute(text(" UNION ALL ".join(
            f"SELECT '{name}', (SELECT json_agg(t)::text FROM \"{name}\" t)"
            for name in _tables()
        )))).all()
        sequences = (await session.execute(text(
            "SELECT format('%I.%I', schemaname, sequencename), last_value FROM pg_sequences "
            "WHERE schemaname = current_schema() AND last_value IS NOT NULL"
        ))).all()
    rows = {name: value for name, value in found if value is not None}
    return _Seeded(venue, time.monotonic(), rows, [(name, int(at)) for name, at in sequences])


def _pg_restore_script(state: _Seeded) -> str:
    parts = [_pg_empty_script()]
    for name in _tables():  # in their foreign keys' order, though nothing checks them here
        if name in state.rows:
            data = state.rows[name]
            assert "$rows$" not in data
            parts.append(f'INSERT INTO "{name}" OVERRIDING SYSTEM VALUE SELECT * FROM '
                         f'json_populate_recordset(NULL::"{name}", $rows${data}$rows$); ')
    if state.sequences:
        values = ", ".join(f"('{name}', {at})" for name, at in state.sequences)
        parts.append(
            f"SELECT setval(s.name::regclass, s.at) FROM (VALUES {values}) AS s(name, at); "
        )
    return "".join(parts) + "COMMIT;"


async def _empty(database: Database) -> None:
    """Every table empty, as just migrated."""
    if database.backend == "postgresql":
        await _truncate(database.sessionmaker, database.backend)
        return
    template = _sqlite_template(database.url, seeded=False)
    if template is None:
        await _truncate(database.sessionmaker, database.backend)
        _sqlite_keep(database.url, seeded=False)
    else:
        _sqlite_copy(template, _sqlite_path(database.url))


async def _restore_seeded(database: Database) -> DemoVenue:
    """The demo venue, as `seed` makes it: put back, or seeded if none is kept (or too old)."""
    state = _seeded.get(database.url)
    if state is not None and time.monotonic() - state.taken_at < SEEDED_MAX_AGE_S:
        if database.backend == "postgresql":
            await _pg_run(database.sessionmaker, _pg_restore_script(state))
        else:
            template = _sqlite_template(database.url, seeded=True)
            assert template is not None
            _sqlite_copy(template, _sqlite_path(database.url))
        return copy.deepcopy(state.venue)
    await _empty(database)
    async with database.sessionmaker() as session, session.begin():
        venue = await seed(session)
    if database.backend == "postgresql":
        _seeded[database.url] = await _pg_keep(database.sessionmaker, venue)
    else:
        _sqlite_keep(database.url, seeded=True)
        _seeded[database.url] = _Seeded(venue, time.monotonic(), {}, [])
    return copy.deepcopy(venue)


async def _truncate(sessionmaker: async_sessionmaker[AsyncSession], backend: str) -> None:
    """Empty every table of a database (for the tests that make their own engine)."""
    if backend == "postgresql":
        await _pg_run(sessionmaker, _pg_empty_script() + "COMMIT;")
    else:
        await _truncate_sqlite(sessionmaker)


async def _truncate_sqlite(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session, session.begin():
        # The till's records refuse DELETE (their triggers): set aside while emptying.
        triggers = (await session.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        ))).all()
        for name, _ in triggers:
            await session.execute(text(f'DROP TRIGGER "{name}"'))
        for name in reversed(_tables()):
            await session.execute(text(f'DELETE FROM "{name}"'))
        for _, sql in triggers:
            await session.execute(text(sql))


@pytest_asyncio.fixture
async def db(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Database]:
    """A database of either backend, as just migrated; with the demo venue in it already
    when the test asks for `venue` (see above)."""
    engine = make_engine(database_url)
    maker = make_sessionmaker(engine)
    database = Database(database_url, maker)
    try:
        if "venue" in request.fixturenames:
            database.seeded = await _restore_seeded(database)
        else:
            await _empty(database)
        yield database
    finally:
        await engine.dispose()


@pytest.fixture(params=["memory", "redis"])
def bus_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "redis":
        if not _reachable("127.0.0.1", 6379):
            unavailable("Redis")
        return REDIS_URL
    return None


@pytest_asyncio.fixture
async def bus(bus_url: str | None) -> AsyncIterator[Bus]:
    instance = make_bus(bus_url)
    yield instance
    await instance.close()


@pytest_asyncio.fixture
async def venue(db: Database) -> DemoVenue:
    if db.seeded is not None:  # put back by `db`
        return db.seeded
    async with db.sessionmaker() as session, session.begin():
        return await seed(session)


def test_settings(database_url: str, redis_url: str | None = None, **overrides: object) -> Settings:
    """The app's settings for a test. The machines' and customers' timers (a group's weekly
    recharge is due at once on the demo venue) wait an hour unless a test asks for them:
    a background recharge must not land in the middle of a test of something else.

    Start-up does not freeze the heap (a full collection of the whole test session's heap,
    0.2 s a test); tests/web/test_gc_policy.py tests the freeze, and the servers of
    `server_factory` start as in production."""
    overrides.setdefault("machine_sweep_s", 3600)
    overrides.setdefault("gc_freeze_at_start", False)
    return Settings(
        database_url=database_url, redis_url=redis_url, secret_key="test-secret", **overrides
    )


@pytest_asyncio.fixture
async def app(db: Database, venue: DemoVenue) -> AsyncIterator[Starlette]:
    """The app in-process, its lifespan running, on the test database and memory bus."""
    from app import create_app

    application = create_app(test_settings(db.url))
    async with application.router.lifespan_context(application):
        yield application


async def run_retrying(db: Database, bus: Bus, op: Callable[[Tx], Awaitable[T]],
                       events: list[Event]) -> T:
    """One unit of work of a test harness; a concurrent duplicate refused by a constraint
    runs again (as a client retries). What it published, reactions included, goes to
    `events`."""
    for attempt in range(3):
        try:
            async with transaction(db.sessionmaker, bus) as tx:
                result = await op(tx)
        except IntegrityError:
            if attempt == 2:
                raise
            continue
        events.extend([*tx.events, *tx.reactions])
        return result
    raise AssertionError("unreachable")


def client_for(application: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://testserver"
    )


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A real `comptoir serve` process on its own port; what it logs is kept (`logs`)."""

    def __init__(self, env: dict[str, str], port: int | None = None, workers: int = 1,
                 public_url: bool = True) -> None:
        """`public_url=False`: no PUBLIC_URL, the server names itself by the host and port it
        listens on, as `PORT=… make demo` does."""
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {**os.environ, **env, "PUBLIC_URL": self.url, "SECRET_KEY": "test-secret"}
        if not public_url:
            del full_env["PUBLIC_URL"]
            full_env.pop("HOST", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "comptoir_cli", "serve", "--port", str(self.port),
             "--workers", str(workers)],
            cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        # Read as it comes: a server logs a line per request, and a full pipe would stop it.
        self._stderr = bytearray()
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + 60  # a loaded machine (browsers, other servers) starts slowly
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._reader.join(timeout=5)
                raise RuntimeError(self.logs)
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code in (200, 503):
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()  # else it outlives the test run, holding its port and database connections
        raise RuntimeError("server did not start")

    def _read_stderr(self) -> None:
        stream = self.process.stderr
        assert stream is not None
        with stream:  # closed at the end, else a ResourceWarning, an error under -W error
            for line in iter(stream.readline, b""):
                self._stderr += line

    @property
    def logs(self) -> str:
        """What the server wrote on standard error so far (its logs)."""
        return self._stderr.decode(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=10)


@pytest.fixture
def server_factory() -> Iterator[type[Server]]:
    started: list[Server] = []

    class Tracked(Server):
        def __init__(self, env: dict[str, str], port: int | None = None, workers: int = 1) -> None:
            super().__init__(env, port, workers)
            started.append(self)

    yield Tracked
    for server in started:
        server.stop()


def repo_path(*parts: str) -> Path:
    return ROOT.joinpath(*parts)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API runs an event loop in the main thread while
    its browser is open, and pytest-asyncio cannot start a loop beside it."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid.replace("\\", "/"))


class _UnwaitedExecutor(ThreadPoolExecutor):
    """The session loop's default executor. Closing the loop waits for its threads, with no
    limit on Python 3.11: one thread stuck in a call would hang the run at its very end. It
    stops taking work instead; a thread still running is reported below."""

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=False, cancel_futures=True)


@pytest_asyncio.fixture(scope="session", autouse=True, loop_scope="session")
async def _unwaited_executor() -> AsyncIterator[None]:
    asyncio.get_running_loop().set_default_executor(_UnwaitedExecutor())
    yield


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """A thread a test left running (a call stuck in a worker thread) would keep the
    process from exiting: name it with its stack, and end the run as failed.

    What a test leaks is collected while tests run, and its ResourceWarning fails that
    test. What is only collected after the last one (the session's loop already closed, no
    test left to blame) is collected here, before pytest's own last collection, and
    reported rather than raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()
        gc.collect()
    for warning in caught:
        print(f"\nleft unclosed at the end of the tests: {warning.message}", file=sys.stderr)
    deadline = time.monotonic() + 15
    others = [t for t in threading.enumerate() if t is not threading.main_thread()
              and not t.daemon]
    for thread in others:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [t for t in others if t.is_alive()]
    if stuck:
        frames = sys._current_frames()
        for thread in stuck:
            print(f"\nA thread is still running after the tests: {thread.name}", file=sys.stderr)
            frame = frames.get(thread.ident or 0)
            if frame is not None:
                print("".join(traceback.format_stack(frame)), file=sys.stderr)
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(1)
