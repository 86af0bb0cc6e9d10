"""The broadcaster peer: broadcaster's README chat example, with topics instead of one room.

Starlette's own broadcast library, Redis backend. As in the example, each socket runs a
receiver and a sender until the first completes; here a socket may watch several channels
(its table and the venue, or a POS's twenty tables), so the sender holds one
`broadcast.subscribe(channel)` per channel. After subscribing it acknowledges with
{"type":"subscribed"}, which the benchmark waits for (Comptoir answers with snapshots).

One fix a user who met the bug would make: broadcaster 0.3.1's `subscribe()` checks whether
the channel has subscribers, awaits Redis's SUBSCRIBE, then sets the channel's subscribers,
so first subscribers entering it at once overwrite each other (of 50 concurrent subscribes
to one channel, one queue stays registered: the other sockets never hear the channel). Each
channel's subscribes are entered one at a time (`serialised`), which is all it takes.

    uvicorn --factory bench.peers.broadcaster_app:create_app   (REDIS_URL in the environment)
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_until_first_complete
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket


def serialised(
    subscribe: Callable[..., AbstractAsyncContextManager[Any]],
) -> Callable[[str], AbstractAsyncContextManager[Any]]:
    """`subscribe(channel=…)` whose entering is one at a time per channel (the subscriber
    then listens alongside the others as before)."""
    locks: dict[str, anyio.Lock] = {}

    @contextlib.asynccontextmanager
    async def subscribed(channel: str) -> AsyncIterator[Any]:
        manager = subscribe(channel=channel)
        async with locks.setdefault(channel, anyio.Lock()):
            subscriber = await manager.__aenter__()
        try:
            yield subscriber
        finally:
            await manager.__aexit__(None, None, None)

    return subscribed


def create_app() -> Starlette:
    from broadcaster import Broadcast

    broadcast = Broadcast(os.environ.get("REDIS_URL", "redis://localhost:6379"))
    # BROADCASTER_AS_SHIPPED=1: 0.3.1's subscribe as it is, to show its race (the stack
    # `broadcaster_asis`); its fair knee is the fixed one's.
    if os.environ.get("BROADCASTER_AS_SHIPPED") == "1":
        def subscribed(channel: str) -> AbstractAsyncContextManager[Any]:
            return broadcast.subscribe(channel=channel)
    else:
        subscribed = serialised(broadcast.subscribe)

    async def receiver(websocket: WebSocket) -> None:
        async for _ in websocket.iter_text():  # until the client goes away
            pass

    async def sender(websocket: WebSocket, channels: list[str]) -> None:
        async def forward(channel: str, ready: anyio.Event) -> None:
            async with subscribed(channel) as subscriber:
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
