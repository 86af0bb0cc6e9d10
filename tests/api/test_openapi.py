"""The served OpenAPI document is valid 3.1 and describes exactly the routes the app mounts.

A route added under /api/v1 without documentation (or documentation left behind by a
removed route) fails here, and so does an error code nobody documented.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from jsonschema.exceptions import best_match
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route

from api.openapi import endpoints
from app import create_app
from demo.seed import DemoVenue
from errors import DomainError
from ordering.cart import Limits
from ordering.table_lock import Access
from settings import Settings
from tests.conftest import client_for

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture(scope="module")
def application() -> Starlette:
    # Routes and the document need no database: the lifespan is never started.
    return create_app(
        Settings(database_url="sqlite+aiosqlite:///:memory:", redis_url=None,
                 secret_key="test-secret")
    )


@pytest_asyncio.fixture
async def document(application: Starlette) -> AsyncIterator[dict[str, Any]]:
    async with client_for(application) as client:
        response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    yield response.json()


def _walk(routes: Iterable[BaseRoute], prefix: str = "") -> Iterable[tuple[str, str]]:
    for route in routes:
        if isinstance(route, Mount):
            yield from _walk(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            for method in route.methods or ():
                if method != "HEAD":  # Starlette adds HEAD to every GET by itself
                    yield prefix + route.path, method.lower()


def mounted(application: Starlette) -> set[tuple[str, str]]:
    """(path, method) for every HTTP route under /api/v1, plus /healthz, as OpenAPI spells
    paths: `{line_id:id}` becomes `{line_id}`."""
    return {
        (re.sub(r"\{(\w+):\w+\}", r"{\1}", path), method)
        for path, method in _walk(application.routes)
        if path.startswith("/api/v1/") or path == "/healthz"
    }


def documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


async def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    errors = [str(error) for error in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []


async def test_every_mounted_route_is_documented_and_nothing_else(
    application: Starlette, document: dict[str, Any]
) -> None:
    routes = mounted(application)
    assert ("/api/v1/tables/{token}/cart/lines/{line_id}", "patch") in routes  # sanity
    assert ("/healthz", "get") in routes
    assert sorted(routes - documented(document)) == [], "mounted but not documented"
    assert sorted(documented(document) - routes) == [], "documented but not mounted"


async def test_every_operation_documents_its_errors_and_parameters(
    document: dict[str, Any],
) -> None:
    parameters = document["components"]["parameters"]
    for path, item in document["paths"].items():
        in_path = set(re.findall(r"\{(\w+)\}", path))
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            assert operation.get("description"), where
            declared = {
                parameters[p["$ref"].rsplit("/", 1)[1]]["name"] if "$ref" in p else p["name"]
                for p in operation.get("parameters", [])
            }
            assert in_path <= declared, where
            statuses = set(operation["responses"])
            assert any(s.startswith("2") for s in statuses), where
            if path.startswith("/api/v1/") and path != "/api/v1/openapi.json":
                errors = [s for s in statuses if s.startswith("4")]
                assert errors, where
                for status in errors:
                    schema = operation["responses"][status]["content"]["application/json"]
                    assert schema["schema"] == {"$ref": "#/components/schemas/Error"}, where


def _subclasses(cls: type[DomainError]) -> Iterable[type[DomainError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


async def test_every_error_code_is_documented(
    application: Starlette, document: dict[str, Any]
) -> None:
    """Every DomainError the app can raise (building it imported them all), plus the CSRF
    refusal, is listed in the ErrorCode schema."""
    codes = {cls.code for cls in [DomainError, *_subclasses(DomainError)]} | {"csrf"}
    schema = document["components"]["schemas"]["ErrorCode"]
    listed = {choice["const"] for choice in schema["anyOf"] if "const" in choice}
    assert sorted(codes - listed) == []
    assert {"unknown_table", "pin_locked", "bad_body", "not_signed_in"} <= listed


async def test_every_429_documents_its_retry_after_header(document: dict[str, Any]) -> None:
    refusals = [
        (path, method, operation["responses"]["429"])
        for path, item in document["paths"].items() for method, operation in item.items()
        if "429" in operation["responses"]
    ]
    assert {(path, method) for path, method, _ in refusals} >= {
        ("/api/v1/tables/{token}/join", "post"), ("/api/v1/staff/login", "post"),
        ("/api/v1/consumers/login", "post"),
    }
    for path, method, refusal in refusals:
        header = refusal["headers"]["Retry-After"]
        assert header["schema"] == {"type": "integer", "minimum": 1}, (path, method)


async def test_documented_limits_match_the_rules(document: dict[str, Any]) -> None:
    """The limits an integrator reads are the ones the server applies."""
    limits = Limits()
    paths = document["paths"]
    schemas = document["components"]["schemas"]

    def body(path: str, method: str) -> dict[str, Any]:
        schema: dict[str, Any] = paths[path][method]["requestBody"]["content"][
            "application/json"]["schema"]
        return schema["properties"]

    add = body("/api/v1/tables/{token}/cart/lines", "post")
    assert (add["quantity"]["minimum"], add["quantity"]["maximum"]) == (1, limits.max_quantity)
    change = body("/api/v1/tables/{token}/cart/lines/{line_id}", "patch")
    assert (change["quantity"]["minimum"], change["quantity"]["maximum"]) == (
        0, limits.max_quantity
    )
    assert schemas["Note"]["maxLength"] == limits.max_note_length
    assert (schemas["Name"]["minLength"], schemas["Name"]["maxLength"]) == (1, 40)
    assert (schemas["ClientKey"]["minLength"], schemas["ClientKey"]["maxLength"]) == (8, 64)
    assert add["client_id"] == {"$ref": "#/components/schemas/ClientKey"}
    submit = body("/api/v1/tables/{token}/rounds", "post")
    assert submit["idempotency_key"] == {"$ref": "#/components/schemas/ClientKey"}
    assert schemas["Money"]["type"] == "integer"
    assert set(schemas["Access"]["enum"]) == {access.value for access in Access}
    assert document["components"]["securitySchemes"]["session"] == {
        **document["components"]["securitySchemes"]["session"],
        "type": "apiKey", "in": "cookie", "name": "comptoir",
    }


def strict(node: Any) -> Any:
    """The document (or a part of it) with no room for undocumented fields: every object
    that lists its properties allows no other. A real answer carrying a field the document
    does not list fails the check."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    closed = {key: strict(value) for key, value in node.items()}
    if "properties" in closed and "additionalProperties" not in closed:
        closed["additionalProperties"] = False
    return closed


def conforms(body: Any, schema: dict[str, Any], components: dict[str, Any]) -> None:
    """`body` is what `schema` documents, strictly; else the deepest mismatch, named."""
    validator = OAS31Validator({**strict(schema), "components": components})
    worst = best_match(validator.iter_errors(body))
    while worst is not None and worst.context:  # anyOf: the alternative that came closest
        worst = max(worst.context, key=lambda e: len(e.absolute_path))
    if worst is not None:
        where = "/".join(str(step) for step in worst.absolute_path)
        raise AssertionError(f"at {where or 'the top'}: {worst.message}")


class Conformance:
    """Checks real responses against the schema the document gives for their status,
    strictly (no undocumented field)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.components = strict(document["components"])
        self.seen: set[tuple[str, str, int]] = set()

    def __call__(self, path: str, response: httpx.Response) -> dict[str, Any]:
        method = response.request.method.lower()
        operation = self.document["paths"][path][method]
        status = str(response.status_code)
        assert status in operation["responses"], (method, path, status, response.text)
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        body: dict[str, Any] = response.json()
        # The schema's "#/components/..." references resolve against this root.
        conforms(body, schema, self.components)
        self.seen.add((path, method, response.status_code))
        return body


def exercised_elsewhere(application: Starlette) -> set[tuple[str, str]]:
    """Operations of other capabilities (machines, payments, customers), exercised by their
    own tests (e.g. tests/machines/test_openapi.py)."""
    ours = ("ordering", "accounts", "api", "web")
    return {
        (path, endpoint.method) for path, endpoint in endpoints(application.routes)
        if getattr(endpoint.endpoint, "__module__", "").split(".")[0] not in ours
    }


async def test_real_responses_match_the_documented_schemas(
    app: Starlette, venue: DemoVenue
) -> None:
    async with client_for(app) as doc_client:
        served = await doc_client.get("/api/v1/openapi.json")
        check = Conformance(served.json())
        check("/api/v1/openapi.json", served)
    token = venue.table_tokens[0][1]
    t = "/api/v1/tables/{token}"
    s = "/api/v1/staff"
    site = venue.site_id
    async with client_for(app) as lea, client_for(app) as tom, client_for(app) as pos:
        check("/healthz", await lea.get("/healthz"))
        check(t, await lea.get(f"/api/v1/tables/{token}"))
        check(t, await lea.get("/api/v1/tables/nope"))
        pin = check(t + "/start", await lea.post(f"/api/v1/tables/{token}/start",
                                                  json={"name": "Léa"}))["pin"]
        # Collecting points needs a customer signed in (tests/pos/test_till_customers.py).
        check(t + "/customer", await lea.post(f"/api/v1/tables/{token}/customer", json={}))
        # A reward on the bill needs it too (tests/ordering/test_table_rewards.py).
        check(t + "/reward", await lea.post(f"/api/v1/tables/{token}/reward",
                                            json={"reward_id": 1, "idempotency_key": "rw-k-1"}))
        check(t + "/reward", await lea.request("DELETE", f"/api/v1/tables/{token}/reward",
                                               json={}))
        public = check(t, await tom.get(f"/api/v1/tables/{token}"))
        assert public["access"] == "need_pin"
        check(t + "/join", await tom.post(f"/api/v1/tables/{token}/join",
                                          json={"name": "Tom", "pin": "x"}))
        check(t + "/join", await tom.post(f"/api/v1/tables/{token}/join",
                                          json={"name": "Tom", "pin": pin}))
        async with client_for(app) as eve:  # out of tries: 429, with Retry-After
            for _ in range(5):
                await eve.post(f"/api/v1/tables/{token}/join", json={"name": "Eve", "pin": "x"})
            locked = await eve.post(f"/api/v1/tables/{token}/join",
                                    json={"name": "Eve", "pin": pin})
            check(t + "/join", locked)
            assert int(locked.headers["retry-after"]) > 0
        menu = check("/api/v1/sites/{site_id}/menu", await lea.get(f"/api/v1/sites/{site}/menu"))
        product = menu["categories"][0]["products"][0]["id"]
        lines = t + "/cart/lines"
        line = check(lines, await lea.post(
            f"/api/v1/tables/{token}/cart/lines",
            json={"client_id": "client-line-1", "product_id": product, "quantity": 2},
        ))["line"]
        check(lines, await lea.post(f"/api/v1/tables/{token}/cart/lines", json={"quantity": 0}))
        one = lines + "/{line_id}"
        check(one, await lea.patch(f"/api/v1/tables/{token}/cart/lines/{line['id']}",
                                   json={"quantity": 3}))
        check(one, await tom.patch(f"/api/v1/tables/{token}/cart/lines/{line['id']}",
                                   json={"quantity": 1}))
        check(one, await tom.delete(f"/api/v1/tables/{token}/cart/lines/999",
                                    headers={"content-type": "application/json"}))
        check(one, await tom.delete(f"/api/v1/tables/{token}/cart/lines/999"))
        member = check(t, await lea.get(f"/api/v1/tables/{token}"))
        assert member["access"] == "member" and member["table"]["session"]["cart"]
        # Paying from the phone needs a paying mode (tests/api/test_table_payments.py).
        check(t + "/checkout", await lea.post(f"/api/v1/tables/{token}/checkout",
                                              json={"idempotency_key": "pay-send-key-1"}))
        check(t + "/payments", await lea.post(f"/api/v1/tables/{token}/payments",
                                              json={"idempotency_key": "pay-bill-key-1"}))
        check(t + "/payments/{payment_id}/cancel",
              await lea.post(f"/api/v1/tables/{token}/payments/1/cancel", json={}))
        submit = {"idempotency_key": "round-key-1"}
        sent = check(t + "/rounds", await lea.post(f"/api/v1/tables/{token}/rounds", json=submit))
        again = check(t + "/rounds", await tom.post(f"/api/v1/tables/{token}/rounds", json=submit))
        assert again["duplicate"] and again["round"] == sent["round"]
        check(t + "/rounds", await tom.post(f"/api/v1/tables/{token}/rounds",
                                            json={"idempotency_key": "round-key-2"}))
        round_id = sent["round"]["id"]

        check(s + "/me", await pos.get("/api/v1/staff/me"))
        check(s + "/login", await pos.post("/api/v1/staff/login",
                                           json={"email": "x@example.org", "password": "x"}))
        check(s + "/login", await pos.post(
            "/api/v1/staff/login",
            json={"email": "caisse@cafe-de-la-gare.fr", "password": "caisse-demo"},
        ))
        check(s + "/me", await pos.get("/api/v1/staff/me"))
        codes = s + "/sites/{site_id}/table-codes"
        check(codes, await pos.get(f"/api/v1/staff/sites/{site}/table-codes"))  # a cashier
        board = check(s + "/sites/{site_id}/pos", await pos.get(f"/api/v1/staff/sites/{site}/pos"))
        assert [r["id"] for r in board["queue"]] == [round_id]
        # An order taken at the POS for another table: sent, retried, refused.
        order = s + "/tables/{table_id}/rounds"
        other = f"/api/v1/staff/tables/{board['tables'][1]['id']}/rounds"
        taken = {"idempotency_key": "pos-order-key-1",
                 "lines": [{"product_id": product, "quantity": 1, "note": "vite"}]}
        first = check(order, await pos.post(other, json=taken))
        assert check(order, await pos.post(other, json=taken))["duplicate"]
        assert first["round"]["status"] == "validated"
        check(order, await pos.post(other, json={"idempotency_key": "pos-order-key-2",
                                                 "lines": []}))
        check(order, await pos.post("/api/v1/staff/tables/999999/rounds", json=taken))
        check(t, await pos.get(f"/api/v1/tables/{token}"))  # staff: the full view
        rnd = s + "/rounds/{round_id}"
        check(rnd + "/edit", await pos.post(
            f"/api/v1/staff/rounds/{round_id}/edit",
            json={"expected_revision": 1, "reason": "Une de moins",
                  "changes": [{"line_id": line["id"], "quantity": 2}]},
        ))
        validate = f"/api/v1/staff/rounds/{round_id}/validate"
        check(rnd + "/validate", await pos.post(validate, json={}))
        check(rnd + "/refuse", await pos.post(f"/api/v1/staff/rounds/{round_id}/refuse",
                                              json={"reason": "Trop tard"}))
        station = check(s + "/sites/{site_id}/stations/{station}",
                        await pos.get(f"/api/v1/staff/sites/{site}/stations/bar"))
        ticket = s + "/tickets/{ticket_id}/status"
        ticket_id = station["tickets"][0]["id"]
        for status in ("ready", "served"):
            check(ticket, await pos.post(f"/api/v1/staff/tickets/{ticket_id}/status",
                                         json={"status": status}))
        check(ticket, await pos.post(f"/api/v1/staff/tickets/{ticket_id}/status",
                                     json={"status": "queued"}))
        avail = s + "/products/{product_id}/availability"
        check(avail, await pos.post(f"/api/v1/staff/products/{product}/availability",
                                    json={"available": False}))
        check(avail, await pos.post(f"/api/v1/staff/products/{product}/availability",
                                    json={"available": "no"}))
        check(order, await pos.post(other, json={"idempotency_key": "pos-order-key-3",
                                                 "lines": [{"product_id": product,
                                                            "quantity": 1}]}))  # sold out
        table_id = member["table"]["table"]["id"]
        settle = s + "/tables/{table_id}/settle"
        check(settle, await pos.post(f"/api/v1/staff/tables/{table_id}/settle",
                                     json={"method": "cash", "tendered": 1,
                                           "idempotency_key": "pay-key-1"}))
        paid = check(settle, await pos.post(f"/api/v1/staff/tables/{table_id}/settle",
                                            json={"method": "card",
                                                  "idempotency_key": "pay-key-1"}))
        assert paid["payment"]["change"] == 0
        settled = check(t, await lea.get(f"/api/v1/tables/{token}"))
        assert settled["access"] == "settled"
        check(s + "/tables/{table_id}/free", await pos.post(
            f"/api/v1/staff/tables/{table_id}/free", json={}))
        lift = s + "/tables/{table_id}/pin-limit/lift"
        check(lift, await pos.post(f"/api/v1/staff/tables/{table_id}/pin-limit/lift", json={}))
        check(lift, await pos.post("/api/v1/staff/tables/999999/pin-limit/lift", json={}))
        table_mode = s + "/tables/{table_id}/mode"
        site_mode = s + "/sites/{site_id}/mode"
        check(table_mode, await pos.post(f"/api/v1/staff/tables/{table_id}/mode",
                                         json={"mode": "menu"}))  # a cashier may not
        check(s + "/login", await pos.post(
            "/api/v1/staff/login",
            json={"email": "admin@cafe-de-la-gare.fr", "password": "admin-demo"},
        ))
        check(table_mode, await pos.post(f"/api/v1/staff/tables/{table_id}/mode",
                                         json={"mode": "menu"}))
        check(codes, await pos.get(f"/api/v1/staff/sites/{site}/table-codes"))  # an admin
        printed = s + "/sites/{site_id}/qr-printed"
        check(printed, await pos.post(f"/api/v1/staff/sites/{site}/qr-printed", json={}))
        check(printed, await pos.post("/api/v1/staff/sites/999999/qr-printed", json={}))
        check(site_mode, await pos.post(f"/api/v1/staff/sites/{site}/mode",
                                        json={"mode": "order"}))
        check(site_mode, await pos.post(f"/api/v1/staff/sites/{site}/mode",
                                        json={"mode": "takeaway"}))
        check(s + "/logout", await pos.post("/api/v1/staff/logout", json={}))
        check(order, await pos.post(other, json=taken))  # signed out
        check(s + "/sites/{site_id}/pos", await pos.get(f"/api/v1/staff/sites/{site}/pos"))
    # Every documented operation was exercised, and errors were checked as well as successes.
    own = documented(check.document) - exercised_elsewhere(app)
    assert {(path, method) for path, method, _ in check.seen} == own
    assert {status for _, _, status in check.seen} >= {200, 201, 401, 403, 404, 409, 422, 429}
