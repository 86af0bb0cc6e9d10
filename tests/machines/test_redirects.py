"""Every redirect stays on this site, and a test payment is settled only by the browser
that started it: the pages, the API and htmx's HX-Redirect alike."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from demo.seed import DemoVenue
from tests.conftest import client_for
from tests.machines.conftest import key

HOSTILE = ["//evil.example/phish", "/\\evil.example/phish", "/%5Cevil.example/phish",
           "%2F%2Fevil.example", "/%2F%2Fevil.example", "https://evil.example/"]


async def _signed_in(phone: httpx.AsyncClient, venue: DemoVenue) -> None:
    email, password = venue.consumers[0]
    signed = await phone.post("/api/v1/consumers/login", json={
        "machine": venue.machines[1].token, "email": email, "password": password})
    assert signed.status_code == 200, signed.text


async def _top_up(phone: httpx.AsyncClient) -> str:
    started = await phone.post("/api/v1/consumers/topups",
                               json={"amount": 500, "idempotency_key": key()})
    assert started.status_code == 201, started.text
    ref: str = started.json()["payment"]["checkout_url"].split("?")[0].rsplit("/", 1)[1]
    return ref


@pytest.mark.parametrize("back", HOSTILE)
async def test_the_test_payment_page_and_api_send_back_only_into_this_site(
    app: Starlette, venue: DemoVenue, back: str
) -> None:
    async with client_for(app) as phone:
        await _signed_in(phone, venue)
        ref = await _top_up(phone)
        page = await phone.get(f"/pay/test/{ref}", params={"back": back})
        assert page.status_code == 200
        assert 'href="/account"' in page.text and "evil" not in page.text
        declined = await phone.post(
            f"/api/v1/payments/test/{ref}", json={"outcome": "fail", "back": back},
            headers={"hx-request": "true"},
        )
        assert declined.status_code == 200, declined.text
        assert declined.headers["HX-Redirect"] == "/account"
        assert declined.json()["redirect"] == "/account"


@pytest.mark.parametrize("back", HOSTILE)
async def test_the_language_switch_sends_back_only_into_this_site(
    app: Starlette, back: str
) -> None:
    async with client_for(app) as browser:
        switched = await browser.get("/lang/en", params={"next": back})
        assert switched.status_code == 303
        assert switched.headers["location"] == "/"
    async with client_for(app) as browser:
        kept = await browser.get("/lang/en", params={"next": "/staff/login"})
        assert kept.headers["location"] == "/staff/login"


async def test_only_the_browser_that_started_a_test_payment_settles_it(
    app: Starlette, venue: DemoVenue
) -> None:
    async with client_for(app) as phone, client_for(app) as stranger:
        await _signed_in(phone, venue)
        start = (await phone.get("/api/v1/consumers/me")).json()["balance"]
        ref = await _top_up(phone)
        seen = await stranger.get(f"/pay/test/{ref}", headers={"Accept-Language": "fr"})
        assert seen.status_code == 403
        assert "un autre appareil" in seen.text and 'data-outcome' not in seen.text
        for outcome in ("succeed", "fail", "late"):
            tried = await stranger.post(f"/api/v1/payments/test/{ref}",
                                        json={"outcome": outcome})
            assert tried.status_code == 403
            assert tried.json()["error"]["code"] == "not_your_payment"
        assert (await phone.get(f"/pay/test/{ref}")).status_code == 200
        paid = await phone.post(f"/api/v1/payments/test/{ref}", json={"outcome": "succeed"})
        assert paid.json()["status"] == "succeeded"
        assert (await phone.get("/api/v1/consumers/me")).json()["balance"] == start + 500
