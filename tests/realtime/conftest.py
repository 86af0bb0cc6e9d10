"""Fixtures of the live-channel tests: a private Redis that a test may kill and restart."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.conftest import _reachable, free_port, unavailable

REDIS_SERVER = "/usr/bin/redis-server"


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--save", "", "--appendonly", "no",
             "--port", str(self.port), "--bind", "127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _reachable("127.0.0.1", self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if not os.access(REDIS_SERVER, os.X_OK):
        unavailable("redis-server")
    server = PrivateRedis()
    server.start()
    yield server
    server.kill()


@pytest.fixture(autouse=True)
def _own_topic_kinds() -> Iterator[None]:
    """The topic kinds a test registers (a counting or a broken one) go with it: the app's
    are the only ones the next tests see (tests/api/test_permission_matrix.py lists them)."""
    from realtime import topics

    kept = dict(topics._kinds)
    yield
    topics._kinds.clear()
    topics._kinds.update(kept)
