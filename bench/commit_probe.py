"""How long PostgreSQL takes to commit, sampled beside the benchmark's load."""

from __future__ import annotations

import asyncio
import contextlib

from harness import clock


class CommitProbe:
    """How long PostgreSQL takes to commit, sampled beside the load: one tiny autocommitted
    INSERT on its own connection every `interval` seconds.

    A commit waits for its WAL to be flushed to disk; when the disk stalls, every commit
    stalls with it, Comptoir's included. The probe's worst commits in a step show whether
    a slow request in that step was the disk's doing or the server's.
    """

    def __init__(self, dsn: str, interval: float = 0.02) -> None:
        self.dsn = dsn
        self.interval = interval
        self.samples: list[float] = []
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        import asyncpg

        self.connection = await asyncpg.connect(self.dsn)
        await self.connection.execute(
            "CREATE TABLE IF NOT EXISTS bench_commit_probe (id bigserial PRIMARY KEY, at float8)")
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            started = clock()
            await self.connection.execute("INSERT INTO bench_commit_probe (at) VALUES ($1)",
                                          started)
            self.samples.append((clock() - started) * 1000)
            await asyncio.sleep(max(0.0, self.interval - (clock() - started)))

    def take(self) -> list[float]:
        """The commit times (ms) since the last take."""
        samples, self.samples = self.samples, []
        return samples

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.connection.close()
