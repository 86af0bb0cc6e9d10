"""What a program built from the API document alone needs: the tables' tokens and QR URLs,
who and where a staff member is, and which round took the cart when phones send together."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from starlette.applications import Starlette

from demo.seed import STAFF, DemoVenue
from tests.api.test_bad_input import ADMIN, CASHIER, expect, key, login
from tests.conftest import client_for

PUBLIC_URL = "http://127.0.0.1:8000"  # the tests' settings keep the default


async def test_staff_who_may_print_get_every_tables_token_and_qr_url(
    app: Starlette, venue: DemoVenue
) -> None:
    site = venue.site_id
    async with client_for(app) as admin:
        await login(admin, *ADMIN)
        answer = await admin.get(f"/api/v1/staff/sites/{site}/table-codes")
        assert answer.status_code == 200, answer.text
        codes = answer.json()
        assert codes["site_id"] == site
        assert [(t["label"], t["token"]) for t in codes["tables"]] == venue.table_tokens
        first = codes["tables"][0]
        assert first["url"] == f"{PUBLIC_URL}/t/{first['token']}"
        # The token is the one the diners' routes take.
        table = await admin.get(f"/api/v1/tables/{first['token']}")
        assert table.json()["table"]["table"]["id"] == first["id"]
        # The QR sheet is made from the same list.
        sheet = await admin.get(f"/pos/{site}/qr")
        assert sheet.status_code == 200
        assert sheet.text.count('class="qr-card"') == len(codes["tables"])


async def test_table_codes_need_the_print_permission(app: Starlette, venue: DemoVenue) -> None:
    url = f"/api/v1/staff/sites/{venue.site_id}/table-codes"
    async with client_for(app) as nobody:
        expect(await nobody.get(url), 401, "not_signed_in")
    for email, password, role in venue.staff:
        if role in ("admin", "manager"):
            continue
        async with client_for(app) as staff:
            await login(staff, email, password)
            expect(await staff.get(url), 403, "forbidden")


async def test_staff_me_names_their_company_sites_and_permissions(
    app: Starlette, venue: DemoVenue
) -> None:
    async with client_for(app) as cashier:
        await login(cashier, *CASHIER)
        me = (await cashier.get("/api/v1/staff/me")).json()
    assert me["staff"]["role"] == "cashier"
    assert me["company"]["name"] == "Café de la Gare SARL"
    assert me["company"]["currency"] == "EUR" and me["company"]["id"] >= 1
    assert me["sites"] == [{"id": venue.site_id, "name": "Café de la Gare"}]
    assert "settle" in me["permissions"] and "print" not in me["permissions"]
    assert len(STAFF) == len(venue.staff)


async def test_phones_sending_together_make_one_round_and_the_others_are_told_which(
    app: Starlette, venue: DemoVenue
) -> None:
    token = venue.table_tokens[1][1]
    url = f"/api/v1/tables/{token}"
    async with AsyncExitStack() as stack:
        phones = [await stack.enter_async_context(client_for(app)) for _ in range(10)]
        pin = (await phones[0].post(url + "/start", json={"name": "Léa"})).json()["pin"]
        for number, phone in enumerate(phones[1:]):
            joined = await phone.post(url + "/join", json={"name": f"P{number}", "pin": pin})
            assert joined.status_code == 200, joined.text
        # Sending an empty cart when nothing was ever sent names no round.
        empty = await phones[0].post(url + "/rounds", json={"idempotency_key": key()})
        expect(empty, 409, "empty_cart")
        assert "detail" not in empty.json()["error"]
        menu = (await phones[0].get(url)).json()["menu"]
        product = menu["categories"][0]["products"][0]["id"]
        added = await phones[3].post(url + "/cart/lines", json={
            "client_id": key(), "product_id": product, "quantity": 2})
        assert added.status_code == 201, added.text

        answers = await asyncio.gather(*(
            phone.post(url + "/rounds", json={"idempotency_key": key()}) for phone in phones))
    made = [a for a in answers if a.status_code == 201]
    assert len(made) == 1, [a.text for a in answers]
    winner = made[0].json()["round"]
    for answer in answers:
        if answer is not made[0]:
            expect(answer, 409, "empty_cart")
            assert answer.json()["error"]["detail"] == {"round": winner}


async def test_a_late_send_names_the_round_that_took_the_cart(
    app: Starlette, venue: DemoVenue
) -> None:
    url = f"/api/v1/tables/{venue.table_tokens[2][1]}"
    async with client_for(app) as lea, client_for(app) as tom:
        pin = (await lea.post(url + "/start", json={"name": "Léa"})).json()["pin"]
        await tom.post(url + "/join", json={"name": "Tom", "pin": pin})
        menu = (await tom.get(url)).json()["menu"]
        added = await tom.post(url + "/cart/lines", json={
            "client_id": key(), "product_id": menu["categories"][0]["products"][0]["id"],
            "quantity": 1})
        assert added.status_code == 201, added.text
        sent = await tom.post(url + "/rounds", json={"idempotency_key": key()})
        assert sent.status_code == 201, sent.text
        late = await lea.post(url + "/rounds", json={"idempotency_key": key()})
    expect(late, 409, "empty_cart")
    assert late.json()["error"]["detail"]["round"] == sent.json()["round"]
