"""Any input the API document allows, sent as any role, gets a documented answer, never a 5xx.

Schemathesis draws a few requests for every operation of the served OpenAPI document; each
one is sent as every role (nobody, a diner at an open table, each staff role, a customer)
to the demo app, and each answer is checked against the document: no server error, a
documented status, content type and body. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.applications import Starlette

from demo.seed import STAFF, DemoVenue
from tests.api.test_openapi import strict
from tests.conftest import client_for

# A longer run by hand: API_FUZZ_EXAMPLES=50 pytest tests/api/test_any_input.py
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "3"))  # per operation, sent as every role
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
T = TypeVar("T")


@dataclass
class Role:
    """Who sends: the `comptoir` cookie they hold and, for staff, their CSRF token."""

    name: str
    cookie: str | None = None
    csrf: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def sign(self, headers: dict[str, str], method: str, has_body: bool) -> dict[str, str]:
        signed = {k: v for k, v in headers.items() if k.lower() not in ("cookie", "x-csrf-token")}
        if self.cookie:
            signed["Cookie"] = f"comptoir={self.cookie}"
        if self.csrf:
            signed["X-CSRF-Token"] = self.csrf
        elif method in UNSAFE and not has_body:
            # Diners' API clients say JSON rather than fetch a CSRF token (see CsrfToken).
            signed["Content-Type"] = "application/json"
        return signed


def _cookie(client: httpx.AsyncClient) -> str:
    value = client.cookies.get("comptoir")
    assert value, "no session cookie"
    return value


async def _roles(app: Starlette, venue: DemoVenue) -> list[Role]:
    token = venue.table_tokens[0][1]
    roles = [Role("anonymous")]
    async with client_for(app) as diner:
        started = await diner.post(f"/api/v1/tables/{token}/start", json={"name": "Léa"})
        assert started.status_code == 201, started.text
        roles.append(Role("diner", _cookie(diner)))
    for email, _, role, password in STAFF:
        async with client_for(app) as staff:
            signed = await staff.post("/api/v1/staff/login",
                                      json={"email": email, "password": password})
            assert signed.status_code == 200, signed.text
            roles.append(Role(role, _cookie(staff), signed.json()["csrf_token"]))
    (email, password), machine = venue.consumers[0], venue.machines[0]
    async with client_for(app) as consumer:
        signed = await consumer.post("/api/v1/consumers/login", json={
            "machine": machine.token, "email": email, "password": password})
        assert signed.status_code == 200, signed.text
        roles.append(Role("consumer", _cookie(consumer)))
    return roles


def _known(path: str, venue: DemoVenue) -> dict[str, Any]:
    """Path parameters a random string would never hit: the demo's own tokens, so that
    requests get past "not found" into the rules."""
    if path.startswith("/api/v1/tables/"):
        return {"token": venue.table_tokens[0][1]}
    if path.startswith("/api/v1/machines/"):
        return {"token": venue.machines[0].token}
    if "{site_id}" in path:
        return {"site_id": venue.site_id}
    return {}


async def test_no_input_gets_a_server_error_from_any_operation_as_any_role(
    app: Starlette, venue: DemoVenue
) -> None:
    loop = asyncio.get_running_loop()
    roles = await _roles(app, venue)
    async with client_for(app) as client:
        document = (await client.get("/api/v1/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(strict(document))  # no undocumented field

    def wait(coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    async def send(kwargs: dict[str, Any], role: Role) -> httpx.Response:
        body = kwargs.get("json", kwargs.get("data"))
        content = json.dumps(kwargs["json"]) if "json" in kwargs else kwargs.get("data")
        headers = role.sign(dict(kwargs["headers"]), kwargs["method"], body is not None)
        # A fresh client each time: no cookie a response sets (a sign-out…) is kept.
        async with client_for(app) as fresh:
            return await fresh.request(kwargs["method"], kwargs["url"], headers=headers,
                                       params=kwargs.get("params"), content=content)

    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == sum(len(item) for item in document["paths"].values())
    for operation in operations:
        strategy = operation.as_strategy(path_parameters=_known(operation.path, venue) or None)

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  derandomize="API_FUZZ_EXAMPLES" not in os.environ,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def each(case: schemathesis.Case) -> None:
            kwargs = case.as_transport_kwargs(base_url="http://testserver")
            for role in roles:
                response = wait(send(kwargs, role))
                try:
                    case.validate_response(response, checks=CHECKS)
                except FailureGroup as failure:
                    raise AssertionError(f"as {role.name}: {failure.message}") from None

        try:
            await asyncio.to_thread(each)
        except AssertionError as failure:
            failures.append(f"{operation.method.upper()} {operation.path} {failure}")
    assert not failures, "\n\n".join(failures)


MAX_ID = 2**63 - 1  # what both databases hold in a BIGINT (every id and amount)


def _integers(node: Any, components: dict[str, Any], where: str,
              seen: frozenset[str] = frozenset()) -> list[tuple[str, dict[str, Any]]]:
    """Every integer schema under `node` (references followed), with where it is."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, list):
        for index, item in enumerate(node):
            found += _integers(item, components, f"{where}[{index}]", seen)
    elif isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in seen:
                found += _integers(components[name], components, f"{where}->{name}",
                                   seen | {name})
        if node.get("type") == "integer":
            found.append((where, node))
        for key, value in node.items():
            if key not in ("$ref", "example", "examples", "default", "const", "enum"):
                found += _integers(value, components, f"{where}.{key}", seen)
    return found


async def test_every_integer_a_request_carries_is_bounded_to_what_the_database_holds(
    app: Starlette,
) -> None:
    """Paths and bodies alike: an integer beyond its documented bounds is a 4xx before any
    rule or query runs, and the bounds fit a BIGINT column."""
    async with client_for(app) as client:
        document = (await client.get("/api/v1/openapi.json")).json()
    components = document["components"]["schemas"]
    unbounded = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            request = [operation.get("requestBody", {}),
                       *[p for p in operation.get("parameters", []) if "$ref" not in p],
                       *[document["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]
                         for p in operation.get("parameters", []) if "$ref" in p]]
            for spot, schema in _integers(request, components, where):
                low, high = schema.get("minimum"), schema.get("maximum")
                if low is None or high is None or low < -MAX_ID - 1 or high > MAX_ID:
                    unbounded.append(f"{spot}: {low}..{high}")
    assert not unbounded, "\n".join(unbounded)
