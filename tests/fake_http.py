"""A provider's HTTP API faked by a small Starlette app, served by uvicorn on a free port
of this machine for the length of a test (tests/payments/stripe_fake.py,
tests/loyalty/brevo_fake.py): the provider's own SDK talks to it over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette

from tests.conftest import free_port


@asynccontextmanager
async def served(app: Starlette) -> AsyncIterator[str]:
    """The app listening on 127.0.0.1 until the block ends; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off", ws="none", http="h11")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
