"""The socket's outlet: a frame encoded once, written as is while the connection is open
and writable; backpressure, closing and compression take the server's own path, from a
sender task that exists only while frames wait."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.streams import StreamReader

from realtime.frames import Outgoing
from realtime.hub import CLOSE_RESYNC, Connection, Hub
from realtime.topics import Viewer
from realtime.websocket import RAW_SEND, SocketOutlet, serve_socket
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
        self.handshake_complete = True  # accepted
        self.request: object | None = object()  # the handshake, as uvicorn keeps it
        self.response: object | None = object()
        self.slow_path: list[str] = []

    async def send(self, message: dict[str, Any]) -> None:
        await self.writable.wait()
        if getattr(self, "disconnected", False):
            raise OSError("client disconnected")  # uvicorn's ClientDisconnected
        self.slow_path.append(message["text"])
        self.transport.order.append(message["text"])


class Socket:
    """Just enough of a Starlette WebSocket served by that protocol."""

    def __init__(self, protocol: Protocol) -> None:
        self.scope = {"query_string": b"", "state": {RAW_SEND: protocol.send}}
        self.incoming: asyncio.Queue[str] = asyncio.Queue()
        self.closed: tuple[int, str | None] | None = None

    async def accept(self) -> None:
        return None

    async def receive(self) -> dict[str, Any]:
        return {"type": "websocket.receive", "text": await self.incoming.get()}

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed = (code, reason)


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


def outlet(protocol: Protocol) -> SocketOutlet:
    return SocketOutlet(cast(Any, Socket(protocol)))


async def test_one_encoding_is_written_to_every_socket() -> None:
    text = Outgoing('{"type":"event","version":3,"data":"' + "é" * 200 + '"}')
    protocols = [Protocol() for _ in range(3)]
    for protocol in protocols:
        await outlet(protocol).send(text)
    written = [p.transport.written for p in protocols]
    assert all(len(w) == 1 for w in written)
    assert decode(written[0][0]) == text  # a frame any client reads
    assert written[0][0] is written[1][0] is written[2][0]  # encoded once
    assert all(p.slow_path == [] for p in protocols)


async def test_long_and_plain_texts_frame_correctly() -> None:
    protocol = Protocol()
    out = outlet(protocol)
    for text in ("pong", "x" * 125, "y" * 126, "z" * 70_000):
        await out.send(text)
    assert [decode(data) for data in protocol.transport.written] == [
        "pong", "x" * 125, "y" * 126, "z" * 70_000
    ]


async def test_a_socket_under_backpressure_waits_on_the_server_path() -> None:
    protocol = Protocol()
    out = outlet(protocol)
    protocol.writable.clear()  # the client stopped reading: the transport paused us
    waiting = asyncio.create_task(out.send(Outgoing("held back")))
    await asyncio.sleep(0.05)
    assert not waiting.done() and protocol.transport.written == []
    protocol.writable.set()
    await asyncio.wait_for(waiting, 5)
    assert protocol.slow_path == ["held back"]


async def test_the_handshake_is_let_go_once_the_socket_is_accepted() -> None:
    protocol = Protocol()
    outlet(protocol)
    assert protocol.request is None and protocol.response is None


async def test_compressed_and_closing_sockets_take_the_server_path() -> None:
    compressed = Protocol(compressed=True)
    await outlet(compressed).send(Outgoing("deflate me"))
    assert compressed.slow_path == ["deflate me"] and compressed.transport.written == []

    closing = Protocol()
    closing.conn.state = State.CLOSING  # the client sent its close frame
    await outlet(closing).send(Outgoing("too late"))
    assert closing.slow_path == ["too late"] and closing.transport.written == []


def serve(socket: Socket, hub: Hub, queue_size: int = 10) -> asyncio.Task[None]:
    return asyncio.create_task(
        serve_socket(cast(Any, socket), hub, cast(Any, None), Viewer(), queue_size)
    )


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def served(protocol: Protocol) -> tuple[asyncio.Task[None], Hub, Connection]:
    """One socket served by a hub of its own: its task, the hub and its connection."""
    hub = Hub()
    serving = serve(Socket(protocol), hub)
    try:
        await wait_until(lambda: bool(hub.connections))
    except BaseException:
        await stop(serving)
        raise
    return serving, hub, next(iter(hub.connections))


async def test_frames_keep_their_order_when_a_socket_was_held_back() -> None:
    protocol = Protocol()
    serving, _, conn = await served(protocol)
    try:
        conn.send(Outgoing("1"))  # written at once, by the hub itself
        assert protocol.transport.order == ["1"]
        protocol.writable.clear()  # the client stopped reading
        conn.send(Outgoing("2"))  # queued: the sender takes it and waits
        await wait_until(lambda: conn.queue is not None and not conn.queue)
        protocol.writable.set()  # the client reads again...
        conn.send(Outgoing("3"))  # ...and "3" must not overtake "2"
        conn.send(Outgoing("4"))
        await wait_until(lambda: len(protocol.transport.order) == 4)
        assert protocol.transport.order == ["1", "2", "3", "4"]
        await wait_until(lambda: conn.queue is None)
        conn.send(Outgoing("5"))
        assert protocol.transport.written[-1] == Outgoing("5").frame  # direct again
    finally:
        await stop(serving)


def tasks() -> set[asyncio.Task[Any]]:
    return asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[operator]


async def test_a_socket_has_a_sender_task_only_while_frames_wait() -> None:
    protocol = Protocol()
    serving, _, conn = await served(protocol)
    try:
        for number in range(20):
            conn.send(Outgoing(str(number)))
        assert tasks() == {serving} and conn.queue is None  # all written at once
        protocol.writable.clear()
        conn.send(Outgoing("held"))
        conn.send(Outgoing("back"))
        assert len(tasks()) == 2  # one sender, for the frames that wait
        protocol.writable.set()
        await wait_until(lambda: tasks() == {serving})
        assert protocol.transport.order[-2:] == ["held", "back"] and conn.queue is None
    finally:
        await stop(serving)


async def test_a_client_gone_while_frames_wait_ends_its_socket_quietly() -> None:
    protocol = Protocol()
    serving, hub, conn = await served(protocol)
    protocol.writable.clear()
    conn.send(Outgoing("never read"))
    protocol.disconnected = True  # the connection is lost: uvicorn wakes the waiting send
    protocol.writable.set()
    await asyncio.wait_for(serving, 5)  # ended, without an error
    assert hub.connections == set() and tasks() == set()


async def test_a_socket_held_back_too_long_is_closed_with_resync() -> None:
    stuck, fine = Protocol(), Protocol()
    stuck_socket = Socket(stuck)
    hub = Hub()
    serving = [serve(stuck_socket, hub, queue_size=3), serve(Socket(fine), hub, queue_size=3)]
    try:
        await wait_until(lambda: len(hub.connections) == 2)
        stuck.writable.clear()  # this client stopped reading
        for number in range(10):
            for conn in list(hub.connections):
                conn.send(Outgoing(str(number)))
        await asyncio.wait_for(serving[0], 5)  # the socket's own task ended...
        assert stuck_socket.closed == (CLOSE_RESYNC, "resync")  # ...closing it with 4000
        assert len(hub.connections) == 1  # the other one is still served, and got everything
        assert fine.transport.order == [str(number) for number in range(10)]
        assert tasks() == {serving[1]}
    finally:
        for task in serving:
            await stop(task)
