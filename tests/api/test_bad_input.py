"""Every bad request gets a clear 4xx error with a stable code, and changes nothing.

"Nothing" is checked on the database itself: carts, rounds, tickets, sessions, members,
payments, availability and topic versions (so no live event left either) are the same
before and after the refused request. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import func, select, update
from starlette.applications import Starlette

from accounts.models import Company, Site, Staff
from accounts.passwords import hash_password
from demo.seed import DemoVenue
from ordering.models import (
    Category,
    Member,
    OrderLine,
    Payment,
    Product,
    Round,
    RoundEdit,
    TableSession,
    Ticket,
)
from realtime.models import TopicVersion
from tests.conftest import Database, client_for
from web.models import RateLimit

CASHIER = ("caisse@cafe-de-la-gare.fr", "caisse-demo")
ADMIN = ("admin@cafe-de-la-gare.fr", "admin-demo")
KITCHEN = ("cuisine@cafe-de-la-gare.fr", "cuisine-demo")


def key() -> str:
    return uuid.uuid4().hex


def expect(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


async def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a refused request could have changed, in a comparable form."""
    queries = {
        "sessions": select(
            TableSession.id, TableSession.status, TableSession.round_count,
            TableSession.last_activity_at, TableSession.closed_at,
        ).order_by(TableSession.id),
        "members": select(Member.id, Member.session_id, Member.name).order_by(Member.id),
        "lines": select(
            OrderLine.id, OrderLine.member_id, OrderLine.product_id, OrderLine.quantity,
            OrderLine.note, OrderLine.round_id,
        ).order_by(OrderLine.id),
        "rounds": select(Round.id, Round.status, Round.revision, Round.reason).order_by(Round.id),
        "edits": select(RoundEdit.id).order_by(RoundEdit.id),
        "tickets": select(Ticket.id, Ticket.status).order_by(Ticket.id),
        "payments": select(Payment.id).order_by(Payment.id),
        "products": select(Product.id, Product.available).order_by(Product.id),
        "tries": select(RateLimit.scope, RateLimit.subject, RateLimit.hits).order_by(
            RateLimit.scope, RateLimit.subject
        ),
        "topics": select(TopicVersion.topic, TopicVersion.version).order_by(TopicVersion.topic),
    }
    async with db.sessionmaker() as session:
        return {
            name: [tuple(row) for row in (await session.execute(query)).all()]
            for name, query in queries.items()
        }


@asynccontextmanager
async def unchanged(db: Database, *, ignore: tuple[str, ...] = ()) -> AsyncIterator[None]:
    before = await snapshot(db)
    yield
    after = await snapshot(db)
    for name in ignore:
        before.pop(name)
        after.pop(name)
    assert after == before


async def login(client: httpx.AsyncClient, email: str, password: str) -> str:
    response = await client.post("/api/v1/staff/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    return token


@dataclass
class Party:
    """Léa opened table 1, Tom joined with the PIN; a stranger and a POS are at hand."""

    token: str
    table_id: int
    pin: str
    lea: httpx.AsyncClient
    tom: httpx.AsyncClient
    stranger: httpx.AsyncClient
    pos: httpx.AsyncClient  # not signed in until a test signs it in
    espresso: int
    croissant: int

    def url(self, rest: str = "") -> str:
        return f"/api/v1/tables/{self.token}{rest}"

    async def add(self, client: httpx.AsyncClient, product: int, quantity: Any = 1,
                  **extra: Any) -> httpx.Response:
        body = {"client_id": key(), "product_id": product, "quantity": quantity, **extra}
        return await client.post(self.url("/cart/lines"), json=body)

    async def submit(self, client: httpx.AsyncClient) -> httpx.Response:
        return await client.post(self.url("/rounds"), json={"idempotency_key": key()})

    async def view(self, client: httpx.AsyncClient) -> dict[str, Any]:
        response = await client.get(self.url())
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


@pytest_asyncio.fixture
async def party(app: Starlette, venue: DemoVenue) -> AsyncIterator[Party]:
    token = venue.table_tokens[0][1]
    async with AsyncExitStack() as stack:
        lea, tom, stranger, pos = [
            await stack.enter_async_context(client_for(app)) for _ in range(4)
        ]
        started = await lea.post(f"/api/v1/tables/{token}/start", json={"name": "Léa"})
        assert started.status_code == 201, started.text
        pin = started.json()["pin"]
        joined = await tom.post(f"/api/v1/tables/{token}/join", json={"name": "Tom", "pin": pin})
        assert joined.status_code == 200, joined.text
        state = (await lea.get(f"/api/v1/tables/{token}")).json()
        products = {
            p["name"]: p["id"] for c in state["menu"]["categories"] for p in c["products"]
        }
        yield Party(token, state["table"]["table"]["id"], pin, lea, tom, stranger, pos,
                    products["Espresso"], products["Croissant"])


async def submitted_round(party: Party) -> int:
    added = await party.add(party.lea, party.croissant, 2)
    assert added.status_code == 201, added.text
    sent = await party.submit(party.lea)
    assert sent.status_code == 201, sent.text
    round_id: int = sent.json()["round"]["id"]
    return round_id


async def lea_line(party: Party) -> int:
    added = await party.add(party.lea, party.espresso, 2, note="serré")
    assert added.status_code == 201, added.text
    line_id: int = added.json()["line"]["id"]
    return line_id


# Tables and products


async def test_unknown_table_token_is_404(app: Starlette, db: Database) -> None:
    async with client_for(app) as phone, unchanged(db):
        expect(await phone.get("/api/v1/tables/no-such-table"), 404, "unknown_table")
        expect(await phone.post("/api/v1/tables/no-such-table/start", json={"name": "Léa"}),
               404, "unknown_table")
        expect(await phone.get("/api/v1/tables/ab%00cd"), 404, "unknown_table")


async def test_add_line_refuses_unknown_foreign_and_sold_out_products(
    party: Party, db: Database, venue: DemoVenue
) -> None:
    async with db.sessionmaker() as session, session.begin():
        site = await session.get(Site, venue.site_id)
        assert site is not None
        annex = Site(company_id=site.company_id, name="Annexe", table_mode="order")
        session.add(annex)
        await session.flush()
        category = Category(site_id=annex.id, name="Cafés", station="bar")
        session.add(category)
        await session.flush()
        foreign = Product(site_id=annex.id, category_id=category.id, name="Ristretto", price=200)
        session.add(foreign)
        await session.execute(
            update(Product).where(Product.id == party.croissant).values(available=False)
        )
        await session.flush()
        foreign_id = foreign.id

    async with unchanged(db):
        expect(await party.add(party.lea, 999_999), 404, "unknown_product")
        expect(await party.add(party.lea, 10**30), 404, "unknown_product")
        expect(await party.add(party.lea, "1"), 404, "unknown_product")
        expect(await party.add(party.lea, foreign_id), 404, "unknown_product")
        expect(await party.add(party.lea, party.croissant), 409, "product_unavailable")
    assert (await party.view(party.lea))["table"]["session"]["cart"] == []


async def test_add_line_refuses_bad_quantities_notes_and_client_ids(
    party: Party, db: Database
) -> None:
    async with unchanged(db):
        for quantity in (0, 51, -1, "two", "2", True, 1.5, None):
            expect(await party.add(party.lea, party.espresso, quantity), 422, "bad_quantity")
        missing = {"client_id": key(), "product_id": party.espresso}
        expect(await party.lea.post(party.url("/cart/lines"), json=missing), 422, "bad_quantity")
        expect(await party.add(party.lea, party.espresso, note="x" * 201), 422, "note_too_long")
        expect(await party.add(party.lea, party.espresso, note=42), 422, "note_too_long")
        expect(await party.add(party.lea, party.espresso, note=["a"]), 422, "note_too_long")
        for client_id in ("short", "x" * 65, 12345678, None):
            body = {"client_id": client_id, "product_id": party.espresso, "quantity": 1}
            expect(await party.lea.post(party.url("/cart/lines"), json=body),
                   422, "invalid_input")

    # The limits are exactly those documented: 50 and 200 characters are accepted.
    accepted = await party.add(party.lea, party.espresso, 50, note="x" * 200)
    assert accepted.status_code == 201, accepted.text
    cart = (await party.view(party.lea))["table"]["session"]["cart"]
    assert [(ln["quantity"], len(ln["note"])) for ln in cart] == [(50, 200)]


async def test_a_refused_field_is_named(party: Party, db: Database) -> None:
    async with unchanged(db):
        refused = (await party.add(party.lea, party.espresso, "2")).json()["error"]
        assert (refused["code"], refused["field"]) == ("bad_quantity", "quantity")
        refused = (await party.add(party.lea, party.espresso, note=7)).json()["error"]
        assert (refused["code"], refused["field"]) == ("note_too_long", "note")
        malformed = (await party.lea.post(party.url("/cart/lines"), content=b"[]",
                                          headers={"content-type": "application/json"}))
        assert "field" not in malformed.json()["error"]


async def test_change_line_refuses_bad_quantities(party: Party, db: Database) -> None:
    line_id = await lea_line(party)
    async with unchanged(db):
        for quantity in (51, -1, "two", True, None):
            response = await party.lea.patch(
                party.url(f"/cart/lines/{line_id}"), json={"quantity": quantity}
            )
            expect(response, 422, "bad_quantity")
        expect(await party.lea.patch(party.url("/cart/lines/999999"), json={"quantity": 1}),
               404, "unknown_line")
        huge = party.url("/cart/lines/" + "9" * 30)
        response = await party.lea.patch(huge, json={"quantity": 1})
        assert response.status_code == 404, response.text

    # 0 is allowed on PATCH and removes the line.
    removed = await party.lea.patch(party.url(f"/cart/lines/{line_id}"), json={"quantity": 0})
    assert removed.status_code == 200, removed.text
    assert (await party.view(party.lea))["table"]["session"]["cart"] == []


async def test_names_must_be_1_to_40_characters(
    app: Starlette, venue: DemoVenue, party: Party, db: Database
) -> None:
    free_table = f"/api/v1/tables/{venue.table_tokens[1][1]}"
    async with client_for(app) as phone:
        async with unchanged(db):
            for name in ("", "   ", "x" * 41, 7, None):
                expect(await phone.post(f"{free_table}/start", json={"name": name}),
                       422, "bad_name")
                response = await party.stranger.post(
                    party.url("/join"), json={"name": name, "pin": party.pin}
                )
                expect(response, 422, "bad_name")
            assert (await phone.get(free_table)).json()["access"] == "start"
        started = await phone.post(f"{free_table}/start", json={"name": "x" * 40})
        assert started.status_code == 201, started.text


# Bodies, content types, CSRF and Origin


async def test_malformed_bodies_are_refused(party: Party, db: Database) -> None:
    as_json = {"content-type": "application/json"}
    async with unchanged(db):
        for content in (
            b'{"client_id": "abcdefgh", "product_id": ',  # cut short
            b"not json at all",
            b'[{"client_id": "abcdefgh", "product_id": 1, "quantity": 1}]',  # an array
            b'"a string"',
            b"\xff\xfe\x00",  # not UTF-8
            b"[" * 5000 + b"]" * 5000,  # absurdly deep
            b'{"client_id": "abcdefgh", "product_id": 1, "quantity": 1, "note": "a\\u0000b"}',
            b'{"client_id": "abcdefgh", "product_id": 1, "quantity": 1, "note": "\\ud800"}',
        ):
            response = await party.lea.post(party.url("/cart/lines"), content=content,
                                            headers=as_json)
            expect(response, 422, "bad_body")
        too_big = b'{"note": "' + b"x" * 70_000 + b'"}'
        response = await party.lea.post(party.url("/cart/lines"), content=too_big,
                                        headers=as_json)
        expect(response, 413, "body_too_large")
    assert (await party.view(party.lea))["table"]["session"]["cart"] == []


async def test_unsupported_content_type(app: Starlette, venue: DemoVenue, db: Database) -> None:
    free_table = venue.table_tokens[1][1]
    async with client_for(app) as staff:
        csrf = await login(staff, *CASHIER)
        async with unchanged(db):
            # Without the CSRF token a non-JSON body is refused before it is read …
            response = await staff.post(
                f"/api/v1/tables/{free_table}/start", content=b"name=Lea",
                headers={"content-type": "text/plain"},
            )
            expect(response, 403, "csrf")
            # … and with it, a body that is neither JSON nor a form is still refused.
            response = await staff.post(
                f"/api/v1/tables/{free_table}/start", content=b"name=Lea",
                headers={"content-type": "text/plain", "x-csrf-token": csrf},
            )
            expect(response, 415, "unsupported_media_type")
            response = await staff.post(
                f"/api/v1/tables/{free_table}/start", content=b"<name>Lea</name>",
                headers={"content-type": "application/xml", "x-csrf-token": csrf},
            )
            expect(response, 415, "unsupported_media_type")


async def test_form_post_needs_the_csrf_token(party: Party, db: Database) -> None:
    csrf = await login(party.pos, *CASHIER)
    url = f"/api/v1/staff/products/{party.espresso}/availability"
    async with unchanged(db):
        expect(await party.pos.post(url, data={"available": "false"}), 403, "csrf")
        response = await party.pos.post(
            url, data={"available": "false"}, headers={"x-csrf-token": "not-the-token"}
        )
        expect(response, 403, "csrf")
        # A diner's JSON client sending DELETE must say it is JSON, or carry the token.
        line_free = party.url("/cart/lines/1")
        expect(await party.lea.delete(line_free), 403, "csrf")

    done = await party.pos.post(url, data={"available": "false"}, headers={"x-csrf-token": csrf})
    assert done.status_code == 200, done.text
    assert done.json()["product"] == {"id": party.espresso, "available": False}
    expect(await party.add(party.lea, party.espresso), 409, "product_unavailable")


async def test_cross_origin_requests_are_refused(party: Party, db: Database) -> None:
    async with unchanged(db):
        for origin in ("https://evil.example", "null", "http://testserver.evil.example"):
            response = await party.lea.post(
                party.url("/cart/lines"),
                json={"client_id": key(), "product_id": party.espresso, "quantity": 1},
                headers={"origin": origin},
            )
            expect(response, 403, "csrf")
    same_site = await party.lea.post(
        party.url("/cart/lines"),
        json={"client_id": key(), "product_id": party.espresso, "quantity": 1},
        headers={"origin": "http://testserver"},
    )
    assert same_site.status_code == 201, same_site.text


# Diners' rights at the table


async def test_wrong_pin_then_lockout(app: Starlette, party: Party, db: Database) -> None:
    join = party.url("/join")
    wrong = "000000" if party.pin != "000000" else "111111"
    async with unchanged(db, ignore=("tries",)):
        for _ in range(5):
            response = await party.stranger.post(join, json={"name": "Eve", "pin": wrong})
            expect(response, 403, "wrong_pin")

    async with unchanged(db):
        # Out of tries means not checked: the right PIN is refused too, from this phone.
        response = await party.stranger.post(join, json={"name": "Eve", "pin": party.pin})
        expect(response, 429, "pin_locked")
        assert 0 < int(response.headers["retry-after"]) <= 600
        assert (await party.view(party.stranger))["access"] == "need_pin"
    async with client_for(app) as newcomer:  # the table saw five: others still join
        response = await newcomer.post(join, json={"name": "Zoé", "pin": party.pin})
        assert response.status_code == 200, response.text

    async with AsyncExitStack() as stack:
        for _ in range(5):  # five more phones, and the table has had ten
            guesser = await stack.enter_async_context(client_for(app))
            expect(await guesser.post(join, json={"name": "X", "pin": wrong}), 403, "wrong_pin")
        late = await stack.enter_async_context(client_for(app))
        async with unchanged(db):
            response = await late.post(join, json={"name": "Max", "pin": party.pin})
            expect(response, 429, "pin_slowed")
            assert 0 < int(response.headers["retry-after"]) <= 30

    await login(party.pos, *CASHIER)
    site_id = (await party.view(party.lea))["table"]["table"]["site_id"]
    board = (await party.pos.get(f"/api/v1/staff/sites/{site_id}/pos")).json()
    assert [(a["table_id"], a["kind"]) for a in board["alerts"]] == [
        (party.table_id, "pin_slowed")
    ]
    members = (await party.view(party.lea))["table"]["session"]["members"]
    assert [m["name"] for m in members] == ["Léa", "Tom", "Zoé"]


async def test_expired_session_tells_the_diner_it_ended(party: Party, db: Database) -> None:
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(TableSession)
            .where(TableSession.closed_at.is_(None))
            .values(last_activity_at=datetime.now(UTC) - timedelta(hours=3))
        )
    response = await party.add(party.lea, party.espresso)
    expect(response, 409, "session_ended")
    expect(await party.submit(party.tom), 409, "session_ended")

    state = await party.view(party.lea)
    assert state["access"] == "start" and state["table"]["session"] is None
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(OrderLine)) == 0
        closed = (await session.execute(select(TableSession.closed_at))).scalars().all()
        assert len(closed) == 1 and closed[0] is not None


async def test_non_member_cannot_order(party: Party, db: Database) -> None:
    line_id = await lea_line(party)
    async with unchanged(db):
        expect(await party.add(party.stranger, party.espresso), 403, "pin_required")
        response = await party.stranger.patch(
            party.url(f"/cart/lines/{line_id}"), json={"quantity": 3}
        )
        expect(response, 403, "pin_required")
        response = await party.stranger.delete(
            party.url(f"/cart/lines/{line_id}"), headers={"content-type": "application/json"}
        )
        expect(response, 403, "pin_required")
        expect(await party.submit(party.stranger), 403, "pin_required")
        expect(await party.stranger.post(party.url("/start"), json={"name": "Eve"}),
               403, "pin_required")
        state = await party.view(party.stranger)
    assert state["access"] == "need_pin"
    assert state["member_id"] is None
    assert state["table"]["session"] == {"status": "open"}


async def test_diner_cannot_change_another_diners_line(party: Party, db: Database) -> None:
    line_id = await lea_line(party)
    async with unchanged(db):
        response = await party.tom.patch(party.url(f"/cart/lines/{line_id}"), json={"quantity": 5})
        expect(response, 403, "not_your_line")
        response = await party.tom.patch(party.url(f"/cart/lines/{line_id}"), json={"quantity": 0})
        expect(response, 403, "not_your_line")
        response = await party.tom.delete(
            party.url(f"/cart/lines/{line_id}"), headers={"content-type": "application/json"}
        )
        expect(response, 403, "not_your_line")
    cart = (await party.view(party.tom))["table"]["session"]["cart"]
    assert [(ln["member"], ln["quantity"]) for ln in cart] == [("Léa", 2)]


async def test_submitting_an_empty_cart(party: Party, db: Database) -> None:
    async with unchanged(db):
        expect(await party.submit(party.lea), 409, "empty_cart")
        for bad_key in ("short", None, 12345678, "k" * 65):
            response = await party.lea.post(party.url("/rounds"), json={"idempotency_key": bad_key})
            expect(response, 422, "invalid_input")
    assert (await party.view(party.lea))["table"]["session"]["rounds"] == []


# Staff


async def test_staff_must_be_signed_in(party: Party, db: Database, venue: DemoVenue) -> None:
    round_id = await submitted_round(party)
    staff = party.pos
    async with unchanged(db, ignore=("tries",)):  # the wrong password below is counted
        expect(await staff.get("/api/v1/staff/me"), 401, "not_signed_in")
        expect(await staff.get(f"/api/v1/staff/sites/{venue.site_id}/pos"), 401, "not_signed_in")
        expect(await staff.get(f"/api/v1/staff/sites/{venue.site_id}/stations/bar"),
               401, "not_signed_in")
        expect(await staff.get(f"/api/v1/staff/sites/{venue.site_id}/table-codes"),
               401, "not_signed_in")
        expect(await staff.post(f"/api/v1/staff/rounds/{round_id}/validate", json={}),
               401, "not_signed_in")
        expect(await staff.post(f"/api/v1/staff/tables/{party.table_id}/free", json={}),
               401, "not_signed_in")
        response = await staff.post(
            f"/api/v1/staff/products/{party.espresso}/availability", json={"available": False}
        )
        expect(response, 401, "not_signed_in")
        response = await staff.post(
            "/api/v1/staff/login", json={"email": CASHIER[0], "password": "wrong"}
        )
        expect(response, 401, "bad_login")
        expect(await staff.get("/api/v1/staff/me"), 401, "not_signed_in")


async def test_kitchen_cannot_validate_settle_or_print_qr_codes(
    party: Party, db: Database, venue: DemoVenue
) -> None:
    round_id = await submitted_round(party)
    await login(party.pos, *KITCHEN)
    async with unchanged(db):
        expect(await party.pos.post(f"/api/v1/staff/rounds/{round_id}/validate", json={}),
               403, "forbidden")
        response = await party.pos.post(
            f"/api/v1/staff/rounds/{round_id}/refuse", json={"reason": "Plus de croissants"}
        )
        expect(response, 403, "forbidden")
        response = await party.pos.post(
            f"/api/v1/staff/tables/{party.table_id}/settle",
            json={"method": "card", "idempotency_key": key()},
        )
        expect(response, 403, "forbidden")
        response = await party.pos.post(
            f"/api/v1/staff/tables/{party.table_id}/pin-limit/lift", json={}
        )
        expect(response, 403, "forbidden")
        expect(await party.pos.get(f"/api/v1/staff/sites/{venue.site_id}/table-codes"),
               403, "forbidden")
    rounds = (await party.view(party.lea))["table"]["session"]["rounds"]
    assert [r["status"] for r in rounds] == ["to_validate"]


async def test_edit_needs_current_revision_and_an_unvalidated_round(
    party: Party, db: Database
) -> None:
    round_id = await submitted_round(party)
    await login(party.pos, *CASHIER)
    edit = f"/api/v1/staff/rounds/{round_id}/edit"
    line_id = (await party.view(party.lea))["table"]["session"]["rounds"][0]["lines"][0]["id"]
    change = {"reason": "Plus que un croissant", "changes": [{"line_id": line_id, "quantity": 1}]}

    async with unchanged(db):
        for revision in (0, 2, True, "1", None):
            response = await party.pos.post(edit, json={**change, "expected_revision": revision})
            expect(response, 409, "stale_version")
        response = await party.pos.post(edit, json={**change, "expected_revision": 1,
                                                    "reason": ""})
        expect(response, 422, "reason_required")
        for bad in ([{"line_id": "x", "quantity": 1}], [{"line_id": 10**30, "quantity": 1}]):
            response = await party.pos.post(
                edit, json={**change, "changes": bad, "expected_revision": 1}
            )
            expect(response, 404, "unknown_line")
        response = await party.pos.post(edit, json={**change, "changes": "all",
                                                    "expected_revision": 1})
        expect(response, 422, "bad_body")

    first = await party.pos.post(edit, json={**change, "expected_revision": 1})
    assert first.status_code == 200, first.text
    assert first.json()["round"]["revision"] == 2
    async with unchanged(db):  # a second editor still holding revision 1
        expect(await party.pos.post(edit, json={**change, "expected_revision": 1}),
               409, "stale_version")

    validated = await party.pos.post(f"/api/v1/staff/rounds/{round_id}/validate", json={})
    assert validated.status_code == 200, validated.text
    async with unchanged(db):
        expect(await party.pos.post(edit, json={**change, "expected_revision": 2}),
               409, "bad_transition")
        expect(await party.pos.post(f"/api/v1/staff/rounds/{round_id}/refuse",
                                    json={"reason": "Trop tard"}), 409, "bad_transition")
    rounds = (await party.view(party.lea))["table"]["session"]["rounds"]
    assert [(r["status"], r["revision"]) for r in rounds] == [("validated", 2)]


async def test_invalid_ticket_transition(party: Party, db: Database, venue: DemoVenue) -> None:
    round_id = await submitted_round(party)
    await login(party.pos, *CASHIER)
    await party.pos.post(f"/api/v1/staff/rounds/{round_id}/validate", json={})
    kitchen = await party.pos.get(f"/api/v1/staff/sites/{venue.site_id}/stations/kitchen")
    ticket = kitchen.json()["tickets"][0]
    url = f"/api/v1/staff/tickets/{ticket['id']}/status"
    async with unchanged(db):
        expect(await party.pos.post(url, json={"status": "served"}), 409, "bad_transition")
        expect(await party.pos.post(url, json={"status": "eaten"}), 409, "bad_transition")
        expect(await party.pos.post(url, json={}), 409, "bad_transition")
        expect(await party.pos.post("/api/v1/staff/tickets/999999/status",
                                    json={"status": "ready"}), 404, "not_found")
    assert ticket["status"] == "queued"
    after = await party.pos.get(f"/api/v1/staff/sites/{venue.site_id}/stations/kitchen")
    assert after.json()["tickets"][0]["status"] == "queued"


async def test_settle_refuses_underpayment_and_waiting_rounds(party: Party, db: Database) -> None:
    round_id = await submitted_round(party)  # 2 croissants
    csrf = await login(party.pos, *CASHIER)
    settle = f"/api/v1/staff/tables/{party.table_id}/settle"
    async with unchanged(db):
        response = await party.pos.post(
            settle, json={"method": "card", "idempotency_key": key()}
        )
        expect(response, 409, "not_settleable")

    await party.pos.post(f"/api/v1/staff/rounds/{round_id}/validate", json={})
    due = 2 * 150
    async with unchanged(db):
        for tendered in (due - 1, 0, None):
            response = await party.pos.post(
                settle, json={"method": "cash", "tendered": tendered, "idempotency_key": key()}
            )
            expect(response, 422, "underpaid")
        # Not an amount at all: said so, not taken for too little money.
        for tendered in (-500, "300", True, 2.5):
            response = await party.pos.post(
                settle, json={"method": "cash", "tendered": tendered, "idempotency_key": key()}
            )
            expect(response, 422, "bad_amount")
        for typed in ("abc", "12,3,4", "-5", "3,001"):
            response = await party.pos.post(
                settle, data={"method": "cash", "tendered": typed, "idempotency_key": key()},
                headers={"x-csrf-token": csrf},
            )
            expect(response, 422, "bad_amount")
        response = await party.pos.post(
            settle, json={"method": "cash", "tendered": 10**30, "idempotency_key": key()}
        )
        expect(response, 422, "invalid_input")
        response = await party.pos.post(
            settle, json={"method": "cheque", "tendered": due, "idempotency_key": key()}
        )
        expect(response, 422, "invalid_input")
        response = await party.pos.post(settle, json={"method": "cash", "tendered": due})
        expect(response, 422, "invalid_input")
    table = (await party.view(party.lea))["table"]
    assert table["session"]["status"] == "open" and table["session"]["due"] == due

    paid = await party.pos.post(
        settle, json={"method": "cash", "tendered": due, "idempotency_key": key()}
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["payment"]["change"] == 0


async def test_staff_of_another_company_sees_nothing(
    app: Starlette, party: Party, db: Database, venue: DemoVenue
) -> None:
    async with db.sessionmaker() as session, session.begin():
        company = Company(name="Autre Café SAS", currency="EUR")
        session.add(company)
        await session.flush()
        own_site = Site(company_id=company.id, name="Autre Café", table_mode="order")
        session.add(own_site)
        session.add(Staff(company_id=company.id, email="patron@autre-cafe.fr", name="Patron",
                          role="admin", password_hash=hash_password("autre-demo")))
        await session.flush()
        own_site_id = own_site.id
    round_id = await submitted_round(party)
    async with client_for(app) as cashier:
        await login(cashier, *CASHIER)
        await cashier.post(f"/api/v1/staff/rounds/{round_id}/validate", json={})
        kitchen = await cashier.get(f"/api/v1/staff/sites/{venue.site_id}/stations/kitchen")
        ticket_id = kitchen.json()["tickets"][0]["id"]

    other = party.pos
    await login(other, "patron@autre-cafe.fr", "autre-demo")
    site = venue.site_id
    async with unchanged(db):
        expect(await other.get(f"/api/v1/staff/sites/{site}/pos"), 404, "not_found")
        expect(await other.get(f"/api/v1/staff/sites/{site}/stations/kitchen"), 404, "not_found")
        for action, body in (("validate", {}), ("refuse", {"reason": "non"}),
                             ("edit", {"expected_revision": 1, "reason": "non"})):
            response = await other.post(f"/api/v1/staff/rounds/{round_id}/{action}", json=body)
            expect(response, 404, "unknown_round")
        response = await other.post(f"/api/v1/staff/tickets/{ticket_id}/status",
                                    json={"status": "ready"})
        expect(response, 404, "unknown_round")
        response = await other.post(
            f"/api/v1/staff/tables/{party.table_id}/settle",
            json={"method": "cash", "tendered": 10_000, "idempotency_key": key()},
        )
        expect(response, 404, "not_found")
        expect(await other.post(f"/api/v1/staff/tables/{party.table_id}/free", json={}),
               404, "not_found")
        response = await other.post(
            f"/api/v1/staff/products/{party.espresso}/availability", json={"available": False}
        )
        expect(response, 404, "not_found")
        # Scanning the table's QR code, it is a stranger: no PIN, no cart, no rounds.
        state = await party.view(other)
        assert state["access"] == "need_pin"
        assert state["table"]["session"] == {"status": "open"}
    # Its own site is there for it; the first site's table is as it was.
    own = await other.get(f"/api/v1/staff/sites/{own_site_id}/pos")
    assert own.status_code == 200, own.text
    assert own.json()["tables"] == []
    assert (await party.view(party.lea))["table"]["table"]["state"] == "in_production"


async def test_huge_ids_in_paths_are_not_found(
    party: Party, db: Database, venue: DemoVenue
) -> None:
    await login(party.pos, *CASHIER)
    huge = "9" * 25
    async with unchanged(db):
        for method, url in (
            ("GET", f"/api/v1/sites/{huge}/menu"),
            ("GET", f"/api/v1/staff/sites/{huge}/pos"),
            ("POST", f"/api/v1/staff/rounds/{huge}/validate"),
            ("POST", f"/api/v1/staff/tables/{huge}/settle"),
            ("POST", f"/api/v1/staff/products/{huge}/availability"),
            ("POST", f"/api/v1/staff/tickets/{huge}/status"),
        ):
            response = await party.pos.request(method, url, json={} if method == "POST" else None)
            assert response.status_code == 404, (url, response.text)
            assert response.json()["error"]["code"] == "http_404"
        response = await party.pos.get(f"/api/v1/staff/sites/{venue.site_id}/stations/a%00b")
        expect(response, 404, "not_found")


async def test_huge_ids_in_machine_and_payment_paths_are_not_found(
    party: Party, db: Database
) -> None:
    """An id too large for the database is a 404 at routing, never a driver error (500):
    the company of a Stripe webhook URL included, which anyone may call."""
    await login(party.pos, *ADMIN)
    huge = "9" * 25
    async with unchanged(db):
        for method, url in (
            ("POST", f"/api/v1/payments/stripe/webhook/{huge}"),
            ("POST", f"/api/v1/staff/machines/{huge}/mode"),
            ("DELETE", f"/api/v1/staff/machines/{huge}"),
            ("POST", f"/api/v1/staff/consumers/{huge}/credit"),
            ("PATCH", f"/api/v1/staff/groups/{huge}"),
            ("PATCH", f"/api/v1/staff/selections/{huge}"),
            ("DELETE", f"/api/v1/staff/drinks/{huge}"),
        ):
            response = await party.pos.request(method, url, json={})
            assert response.status_code == 404, (url, response.text)
            assert response.json()["error"]["code"] == "http_404"
        page = await party.pos.get(f"/staff/machines/{huge}")
        assert page.status_code == 404
