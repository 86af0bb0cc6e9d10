"""A request body is refused (413) once it passes its limit, as it arrives: a chunked body
without Content-Length is not read whole first, and one whose Content-Length is over the
limit is not read at all. A route meant for bigger bodies raises its own limit."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from demo.seed import DemoVenue
from tests.conftest import Database, Server, client_for
from tests.conftest import test_settings as settings_for
from web.body import MAX_BODY
from web.body_limit import BodyLimit, body_limit
from web.errors import HANDLERS

CHUNK = 4096
TEN_MB = 10 * 1024 * 1024


@dataclass
class Pulled:
    """What an app took of a body sent in CHUNK-sized pieces, and what it answered."""

    total: int
    declared: int | None = None
    read: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)

    async def receive(self) -> dict[str, Any]:
        if self.read >= self.total:
            await asyncio.Event().wait()  # the client sends nothing more (until cancelled)
        self.read += CHUNK
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": self.read < self.total}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])


async def post(app: Any, path: str, pulled: Pulled) -> Pulled:
    length = ([(b"content-length", str(pulled.declared).encode())] if pulled.declared is not None
              else [(b"transfer-encoding", b"chunked")])
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *length],
    }
    await asyncio.wait_for(app(scope, pulled.receive, pulled.send), 10)
    return pulled


async def test_a_chunked_ten_mb_body_is_refused_once_past_64_kib(
    app: Starlette, venue: DemoVenue
) -> None:
    token = venue.table_tokens[0][1]
    pulled = await post(app, f"/api/v1/tables/{token}/start", Pulled(TEN_MB))
    assert pulled.status == 413 and b'"body_too_large"' in pulled.body
    assert MAX_BODY < pulled.read <= MAX_BODY + CHUNK  # it stopped reading at the limit
    async with client_for(app) as lea:
        table = (await lea.get(f"/api/v1/tables/{token}")).json()["table"]
        assert table["session"] is None  # nothing was started


async def test_a_content_length_over_the_limit_is_refused_unread(
    app: Starlette, venue: DemoVenue
) -> None:
    token = venue.table_tokens[0][1]
    pulled = await post(app, f"/api/v1/tables/{token}/start", Pulled(TEN_MB, declared=TEN_MB))
    assert pulled.status == 413 and pulled.read == 0


async def test_a_route_that_reads_its_raw_body_is_bounded_too(db: Database) -> None:
    """Stripe's webhook reads its raw body itself (to check its signature), not through
    web/body.py: the limit holds all the same."""
    from app import create_app

    app = create_app(settings_for(db.url, payment_provider="stripe",
                                   stripe_secret_key="sk_test_x", stripe_webhook_secret="whsec_x"))
    async with app.router.lifespan_context(app):
        pulled = await post(app, "/api/v1/payments/stripe/webhook", Pulled(TEN_MB))
    assert pulled.status == 413 and pulled.read <= MAX_BODY + CHUNK


async def upload(request: Request) -> Response:
    return JSONResponse({"read": len(await request.body())})


def small_app() -> Starlette:
    return Starlette(
        routes=[Route("/api/small", upload, methods=["POST"]),
                Route("/api/upload", body_limit(1024 * 1024)(upload), methods=["POST"])],
        exception_handlers=HANDLERS,  # type: ignore[arg-type]
    )


async def test_a_route_can_take_a_bigger_body_and_stays_bounded() -> None:
    app = BodyLimit(small_app())
    taken = await post(app, "/api/upload", Pulled(512 * 1024))
    assert taken.status == 200 and taken.body == b'{"read":524288}'
    declared = await post(app, "/api/upload", Pulled(512 * 1024, declared=512 * 1024))
    assert declared.status == 200
    refused = await post(app, "/api/upload", Pulled(TEN_MB))
    assert refused.status == 413 and refused.read <= 1024 * 1024 + CHUNK
    small = await post(app, "/api/small", Pulled(512 * 1024))
    assert small.status == 413 and small.read <= MAX_BODY + CHUNK


async def test_a_real_server_answers_413_while_the_body_still_comes(
    db: Database, venue: DemoVenue, server_factory: type[Server]
) -> None:
    """A client that has sent 128 KiB of a chunked body, and says more is coming, gets its
    413 without sending the rest (before, the server waited for the whole body)."""
    server = server_factory({"DATABASE_URL": db.url, "REDIS_URL": ""})
    token = venue.table_tokens[0][1]
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(
            f"POST /api/v1/tables/{token}/start HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        for _ in range(32):
            writer.write(f"{CHUNK:x}\r\n".encode() + b"x" * CHUNK + b"\r\n")
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), 10)
        assert status.split()[1] == b"413", status
    finally:
        writer.close()
    async with httpx.AsyncClient(base_url=server.url) as lea:
        table = (await lea.get(f"/api/v1/tables/{token}")).json()["table"]
        assert table["session"] is None
