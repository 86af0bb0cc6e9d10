"""An operator sets the company's payment provider and Stripe keys: only staff who may
configure, keys never shown back (masked, empty fields keep them), and payments then go
through them instead of the environment's settings."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
import pytest_asyncio
import stripe
from sqlalchemy import select, text
from starlette.applications import Starlette

from customers.models import Consumer
from demo.seed import DemoVenue
from payments.secret_box import UnreadableSecret, box_for
from tests.conftest import Database, client_for
from tests.conftest import test_settings as settings_for
from tests.machines.conftest import key
from tests.payments.stripe_fake import FakeStripe, serve_fake_stripe

SECRET_KEY = "sk_live_" + "c" * 24 + "Own9"
WEBHOOK_SECRET = "whsec_" + "o" * 24 + "Wh42"
ENV_SECRET_KEY = "sk_test_" + "e" * 24
ENV_WEBHOOK_SECRET = "whsec_" + "e" * 24
SETTINGS = "/api/v1/staff/payment-settings"

fake_stripe = pytest_asyncio.fixture(serve_fake_stripe)


@pytest_asyncio.fixture
async def app(db: Database, venue: DemoVenue, fake_stripe: FakeStripe
              ) -> AsyncIterator[Starlette]:
    """The environment says: Stripe, with an account of its own."""
    from app import create_app

    application = create_app(settings_for(
        db.url, payment_provider="stripe", stripe_secret_key=ENV_SECRET_KEY,
        stripe_webhook_secret=ENV_WEBHOOK_SECRET, stripe_api_base=fake_stripe.url,
    ))
    async with application.router.lifespan_context(application):
        yield application


async def _staff(client: httpx.AsyncClient, venue: DemoVenue, role: str) -> None:
    email, password, _ = next(s for s in venue.staff if s[2] == role)
    signed = await client.post("/api/v1/staff/login", json={"email": email, "password": password})
    assert signed.status_code == 200


async def _consumer(client: httpx.AsyncClient, venue: DemoVenue) -> None:
    email, password = venue.consumers[0]
    await client.post("/api/v1/consumers/login", json={
        "machine": venue.machines[1].token, "email": email, "password": password})


def _no_secret(text: str) -> None:
    assert SECRET_KEY not in text and WEBHOOK_SECRET not in text
    assert SECRET_KEY[8:-4] not in text  # not even the middle of it


async def test_only_configuring_staff_see_or_change_them(app: Starlette, venue: DemoVenue
                                                         ) -> None:
    async with client_for(app) as cashier, client_for(app) as nobody:
        await _staff(cashier, venue, "cashier")
        assert (await cashier.get(SETTINGS)).json()["error"]["code"] == "forbidden"
        changed = await cashier.post(SETTINGS, json={"provider": "none"})
        assert changed.status_code == 403
        assert (await cashier.get("/staff/machines/payments")).status_code == 403
        assert (await nobody.get(SETTINGS)).status_code == 401


async def test_keys_are_kept_masked_and_used_for_the_companys_payments(
    app: Starlette, venue: DemoVenue, db: Database, fake_stripe: FakeStripe,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Everything an operator logs, and stripe's and ours in full. (The database driver's
    # DEBUG trace echoes every query parameter, passwords included: never on in production.)
    caplog.set_level(logging.INFO)
    for logger in ("stripe", "httpx", "machines", "web"):
        caplog.set_level(logging.DEBUG, logger=logger)
    async with client_for(app) as admin, client_for(app) as lea:
        await _staff(admin, venue, "admin")
        await _consumer(lea, venue)
        # Nothing saved: the environment's provider applies.
        assert (await admin.get(SETTINGS)).json()["source"] == "environment"
        await lea.post("/api/v1/consumers/topups", json={"amount": 500, "idempotency_key": key()})
        [call] = fake_stripe.posted("/v1/checkout/sessions")
        assert call.headers["authorization"] == f"Bearer {ENV_SECRET_KEY}"

        missing = await admin.post(SETTINGS, json={"provider": "stripe"})
        assert missing.json()["error"]["code"] == "stripe_keys_missing"
        wrong = await admin.post(SETTINGS, json={"provider": "stripe",
                                                 "stripe_secret_key": "pk_live_" + "x" * 20,
                                                 "stripe_webhook_secret": WEBHOOK_SECRET})
        assert wrong.json()["error"]["code"] == "bad_payment_settings"

        saved = await admin.post(SETTINGS, json={
            "provider": "stripe", "stripe_secret_key": SECRET_KEY,
            "stripe_webhook_secret": WEBHOOK_SECRET})
        assert saved.status_code == 200, saved.text
        view = saved.json()
        assert (view["provider"], view["source"]) == ("stripe", "company")
        assert view["stripe_secret_key"] == "sk_…Own9"
        assert view["stripe_webhook_secret"] == "whsec_…Wh42"
        _no_secret(saved.text)

        # Saving again with the fields left empty keeps the keys.
        again = await admin.post(SETTINGS, json={"provider": "stripe", "stripe_secret_key": "",
                                                 "stripe_webhook_secret": ""})
        assert again.json() == view
        page = await admin.get("/staff/machines/payments")
        assert "sk_…Own9" in page.text and "whsec_…Wh42" in page.text
        assert 'name="stripe_secret_key" type="password" value=""' in page.text
        assert f"/api/v1/payments/stripe/webhook/{await _company(db)}" in page.text
        for text in (page.text, (await admin.get("/staff/machines")).text,
                     (await admin.get(SETTINGS)).text):
            _no_secret(text)

        # The company's payments now go to Stripe with the company's key.
        started = await lea.post("/api/v1/consumers/topups",
                                 json={"amount": 1000, "idempotency_key": key()})
        assert started.status_code == 201, started.text
        call = fake_stripe.posted("/v1/checkout/sessions")[-1]
        assert call.headers["authorization"] == f"Bearer {SECRET_KEY}"
        session = list(fake_stripe.sessions.values())[-1]
        assert started.json()["payment"]["checkout_url"] == session["url"]
        _no_secret(started.text)

        # Its webhook: signed with the company's secret, at the company's own URL.
        before = (await lea.get("/api/v1/consumers/me")).json()["balance"]
        own = f"/api/v1/payments/stripe/webhook/{await _company(db)}"
        assert await _deliver(admin, own, session["id"], ENV_WEBHOOK_SECRET) == "bad_signature"
        # The environment's account cannot settle a payment made with the company's.
        assert await _deliver(admin, "/api/v1/payments/stripe/webhook", session["id"],
                              ENV_WEBHOOK_SECRET) == "ignored"
        assert (await lea.get("/api/v1/consumers/me")).json()["balance"] == before
        assert await _deliver(admin, own, session["id"], WEBHOOK_SECRET) == "handled"
        assert (await lea.get("/api/v1/consumers/me")).json()["balance"] == before + 1000

        # Back to no provider: top-ups are refused, nothing charged.
        await admin.post(SETTINGS, json={"provider": "none"})
        off = await lea.post("/api/v1/consumers/topups",
                             json={"amount": 1000, "idempotency_key": key()})
        assert off.json()["error"]["code"] == "payments_unavailable"
    _no_secret(caplog.text)


async def _company(db: Database) -> int:
    async with db.sessionmaker() as session:
        company_id = await session.scalar(select(Consumer.company_id))
        assert company_id is not None
        return company_id


async def _deliver(client: httpx.AsyncClient, url: str, session_id: str, secret: str) -> str:
    payload = json.dumps({
        "id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": "checkout.session.completed",
        "data": {"object": {"id": session_id, "object": "checkout.session",
                            "payment_status": "paid"}},
    })
    header = stripe.WebhookSignature.generate_signature_header(payload, secret)
    answer = await client.post(url, content=payload, headers={
        "Stripe-Signature": header, "Content-Type": "application/json"})
    data = answer.json()
    return str(data["outcome"] if answer.status_code == 200 else data["error"]["code"])


async def test_keys_are_stored_encrypted_and_unreadable_under_another_secret_key(
    app: Starlette, venue: DemoVenue, db: Database, fake_stripe: FakeStripe
) -> None:
    from app import create_app

    async with client_for(app) as admin:
        await _staff(admin, venue, "admin")
        saved = await admin.post(SETTINGS, json={
            "provider": "stripe", "stripe_secret_key": SECRET_KEY,
            "stripe_webhook_secret": WEBHOOK_SECRET})
        assert saved.status_code == 200, saved.text
    async with db.sessionmaker() as session:
        [(raw_key, raw_webhook)] = (await session.execute(text(
            "SELECT stripe_secret_key, stripe_webhook_secret FROM payment_settings"))).all()
    for raw in (raw_key, raw_webhook):
        assert raw.startswith("enc:v1:")
        _no_secret(raw)
    box = box_for("test-secret")  # the app's SECRET_KEY in these tests
    assert (box.open(raw_key), box.open(raw_webhook)) == (SECRET_KEY, WEBHOOK_SECRET)
    assert box.seal(SECRET_KEY) != raw_key  # a fresh nonce each time: equal keys don't show
    with pytest.raises(UnreadableSecret):
        box_for("another-secret").open(raw_key)

    # The server comes back with another SECRET_KEY: the keys cannot be read.
    rotated = create_app(replace(settings_for(
        db.url, payment_provider="stripe", stripe_secret_key=ENV_SECRET_KEY,
        stripe_webhook_secret=ENV_WEBHOOK_SECRET, stripe_api_base=fake_stripe.url,
    ), secret_key="another-secret"))
    async with rotated.router.lifespan_context(rotated), client_for(rotated) as admin, \
            client_for(rotated) as lea:
        await _staff(admin, venue, "admin")
        await _consumer(lea, venue)
        page = await admin.get("/staff/machines/payments")
        assert page.status_code == 200
        assert "data-unreadable" in page.text and "Saisissez à nouveau les deux clés" in page.text
        view = (await admin.get(SETTINGS)).json()
        assert view["unreadable"] is True and view["stripe_secret_key"] == ""
        before = (await lea.get("/api/v1/consumers/me")).json()["balance"]
        refused = await lea.post("/api/v1/consumers/topups",
                                 json={"amount": 500, "idempotency_key": key()})
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "payment_keys_unreadable"
        assert "saisir à nouveau les deux clés" in refused.json()["error"]["message"]
        assert fake_stripe.posted("/v1/checkout/sessions") == []  # nobody charged
        assert (await lea.get("/api/v1/consumers/me")).json()["balance"] == before
        # Keeping the unreadable keys is refused; entering them again works.
        kept = await admin.post(SETTINGS, json={"provider": "stripe"})
        assert kept.json()["error"]["code"] == "payment_keys_unreadable"
        again = await admin.post(SETTINGS, json={
            "provider": "stripe", "stripe_secret_key": SECRET_KEY,
            "stripe_webhook_secret": WEBHOOK_SECRET})
        assert again.json()["unreadable"] is False
        assert again.json()["stripe_secret_key"] == "sk_…Own9"
        assert "data-unreadable" not in (await admin.get("/staff/machines/payments")).text
        started = await lea.post("/api/v1/consumers/topups",
                                 json={"amount": 500, "idempotency_key": key()})
        assert started.status_code == 201, started.text
        call = fake_stripe.posted("/v1/checkout/sessions")[-1]
        assert call.headers["authorization"] == f"Bearer {SECRET_KEY}"
