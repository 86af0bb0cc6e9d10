"""Stripe for real, without the internet: the `stripe` package talks HTTP to a small fake
Stripe API (tests/machines/stripe_fake.py). Top-ups and paid drinks go to a hosted Checkout
Session, once per idempotency key; a drink that was paid and not made is refunded through
the session's PaymentIntent, once; Stripe refusing tells the consumer, charges nothing."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio
import stripe
from sqlalchemy import func, select, update
from starlette.applications import Starlette

from customers.models import Consumer
from demo.seed import DemoVenue
from machines import device_service
from machines.models import Brew, Machine
from payments.models import ProviderPayment
from payments.runtime import refund_due
from payments.service import topup_payment_key
from realtime.events import run
from tests.conftest import Database, client_for
from tests.conftest import test_settings as settings_for
from tests.machines.conftest import key
from tests.payments.stripe_fake import FakeStripe, serve_fake_stripe

SECRET_KEY = "sk_test_" + "k" * 20 + "Env1"
WEBHOOK_SECRET = "whsec_" + "w" * 24
PUBLIC = "http://127.0.0.1:8000"

fake_stripe = pytest_asyncio.fixture(serve_fake_stripe)


@pytest_asyncio.fixture
async def stripe_app(
    db: Database, venue: DemoVenue, fake_stripe: FakeStripe
) -> AsyncIterator[Starlette]:
    from app import create_app

    settings = settings_for(
        db.url, payment_provider="stripe", stripe_secret_key=SECRET_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET, stripe_api_base=fake_stripe.url,
        machine_sweep_s=3600,  # the tests run the refund sweep themselves
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def _sign_in(client: httpx.AsyncClient, venue: DemoVenue) -> None:
    email, password = venue.consumers[0]
    signed = await client.post("/api/v1/consumers/login", json={
        "machine": venue.machines[1].token, "email": email, "password": password})
    assert signed.status_code == 200


async def _webhook(app: Starlette, session_id: str, kind: str = "checkout.session.completed"
                   ) -> None:
    payload = json.dumps({
        "id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": kind,
        "data": {"object": {"id": session_id, "object": "checkout.session",
                            "payment_status": "paid"}},
    })
    header = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET)
    async with client_for(app) as stripe_server:
        answer = await stripe_server.post(
            "/api/v1/payments/stripe/webhook", content=payload,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        )
    assert answer.json()["outcome"] == "handled", answer.text


async def _topup_key(db: Database, venue: DemoVenue, client_key: str) -> str:
    """The key the signed-in consumer's top-up is stored (and sent to Stripe) under."""
    async with db.sessionmaker() as session:
        lea = await session.scalar(
            select(Consumer.id).where(Consumer.email == venue.consumers[0][0])
        )
    assert lea is not None
    return topup_payment_key(lea, client_key)


async def test_a_top_up_opens_one_checkout_session_per_key(
    stripe_app: Starlette, venue: DemoVenue, db: Database, fake_stripe: FakeStripe,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Everything an operator logs, and stripe's and ours in full. (The database driver's
    # DEBUG trace echoes every query parameter, passwords included: never on in production.)
    caplog.set_level(logging.INFO)
    for logger in ("stripe", "httpx", "machines", "web"):
        caplog.set_level(logging.DEBUG, logger=logger)
    async with client_for(stripe_app) as lea:
        await _sign_in(lea, venue)
        before = (await lea.get("/api/v1/consumers/me")).json()["balance"]
        topup_key = key()
        started = await lea.post("/api/v1/consumers/topups",
                                 json={"amount": 1000, "idempotency_key": topup_key},
                                 headers={"HX-Request": "true"})
        assert started.status_code == 201, started.text
        [call] = fake_stripe.posted("/v1/checkout/sessions")
        [session] = fake_stripe.sessions.values()
        # The phone goes straight to Stripe's hosted page: no Stripe script on ours.
        assert started.headers["HX-Redirect"] == session["url"]
        assert started.json()["payment"]["checkout_url"] == session["url"]
        assert session["url"].startswith("https://checkout.stripe.com/")
        assert call.headers["authorization"] == f"Bearer {SECRET_KEY}"
        stored_key = await _topup_key(db, venue, topup_key)
        assert call.headers["idempotency-key"] == stored_key
        assert call.form["mode"] == "payment"
        assert call.form["line_items[0][quantity]"] == "1"
        assert call.form["line_items[0][price_data][unit_amount]"] == "1000"
        assert call.form["line_items[0][price_data][currency]"] == "eur"
        assert call.form["client_reference_id"] == stored_key
        assert call.form["success_url"] == call.form["cancel_url"] == f"{PUBLIC}/account"

        # The phone retries (lost answer): the same page, no second session.
        again = await lea.post("/api/v1/consumers/topups",
                               json={"amount": 1000, "idempotency_key": topup_key})
        assert again.json()["payment"]["checkout_url"] == session["url"]
        assert len(fake_stripe.posted("/v1/checkout/sessions")) == 1

        # Two presses at once: one payment, and Stripe sees one key, so one session.
        twin = key()
        both = await asyncio.gather(*[
            lea.post("/api/v1/consumers/topups", json={"amount": 500, "idempotency_key": twin})
            for _ in range(2)
        ])
        assert len({r.json()["payment"]["checkout_url"] for r in both}) == 1
        assert len(fake_stripe.sessions) == 2
        async with db.sessionmaker() as s:
            count = await s.scalar(select(func.count()).select_from(ProviderPayment).where(
                ProviderPayment.idempotency_key == await _topup_key(db, venue, twin)))
        assert count == 1

        await _webhook(stripe_app, session["id"])
        assert (await lea.get("/api/v1/consumers/me")).json()["balance"] == before + 1000
    assert SECRET_KEY not in caplog.text and WEBHOOK_SECRET not in caplog.text


async def _payment_machine(db: Database, venue: DemoVenue) -> str:
    token = venue.machines[0].token
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(Machine).where(Machine.token == token)
            .values(mode="payment", online=True, last_seen_at=datetime.now(UTC))
        )
    return token


async def _order(phone: httpx.AsyncClient, token: str, kind: str) -> httpx.Response:
    menu = (await phone.get(f"/api/v1/machines/{token}")).json()
    drink = next(d for d in menu["drinks"] if d["type"] == kind)
    return await phone.post(f"/api/v1/machines/{token}/brews",
                            json={"product_id": drink["id"], "idempotency_key": key()})


async def test_a_paid_drink_not_made_is_refunded_through_its_payment_intent(
    stripe_app: Starlette, venue: DemoVenue, db: Database, fake_stripe: FakeStripe
) -> None:
    token = await _payment_machine(db, venue)
    async with client_for(stripe_app) as phone:
        menu = (await phone.get(f"/api/v1/machines/{token}")).json()
        price = next(d for d in menu["drinks"] if d["type"] == "espresso")["price"]
        started = await _order(phone, token, "espresso")
        assert started.status_code == 201, started.text
        [call] = fake_stripe.posted("/v1/checkout/sessions")
        [session] = fake_stripe.sessions.values()
        assert started.json()["redirect"] == session["url"]
        assert call.form["line_items[0][price_data][unit_amount]"] == str(price)
        assert call.form["line_items[0][price_data][currency]"] == "eur"
        assert call.form["success_url"] == f"{PUBLIC}/m/{token}"
        assert call.headers["idempotency-key"].startswith("brew:")
    brew_id = started.json()["brew"]["id"]

    intent = fake_stripe.pay(session["id"])
    await _webhook(stripe_app, session["id"])
    state = stripe_app.state.comptoir
    async with db.sessionmaker() as s:
        brew = await s.get(Brew, brew_id)
        assert brew is not None and brew.status == "requested"  # paid: sent to the machine
        machine_id = brew.machine_id

    # The machine fails the drink: the money goes back, once, however many sweeps run.
    for status in ("accepted", "failed"):
        report = device_service.Report(brew_id, status, None, "milk_pump")
        await run(state.sessionmaker, state.bus, lambda tx, r=report: device_service.report(
            tx, machine_id, r, datetime.now(UTC)))
    runtime = stripe_app.state.payments
    await refund_due(state.sessionmaker, state.bus, runtime)
    await refund_due(state.sessionmaker, state.bus, runtime)
    [refund] = fake_stripe.posted("/v1/refunds")
    assert refund.form == {"payment_intent": intent}
    async with db.sessionmaker() as s:
        payment = await s.scalar(select(ProviderPayment).where(
            ProviderPayment.provider_ref == session["id"]))
        assert payment is not None and payment.status == "refunded"
    assert refund.headers["idempotency-key"] == f"refund:{payment.id}"
    assert len(fake_stripe.refunds) == 1


async def test_stripe_refusing_tells_the_consumer_and_charges_nothing(
    stripe_app: Starlette, venue: DemoVenue, db: Database, fake_stripe: FakeStripe
) -> None:
    fake_stripe.refuse(400)
    token = await _payment_machine(db, venue)
    async with client_for(stripe_app) as lea:
        await _sign_in(lea, venue)
        before = (await lea.get("/api/v1/consumers/me")).json()["balance"]
        refused = await lea.post("/api/v1/consumers/topups",
                                 json={"amount": 1000, "idempotency_key": key()},
                                 headers={"Accept-Language": "en"})
        assert refused.status_code == 502
        error = refused.json()["error"]
        assert error["code"] == "payment_provider_error"
        assert "Nothing was charged" in error["message"]
        assert (await lea.get("/api/v1/consumers/me")).json()["balance"] == before

        drink = await _order(lea, token, "espresso")
        assert drink.status_code == 502
        async with db.sessionmaker() as s:
            brew = await s.scalar(select(Brew).order_by(Brew.id.desc()))
            assert brew is not None
            assert (brew.status, brew.reason) == ("failed", "payment_unavailable")
            statuses = set(await s.scalars(select(ProviderPayment.status)))
            assert statuses == {"failed"}
        assert (await lea.get("/api/v1/consumers/me")).json()["balance"] == before

        # Stripe is back: the machine was freed, the next drink goes to checkout.
        fake_stripe.error = None
        assert (await _order(lea, token, "espresso")).status_code == 201
