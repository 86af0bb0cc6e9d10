"""`comptoir serve --workers 2`: every worker runs the idle-session sweeper, a worker that
dies is replaced, and an idle session still expires exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from sqlalchemy import func, select

from demo.seed import DemoVenue
from ordering.models import TableSession
from tests.conftest import REDIS_URL, Database, Server
from tests.realtime.phones import Phone, receive, subscribe


def workers_of(server: Server) -> set[int]:
    """The worker processes uvicorn's supervisor runs for this server."""
    children = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as file:
                    parent = int(file.read().rsplit(")", 1)[1].split()[1])
                if parent != server.process.pid:
                    continue
                with open(f"/proc/{entry}/cmdline", "rb") as file:
                    if b"spawn_main" in file.read():  # not multiprocessing's resource tracker
                        children.add(int(entry))
            except OSError:
                continue
    return children


async def wait_for(condition: object, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def test_idle_session_expires_once_with_two_workers_after_one_died(
    shared: tuple[Database, DemoVenue], server_factory: type[Server]
) -> None:
    db, venue = shared
    env = {"DATABASE_URL": db.url, "REDIS_URL": REDIS_URL,
           "SWEEP_INTERVAL_S": "1", "SESSION_IDLE_S": "2"}
    server = server_factory(env, workers=2)
    await wait_for(lambda: len(workers_of(server)) == 2)

    # A worker dies: the supervisor starts another, which sweeps and listens like it.
    first = workers_of(server)
    os.kill(min(first), signal.SIGKILL)
    await wait_for(lambda: len(workers_of(server)) == 2 and workers_of(server) != first)

    token = venue.table_tokens[0][1]
    async with Phone(server.url) as lea:
        state = await lea.scan(token)
        topic = state["topics"][0]
        await lea.start(token, "Léa")
        async with lea.socket() as ws:
            snapshot = await subscribe(ws, topic)
            assert snapshot["data"]["session"]["status"] == "open"

            # Both workers sweep every second; the idle session closes, once.
            expired = await receive(ws)
            assert (expired["event"], expired["version"]) == (
                "session.expired", snapshot["version"] + 1
            )
            # Let each worker sweep a few more times, then change the table again: had a
            # second sweep closed the session again, its event would come first.
            await asyncio.sleep(3)
            async with Phone(server.url) as tom:
                await tom.scan(token)
                await tom.start(token, "Tom")
            reopened = await receive(ws)
            assert (reopened["event"], reopened["version"]) == (
                "session.opened", snapshot["version"] + 2
            )

    async with db.sessionmaker() as session:
        closed = await session.scalar(
            select(func.count()).select_from(TableSession)
            .where(TableSession.close_reason == "idle")
        )
    assert closed == 1
