"""The python-socketio peer: an ASGI Socket.IO server fed through Redis, as its documentation
shows for several processes (`AsyncRedisManager`), under uvicorn.

A socket connects over the websocket transport (`/socket.io/?EIO=4&transport=websocket`),
emits "subscribe" with its topics, and is put in one room per topic; it then gets
"subscribed", which the benchmark waits for (Comptoir answers with snapshots). The
publisher emits each event to its topic's room through a write-only `AsyncRedisManager`
on the same Redis (bench/load_publisher.py), the documented way for an outside process to
emit. The server's JSON is the standard library's, as for the other peers.

    uvicorn --factory bench.peers.socketio_app:create_app   (REDIS_URL in the environment)
"""

from __future__ import annotations

import os
from typing import Any


def create_app() -> Any:
    import socketio

    manager = socketio.AsyncRedisManager(os.environ.get("REDIS_URL", "redis://localhost:6379"))
    server = socketio.AsyncServer(async_mode="asgi", client_manager=manager,
                                  cors_allowed_origins=[], transports=["websocket"])

    @server.on("subscribe")  # type: ignore[untyped-decorator]
    async def subscribe(sid: str, data: dict[str, Any]) -> None:
        for topic in data["topics"]:
            await server.enter_room(sid, topic)
        await server.emit("subscribed", {}, to=sid)

    return socketio.ASGIApp(server)
