"""Websocket frames: the server's own, encoded once for every socket that sends one
(`Outgoing`), and reading a client's next frame within its protocol's size: the screens'
/ws and the machines' /ws/device each have their own (docs/realtime.md, docs/machines.md).

The server's own limit (uvicorn's `ws_max_size`, 64 KiB under `comptoir serve`) is one for
every socket and every endpoint, and 16 MiB under a bare `uvicorn`: each endpoint holds
its clients to its own size here, whatever the server let through.
"""

from __future__ import annotations

from starlette.websockets import WebSocket, WebSocketDisconnect

CLOSE_TOO_BIG = 1009  # RFC 6455: a message too big to process


class FrameTooLarge(Exception):
    """A frame over its protocol's size: the socket closes with 1009."""


async def receive_text(websocket: WebSocket, max_bytes: int) -> str | None:
    """The next text frame; None for a binary one (neither protocol has any).
    FrameTooLarge when either is over `max_bytes` (a text's size once UTF-8 encoded)."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text = message.get("text")
    if text is None:
        if len(message.get("bytes") or b"") > max_bytes:
            raise FrameTooLarge()
        return None
    # A character is at most four bytes: most frames are judged without encoding them.
    if len(text) > max_bytes // 4 and len(text.encode()) > max_bytes:
        raise FrameTooLarge()
    return str(text)


def text_frame(data: bytes) -> bytes:
    """An unmasked, unfragmented websocket text frame (RFC 6455 §5.2), as servers send."""
    n = len(data)
    if n < 126:
        return bytes((0x81, n)) + data
    if n < 65536:
        return bytes((0x81, 126)) + n.to_bytes(2, "big") + data
    return bytes((0x81, 127)) + n.to_bytes(8, "big") + data


class Outgoing(str):
    """A message's text that many sockets send: its websocket frame is encoded once."""

    @property
    def frame(self) -> bytes:
        cached: bytes | None = self.__dict__.get("_frame")
        if cached is None:
            cached = self.__dict__["_frame"] = text_frame(self.encode())
        return cached
