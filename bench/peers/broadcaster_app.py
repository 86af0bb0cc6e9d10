"""The broadcaster peer: broadcaster's README chat example, with topics instead of one room.

Starlette's own broadcast library, Redis backend. As in the example, each socket runs a
receiver and a sender until the first completes; here a socket may watch several channels
(its table and the venue, or a POS's twenty tables), so the sender holds one
`broadcast.subscribe(channel)` per channel. After subscribing it acknowledges with
{"type":"subscribed"}, which the benchmark waits for (Comptoir answers with snapshots).

    uvicorn --factory bench.peers.broadcaster_app:create_app   (REDIS_URL in the environment)
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator

import anyio
from broadcaster import Broadcast
from starlette.applications import Starlette
from starlette.concurrency import run_until_first_complete
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket


def create_app() -> Starlette:
    broadcast = Broadcast(os.environ.get("REDIS_URL", "redis://localhost:6379"))

    async def receiver(websocket: WebSocket) -> None:
        async for _ in websocket.iter_text():  # until the client goes away
            pass

    async def sender(websocket: WebSocket, channels: list[str]) -> None:
        async def forward(channel: str, ready: anyio.Event) -> None:
            async with broadcast.subscribe(channel=channel) as subscriber:
                ready.set()
                async for event in subscriber:
                    await websocket.send_text(event.message)

        async with anyio.create_task_group() as group:
            readies = []
            for channel in channels:
                ready = anyio.Event()
                readies.append(ready)
                group.start_soon(forward, channel, ready)
            for ready in readies:
                await ready.wait()
            await websocket.send_text('{"type":"subscribed"}')

    async def topics_ws(websocket: WebSocket) -> None:
        await websocket.accept()
        message = json.loads(await websocket.receive_text())  # {"type":"subscribe",…}
        await run_until_first_complete(
            (sender, {"websocket": websocket, "channels": message["topics"]}),
            (receiver, {"websocket": websocket}),
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await broadcast.connect()
        try:
            yield
        finally:
            await broadcast.disconnect()

    return Starlette(routes=[WebSocketRoute("/ws", topics_ws)], lifespan=lifespan)
