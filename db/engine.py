"""The engine and the session factory: one session per unit of work."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

from telemetry import metrics


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # A statement's parameters (PINs, tokens, hashes) stay out of error messages and logs.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        _sqlite_serialise_writers(engine)
        _measure(engine)
        return engine
    idle_before_ping_s = kwargs.pop("idle_before_ping_s", IDLE_BEFORE_PING_S)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_async_engine(url, **kwargs)
    _ping_when_idle(engine, idle_before_ping_s)
    _measure(engine)
    return engine


# A connection used less than this long ago is known to be alive.
IDLE_BEFORE_PING_S = 5.0


def _ping_when_idle(engine: AsyncEngine, idle_s: float = IDLE_BEFORE_PING_S) -> None:
    """Check a pooled connection before use only when it has sat idle for a while.

    SQLAlchemy's `pool_pre_ping` pings on every checkout: a round trip to the database on
    every request, which on a busy server is a sizeable share of each request's work (see
    bench/README.md). Connections in steady use are alive by construction; one that has
    sat in the pool (across a database restart, a network cut, a proxy's idle timeout) is
    pinged, and replaced when the ping fails, as the SQLAlchemy docs' "pessimistic
    disconnect handling" recipe does.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_s:
            return  # brand new, or just used
        try:
            dbapi_connection.ping()
        except Exception as error:
            raise exc.DisconnectionError() from error


def _measure(engine: AsyncEngine) -> None:
    """The pool's connections in use, and each statement's time, for the metrics."""
    in_use = metrics.DB_CONNECTIONS_IN_USE
    sync = engine.sync_engine

    @event.listens_for(sync, "checkout")
    def _out(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        record.info["checked_out"] = True
        in_use.inc()

    @event.listens_for(sync, "checkin")
    def _in(_dbapi_connection: Any, record: Any) -> None:
        if record.info.pop("checked_out", False):  # not a connection that failed its ping
            in_use.dec()

    @event.listens_for(sync, "before_cursor_execute")
    def _before(conn: Any, _cursor: Any, _statement: str, _params: Any, _context: Any,
                _many: bool) -> None:
        conn.info["query_started"] = time.perf_counter()

    @event.listens_for(sync, "after_cursor_execute")
    def _after(conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any,
               _many: bool) -> None:
        started = conn.info.pop("query_started", None)
        if started is not None:
            metrics.DB_QUERY_DURATION.labels(metrics.statement_kind(statement)).observe(
                time.perf_counter() - started
            )


def _sqlite_serialise_writers(engine: AsyncEngine) -> None:
    """SQLite has one writer; BEGIN IMMEDIATE makes writers queue instead of deadlock.

    pysqlite's own transaction handling is turned off so that SQLAlchemy's BEGIN is the
    one that runs (sqlalchemy docs, "Serializable isolation / Savepoints / Transactional DDL").
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL syncs at checkpoints instead of at every commit: the database
        # stays consistent whatever happens, and only a power cut can lose the last commits
        # (SQLite's documentation recommends it for WAL; FULL costs an fsync per commit).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def read_first(sessionmaker: async_sessionmaker[AsyncSession], statement: Any,
                     params: dict[str, Any] | None = None) -> Any:
    """The first row of one statement that only reads. On PostgreSQL it runs without a
    transaction around it (the statement is its own): one round trip instead of three
    (BEGIN, the statement, ROLLBACK), for the reads every request makes (its session).
    SQLite keeps its usual transaction (its BEGIN is ours, see above)."""
    engine = sessionmaker.kw["bind"]
    if engine.dialect.name != "postgresql":
        async with sessionmaker() as session:
            return (await session.execute(statement, params)).first()
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        return (await connection.execute(statement, params)).first()


def on_postgresql(session: AsyncSession) -> bool:
    """Is this session's database PostgreSQL (else SQLite)? For the few statements that differ."""
    bind = session.bind
    assert bind is not None, "sessions are made by make_sessionmaker, bound to the engine"
    return bind.dialect.name == "postgresql"
