"""The socket sender's fast path: a frame encoded once, written as is while the connection
is open and writable; backpressure, closing and compression take the server's own path."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.streams import StreamReader

from realtime.hub import Connection, Outgoing
from realtime.topics import Viewer
from realtime.websocket import RAW_SEND, _direct, _send, _sender
from tests.realtime.test_hub import wait_until


class Transport:
    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.order: list[str] = []  # what the client receives, by either path

    def write(self, data: bytes) -> None:
        self.written.append(data)
        self.order.append(decode(data))

    def is_closing(self) -> bool:
        return False


class Protocol:
    """What uvicorn's websockets-sansio protocol offers: its transport, its websockets
    connection, its writable flag, and `send` (the ASGI send the sender falls back to)."""

    def __init__(self, compressed: bool = False) -> None:
        self.transport = Transport()
        factories = [ServerPerMessageDeflateFactory()] if compressed else []
        self.conn = ServerProtocol(extensions=factories)
        self.conn.state = State.OPEN
        if compressed:
            self.conn.extensions = [factories[0].process_request_params([], [])[1]]
        self.writable = asyncio.Event()
        self.writable.set()
        self.close_sent = False
        self.slow_path: list[str] = []

    async def send(self, message: dict[str, Any]) -> None:
        await self.writable.wait()
        self.slow_path.append(message["text"])
        self.transport.order.append(message["text"])


class Socket:
    def __init__(self, protocol: Protocol) -> None:
        self.scope = {RAW_SEND: protocol.send}


def decode(data: bytes) -> str:
    """Parse one server frame as a client would."""
    reader = StreamReader()
    reader.feed_data(data)
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame = cast(Frame, done.value)
    assert frame.opcode is Opcode.TEXT and frame.fin
    return frame.data.decode()


async def test_one_encoding_is_written_to_every_socket() -> None:
    text = Outgoing('{"type":"event","version":3,"data":"' + "é" * 200 + '"}')
    protocols = [Protocol() for _ in range(3)]
    for protocol in protocols:
        await _sender(cast(Any, Socket(protocol)))(text)
    written = [p.transport.written for p in protocols]
    assert all(len(w) == 1 for w in written)
    assert decode(written[0][0]) == text  # a frame any client reads
    assert written[0][0] is written[1][0] is written[2][0]  # encoded once
    assert all(p.slow_path == [] for p in protocols)


async def test_long_and_plain_texts_frame_correctly() -> None:
    protocol = Protocol()
    send = _sender(cast(Any, Socket(protocol)))
    for text in ("pong", "x" * 125, "y" * 126, "z" * 70_000):
        await send(text)
    assert [decode(data) for data in protocol.transport.written] == [
        "pong", "x" * 125, "y" * 126, "z" * 70_000
    ]


async def test_a_socket_under_backpressure_waits_on_the_server_path() -> None:
    protocol = Protocol()
    send = _sender(cast(Any, Socket(protocol)))
    protocol.writable.clear()  # the client stopped reading: the transport paused us
    waiting = asyncio.create_task(send(Outgoing("held back")))
    await asyncio.sleep(0.05)
    assert not waiting.done() and protocol.transport.written == []
    protocol.writable.set()
    await asyncio.wait_for(waiting, 5)
    assert protocol.slow_path == ["held back"]


async def test_compressed_and_closing_sockets_take_the_server_path() -> None:
    compressed = Protocol(compressed=True)
    await _sender(cast(Any, Socket(compressed)))(Outgoing("deflate me"))
    assert compressed.slow_path == ["deflate me"] and compressed.transport.written == []

    closing = Protocol()
    closing.conn.state = State.CLOSING  # the client sent its close frame
    await _sender(cast(Any, Socket(closing)))(Outgoing("too late"))
    assert closing.slow_path == ["too late"] and closing.transport.written == []


async def test_frames_keep_their_order_when_a_socket_was_held_back() -> None:
    protocol = Protocol()
    socket = cast(Any, Socket(protocol))
    conn = Connection(Viewer(), "json", 10)
    conn.direct = _direct(socket)
    sender = asyncio.create_task(_send(socket, conn))
    try:
        conn.send(Outgoing("1"))  # written at once, by the hub itself
        assert protocol.transport.order == ["1"]
        protocol.writable.clear()  # the client stopped reading
        conn.send(Outgoing("2"))  # queued: the sender takes it and waits
        await wait_until(lambda: conn.busy)
        protocol.writable.set()  # the client reads again...
        conn.send(Outgoing("3"))  # ...and "3" must not overtake "2"
        conn.send(Outgoing("4"))
        await wait_until(lambda: len(protocol.transport.order) == 4)
        assert protocol.transport.order == ["1", "2", "3", "4"]
        conn.send(Outgoing("5"))
        await wait_until(lambda: len(protocol.transport.order) == 5)
        assert protocol.transport.written[-1] == Outgoing("5").frame  # direct again
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
