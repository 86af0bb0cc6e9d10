"""docs/nginx.conf in front of two app processes: pages, API and websockets pass, and a
change made through one process reaches the sockets held by the other."""

from __future__ import annotations

import contextlib

import httpx

from demo.seed import DemoVenue
from tests.conftest import REDIS_URL, Database, Server
from tests.deploy.conftest import Proxy
from tests.realtime.phones import Phone, receive, subscribe


async def test_sockets_on_both_app_processes_behind_nginx_see_a_change(
    shared: tuple[Database, DemoVenue], server_factory: type[Server], nginx: type[Proxy]
) -> None:
    db, venue = shared
    env = {"DATABASE_URL": db.url, "REDIS_URL": REDIS_URL}
    one, two = server_factory(env), server_factory(env)
    proxy = nginx([one.port, two.port])
    token = venue.table_tokens[0][1]

    async with Phone(proxy.url) as lea, Phone(proxy.url) as tom:
        state = await lea.scan(token)  # the page and its cookie, through the proxy
        await tom.scan(token)
        pin = await lea.start(token, "Léa")
        await tom.join(token, "Tom", pin)
        topic = state["topics"][0]
        espresso = state["menu"]["categories"][0]["products"][0]["id"]

        async with contextlib.AsyncExitStack() as stack:
            # Open sockets through nginx, as a page would (its own Origin), until both app
            # processes hold at least one.
            held: dict[str, list[tuple[object, int]]] = {}
            for attempt in range(8):
                phone = (lea, tom)[attempt % 2]
                ws = await stack.enter_async_context(phone.socket(origin=proxy.url))
                upstream = ws.response.headers["X-Comptoir-Upstream"]
                snapshot = await subscribe(ws, topic)
                held.setdefault(upstream, []).append((ws, snapshot["version"]))
                if len(held) == 2:
                    break
            assert set(held) == {f"127.0.0.1:{one.port}", f"127.0.0.1:{two.port}"}

            await tom.add(token, espresso, 2)  # through nginx, to either process

            for sockets in held.values():
                for ws, version in sockets:
                    event = await receive(ws)  # type: ignore[arg-type]
                    assert (event["event"], event["version"]) == ("cart.added", version + 1)
                    cart = event["data"]["view"]["session"]["cart"]
                    assert [(ln["member"], ln["quantity"]) for ln in cart] == [("Tom", 2)]


async def test_pages_keep_their_browser_headers_behind_nginx_and_https_is_told_by_it(
    shared: tuple[Database, DemoVenue], server_factory: type[Server], nginx: type[Proxy]
) -> None:
    db, venue = shared
    app = server_factory({"DATABASE_URL": db.url, "REDIS_URL": REDIS_URL})
    proxy = nginx([app.port, app.port])
    async with httpx.AsyncClient() as client:
        page = await client.get(f"{proxy.url}/t/{venue.table_tokens[0][1]}")
        assert page.status_code == 200
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in page.headers  # plain http here
        # What nginx says when it serves https (X-Forwarded-Proto, from 127.0.0.1 only).
        told = await client.get(f"{app.url}/", headers={"X-Forwarded-Proto": "https"})
        assert told.headers["strict-transport-security"].startswith("max-age=")
