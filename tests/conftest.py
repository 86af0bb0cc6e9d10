"""Shared fixtures: both databases, both buses, the app in-process and as real servers.

PostgreSQL and Redis are real services. Outside CI a missing one skips its tests; under
CI=true it fails them, so a run can never pass without exercising both backends.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from db.base import Base
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade
from demo.seed import DemoVenue, seed
from realtime.bus import Bus, make_bus
from settings import ROOT, Settings

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI") == "true"


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


async def _truncate(sessionmaker: async_sessionmaker[AsyncSession], backend: str) -> None:
    tables = [t.name for t in Base.metadata.sorted_tables]
    async with sessionmaker() as session, session.begin():
        if backend == "postgresql":
            await session.execute(
                text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            )
        else:
            # The till's records refuse DELETE (their triggers): set aside while emptying.
            triggers = (await session.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
            ))).all()
            for name, _ in triggers:
                await session.execute(text(f'DROP TRIGGER "{name}"'))
            for name in reversed(tables):
                await session.execute(text(f'DELETE FROM "{name}"'))
            for _, sql in triggers:
                await session.execute(text(sql))


@pytest_asyncio.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A database of either backend, emptied before each test."""
    engine = make_engine(database_url)
    maker = make_sessionmaker(engine)
    database = Database(database_url, maker)
    await _truncate(maker, database.backend)
    yield database
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
    async with db.sessionmaker() as session, session.begin():
        return await seed(session)


def test_settings(database_url: str, redis_url: str | None = None, **overrides: object) -> Settings:
    """The app's settings for a test. The machines' and customers' timers (a group's weekly
    recharge is due at once on the demo venue) wait an hour unless a test asks for them:
    a background recharge must not land in the middle of a test of something else."""
    overrides.setdefault("machine_sweep_s", 3600)
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

    def __init__(self, env: dict[str, str], port: int | None = None, workers: int = 1) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {**os.environ, **env, "PUBLIC_URL": self.url, "SECRET_KEY": "test-secret"}
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


def pytest_unconfigure(config: pytest.Config) -> None:
    """A thread a test left running (a call stuck in a worker thread) would keep the
    process from exiting: name it with its stack, and end the run as failed."""
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
