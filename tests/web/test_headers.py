"""Every response tells the browser what the page may load, who may frame it and what it
may tell other sites: pages of every kind, the JSON API, errors and static files alike."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from customers.models import Consumer, UserGroup
from demo.seed import DemoVenue
from machines.models import Machine, Selection
from ordering.models import DiningTable
from tests.conftest import Database, client_for
from tests.conftest import test_settings as settings_for

# What the policy must say, directive by directive; nothing may loosen it.
POLICY = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "object-src": {"'none'"},
    "base-uri": {"'none'"},
    "form-action": {"'self'"},
    "frame-ancestors": {"'none'"},
}
EMBEDDABLE = {"/account/loyalty"}  # the customer's loyalty space (loyalty/pages.py)
# A campaign mail previewed in the editor's frame (backoffice/campaign_pages.py): the mail's
# inline styles are allowed there only, under a policy that loads and runs nothing else.
MAIL_PREVIEW = {"/backoffice/campaigns/preview"}
MAIL_PREVIEW_POLICY = {
    "default-src": {"'none'"}, "style-src": {"'unsafe-inline'"}, "img-src": {"https:", "'self'"},
    "frame-ancestors": {"'self'"}, "sandbox": set(),
}
LOOSE = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:", "http:", "https:")


def directives(header: str) -> dict[str, set[str]]:
    parsed: dict[str, set[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0].lower()] = set(words[1:])
    return parsed


def assert_guarded(response: httpx.Response, https: bool = False) -> None:
    what = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    policy = response.headers.get("content-security-policy")
    assert policy, f"no Content-Security-Policy on {what}"
    parsed = directives(policy)
    if response.request.url.path in MAIL_PREVIEW:
        assert parsed == MAIL_PREVIEW_POLICY, f"{what}: {parsed}"
        assert response.headers.get("x-content-type-options") == "nosniff", what
        assert response.headers.get("x-frame-options") in (None, "SAMEORIGIN"), what
        return
    # The one page a venue may embed in its own site: any https page may frame it, and
    # X-Frame-Options (which cannot say so) is left out; the rest of its policy is as strict.
    embeddable = response.request.url.path in EMBEDDABLE
    expected = {**POLICY, "frame-ancestors": {"'self'", "https:"}} if embeddable else POLICY
    for name, sources in expected.items():
        assert parsed.get(name) == sources, f"{name} on {what}: {parsed.get(name)}"
    assert "'self'" in parsed.get("connect-src", set()), what  # the live channel
    for name, sources in parsed.items():
        if name not in ("img-src", "connect-src") and not (
                embeddable and name == "frame-ancestors"):
            assert not sources & set(LOOSE), f"{name} on {what} is loose: {sources}"
    assert {"'unsafe-inline'", "'unsafe-eval'", "*"}.isdisjoint(parsed.get("connect-src", set()))
    assert response.headers.get("x-content-type-options") == "nosniff", what
    assert response.headers.get("referrer-policy") in ("no-referrer", "same-origin"), what
    assert response.headers.get("x-frame-options") == (None if embeddable else "DENY"), what
    hsts = response.headers.get("strict-transport-security")
    if https:
        assert hsts and "max-age=" in hsts, what
        assert int(hsts.split("max-age=")[1].split(";")[0]) >= 180 * 86400
    else:
        assert hsts is None, f"HSTS over plain http on {what}"


def http_routes(routes: list[object], prefix: str = "") -> Iterator[tuple[str, Route | Mount]]:
    for route in routes:
        if isinstance(route, Mount) and route.routes:
            yield from http_routes(list(route.routes), prefix + route.path)
        elif isinstance(route, (Route, Mount)):
            yield prefix + route.path, route


async def login(
    client: httpx.AsyncClient, path: str, email: str, password: str, **more: str
) -> None:
    signed = await client.post(path, json={"email": email, "password": password, **more})
    assert signed.status_code == 200, signed.text


async def _values(db: Database, venue: DemoVenue) -> dict[str, str]:
    """A real value for each path parameter, so that most pages answer 200."""
    async with db.sessionmaker() as session:
        machine = await session.scalar(select(Machine).order_by(Machine.id))
        selection = await session.scalar(select(Selection).order_by(Selection.id))
        group = await session.scalar(select(UserGroup).order_by(UserGroup.id))
        consumer = await session.scalar(select(Consumer).order_by(Consumer.id))
        table = await session.scalar(select(DiningTable).order_by(DiningTable.id))
    assert machine and selection and group and consumer and table
    return {
        "site_id": str(venue.site_id), "table_id": str(table.id),
        "machine_id": str(machine.id), "selection_id": str(selection.id),
        "group_id": str(group.id), "consumer_id": str(consumer.id),
        "share": selection.share_token, "station": "bar", "code": "fr",
        "table_token": venue.table_tokens[0][1], "machine_token": venue.machines[-1].token,
    }


def concrete(path: str, values: dict[str, str]) -> str:
    if path.startswith(("/m/", "/api/v1/machines/")):
        path = path.replace("{token}", values["machine_token"])
    elif path.startswith(("/t/", "/api/v1/tables/")):
        path = path.replace("{token}", values["table_token"])
    for name, value in values.items():
        for pattern in ("{" + name + "}", "{" + name + ":id}"):
            path = path.replace(pattern, value)
    while "{" in path:  # anything else: a value that exists nowhere (a 404 is a response too)
        start = path.index("{")
        path = path[:start] + "nothing-here" + path[path.index("}", start) + 1:]
    return path


async def test_every_route_answers_with_the_browser_headers(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    values = await _values(db, venue)
    walked = 0
    async with client_for(app) as admin, client_for(app) as stranger:
        await login(admin, "/api/v1/staff/login", venue.staff[0][0], venue.staff[0][1])
        for path, route in http_routes(list(app.routes)):
            if isinstance(route, Mount):  # static files
                response = await stranger.get(path + "/app.css")
                assert response.status_code == 200
                assert_guarded(response)
                walked += 1
                continue
            url = concrete(path, values)
            for method in sorted((route.methods or set()) - {"HEAD"}):
                if method == "GET":
                    response = await admin.get(url)
                else:
                    # Unsigned JSON: reaches the route (JSON needs no CSRF token), changes
                    # nothing that matters to the walk, and its refusal is a response too.
                    response = await stranger.request(method, url, json={})
                assert response.status_code < 500, f"{method} {url}: {response.text[:300]}"
                assert_guarded(response)
                walked += 1
    assert walked > 90  # the whole app, not a corner of it


async def test_each_kind_of_page_carries_them(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    values = await _values(db, venue)
    table, machine = values["table_token"], values["machine_token"]
    async with client_for(app) as diner, client_for(app) as cashier, \
            client_for(app) as consumer, client_for(app) as admin:
        started = await diner.post(f"/api/v1/tables/{table}/start", json={"name": "Léa"})
        assert started.status_code == 201, started.text
        await login(cashier, "/api/v1/staff/login", "caisse@cafe-de-la-gare.fr", "caisse-demo")
        await login(admin, "/api/v1/staff/login", venue.staff[0][0], venue.staff[0][1])
        email, password = venue.consumers[0]
        await login(consumer, "/api/v1/consumers/login", email, password, machine=machine)
        pages = [
            (diner, f"/t/{table}", 200, "text/html"),  # a member's table page
            (diner, f"/m/{machine}", 200, "text/html"),
            (diner, f"/m/{machine}/qr.svg", 200, "image/svg+xml"),
            (diner, "/", 200, "text/html"),
            (cashier, f"/pos/{venue.site_id}", 200, "text/html"),
            (cashier, f"/pos/{venue.site_id}/station/bar", 200, "text/html"),
            (admin, "/staff/machines", 200, "text/html"),
            (admin, f"/staff/selections/{values['selection_id']}", 200, "text/html"),
            (consumer, "/account", 200, "text/html"),
            (diner, "/staff/login", 200, "text/html"),
            (diner, "/nowhere", 404, "text/html"),  # an error page
            (diner, "/t/no-such-table", 404, "text/html"),
            (cashier, "/staff/machines/payments", 403, "text/html"),
            (diner, f"/api/v1/tables/{table}", 200, "application/json"),
            (diner, "/api/v1/staff/me", 401, "application/json"),
            (diner, "/api/v1/openapi.json", 200, "application/json"),
            (diner, "/static/live.js", 200, "text/javascript"),
            (diner, "/static/vendor/htmx-2.0.8.min.js", 200, "text/javascript"),
            (diner, "/healthz", 200, "application/json"),
        ]
        for client, path, status, kind in pages:
            response = await client.get(path)
            assert response.status_code == status, (path, response.text[:300])
            assert response.headers["content-type"].startswith(kind), path
            assert_guarded(response)
        refused = await diner.post(f"/api/v1/tables/{table}/rounds", data={"x": "1"})
        assert refused.status_code == 403  # no CSRF token: refused before any route
        assert_guarded(refused)


async def test_https_adds_strict_transport_security(app: Starlette, venue: DemoVenue) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        for path in ("/", f"/t/{venue.table_tokens[0][1]}", "/api/v1/staff/me", "/static/app.css"):
            assert_guarded(await client.get(path), https=True)


async def test_a_public_https_address_adds_it_behind_a_proxy_too(
    db: Database, venue: DemoVenue
) -> None:
    from app import create_app

    app = create_app(settings_for(db.url, public_url="https://comptoir.example"))
    async with app.router.lifespan_context(app), client_for(app) as client:
        assert_guarded(await client.get("/"), https=True)


async def test_a_server_error_is_a_guarded_page_that_says_nothing_of_the_cause(
    app: Starlette,
) -> None:
    async def broken(request: object) -> None:
        raise RuntimeError("secret detail")

    app.router.routes.insert(0, Route("/broken-for-test", broken))
    app.router.routes.insert(0, Route("/api/v1/broken-for-test", broken))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for path, kind in (("/broken-for-test", "text/html"),
                           ("/api/v1/broken-for-test", "application/json")):
            response = await client.get(path)
            assert response.status_code == 500
            assert response.headers["content-type"].startswith(kind)
            assert "secret detail" not in response.text
            assert_guarded(response)
        answer = (await client.get("/api/v1/broken-for-test")).json()
        assert answer["error"]["code"] == "server_error"
