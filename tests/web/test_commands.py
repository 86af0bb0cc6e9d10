"""A command reads a JSON body strictly and a form's strings as the pages type them, and a
field that fails answers that field's error, naming the field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
import pytest_asyncio
from pydantic import Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from errors import N_, DomainError, InvalidInput
from web.commands import (
    Collapsed,
    Command,
    Flag,
    Integer,
    Invalid,
    Money,
    Shape,
    command,
    parse,
)
from web.errors import HANDLERS
from web.i18n import parse_money


class TooMany(DomainError):
    code = "too_many"
    status = 422
    message = N_("From %(low)s to %(high)s.")


class Line(Shape):
    product_id: Annotated[Integer, Invalid(DomainError)]
    quantity: Annotated[Integer, Field(ge=1, le=5), Invalid(TooMany, low=1, high=5)]


class Order(Command):
    name: Annotated[Collapsed, Field(min_length=1, max_length=10)]
    quantity: Annotated[Integer, Field(ge=1, le=5), Invalid(TooMany, low=1, high=5)] = 1
    tip: Money | None = None
    urgent: Flag = False
    lines: list[Line] = []


async def take(request: Request) -> Response:
    order = await command(
        request, Order,
        form=lambda data: {**data, "lines": [{"product_id": k[4:], "quantity": v}
                                             for k, v in data.items() if k.startswith("qty-")]},
    )
    return JSONResponse(order.model_dump())


@pytest_asyncio.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=[Route("/api/order", take, methods=["POST"])],  # /api/: JSON errors
                    exception_handlers=HANDLERS)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as made:
        yield made


async def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code >= 400, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


async def test_json_is_read_strictly_and_unknown_fields_are_ignored(
    client: httpx.AsyncClient,
) -> None:
    ok = await client.post("/api/order", json={"name": "  Léa   B ", "quantity": 2, "tip": 150,
                                      "urgent": True, "extra": "ignored"})
    assert ok.json() == {"name": "Léa B", "quantity": 2, "tip": 150, "urgent": True,
                         "lines": []}
    for quantity in ("2", True, 2.5, None, 6):
        error = await error_of(await client.post("/api/order", json={"name": "Léa",
                                                            "quantity": quantity}))
        assert error == {"code": "too_many", "message": "From 1 to 5.", "field": "quantity"}


async def test_a_field_without_its_own_error_answers_the_commands(
    client: httpx.AsyncClient,
) -> None:
    error = await error_of(await client.post("/api/order", json={"name": ""}))
    assert (error["code"], error["field"]) == (InvalidInput.code, "name")
    assert error["message"]


async def test_the_innermost_field_names_the_error(client: httpx.AsyncClient) -> None:
    body = {"name": "Léa", "lines": [{"product_id": 1, "quantity": 1},
                                     {"product_id": 2, "quantity": 9}]}
    error = await error_of(await client.post("/api/order", json=body))
    assert (error["code"], error["field"]) == ("too_many", "lines.1.quantity")


async def test_a_form_is_read_as_the_pages_type_it(client: httpx.AsyncClient) -> None:
    ok = await client.post("/api/order", data={"name": "Léa", "quantity": " 3 ", "tip": "12,5",
                                      "urgent": "on", "qty-7": "2"})
    assert ok.json() == {"name": "Léa", "quantity": 3, "tip": 1250, "urgent": True,
                         "lines": [{"product_id": 7, "quantity": 2}]}
    error = await error_of(await client.post("/api/order", data={"name": "Léa", "quantity": "two"}))
    assert (error["code"], error["field"]) == ("too_many", "quantity")


class Pay(Command):
    tendered: Annotated[
        Money, Invalid(TooMany, low=0, high=1, malformed=Invalid(InvalidInput)),
    ]


def test_money_is_read_as_people_type_it() -> None:
    typed = {"50": 5000, "50,00": 5000, "50.00": 5000, " 1 250,5 ": 125050, "50 €": 5000,
             "0,05": 5, "1\u202f250,00": 125000}
    assert {text: parse_money(text) for text in typed} == typed
    for text in ("abc", "12,3,4", "-5", "3,001", "1e3", "", ",5", "5,", "٥٠"):
        assert parse_money(text) is None, text
    assert parse_money("350", 0) == 350 and parse_money("3,5", 0) is None


def test_a_malformed_value_has_its_own_error_apart_from_a_wrong_amount() -> None:
    for body in ({"tendered": "abc"}, {"tendered": "12,3,4"}, {"tendered": "-5"}):
        with pytest.raises(InvalidInput) as refused:
            parse(Pay, body, form=True)
        assert refused.value.code == "invalid_input", body
    with pytest.raises(TooMany):
        parse(Pay, {})  # left out: the field's own error, not "malformed"
    assert parse(Pay, {"tendered": "50,00"}, form=True).tendered == 5000
