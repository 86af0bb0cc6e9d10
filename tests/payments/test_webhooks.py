"""Stripe webhooks: Checkout Session events signed by the tests with the `stripe`
package's own helper, verified on the raw body; tampered, stale and replayed events change
nothing, and a bank debit settles only when Stripe says how it ended."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
import stripe
from sqlalchemy import select
from starlette.applications import Starlette

from customers.models import Consumer
from demo.seed import DemoVenue
from payments.models import ProviderPayment
from tests.conftest import Database, client_for
from tests.conftest import test_settings as settings_for

SECRET = "whsec_test_" + "s" * 24
WEBHOOK = "/api/v1/payments/stripe/webhook"


@pytest_asyncio.fixture
async def stripe_app(db: Database, venue: DemoVenue) -> AsyncIterator[Starlette]:
    from app import create_app

    settings = settings_for(
        db.url, payment_provider="stripe", stripe_secret_key="sk_test_" + "k" * 24,
        stripe_webhook_secret=SECRET, webhook_tolerance_s=300,
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def _pending_topup(db: Database, venue: DemoVenue, amount: int) -> tuple[int, str]:
    """A top-up as if Stripe had created its Checkout Session."""
    ref = f"cs_test_{uuid.uuid4().hex[:20]}"
    async with db.sessionmaker() as session, session.begin():
        lea = await session.scalar(select(Consumer).where(Consumer.email == venue.consumers[0][0]))
        assert lea is not None
        session.add(ProviderPayment(
            company_id=lea.company_id, consumer_id=lea.id, purpose="topup", amount=amount,
            currency="EUR", provider="stripe", provider_ref=ref,
            idempotency_key=f"topup:{uuid.uuid4().hex}",
        ))
        return lea.id, ref


def _event(ref: str, kind: str = "checkout.session.completed", paid: str = "paid") -> str:
    return json.dumps({
        "id": f"evt_{uuid.uuid4().hex[:20]}", "object": "event", "type": kind,
        "data": {"object": {"id": ref, "object": "checkout.session", "amount_total": 1000,
                            "payment_status": paid, "payment_intent": "pi_123"}},
    })


def _signed(payload: str, timestamp: int | None = None) -> dict[str, str]:
    header = stripe.WebhookSignature.generate_signature_header(payload, SECRET, timestamp)
    return {"Stripe-Signature": header, "Content-Type": "application/json; charset=utf-8"}


async def _balance(client: httpx.AsyncClient) -> int:
    me = await client.get("/api/v1/consumers/me")
    return int(me.json()["balance"])


async def test_signed_events_settle_once(
    stripe_app: Starlette, db: Database, venue: DemoVenue
) -> None:
    _, ref = await _pending_topup(db, venue, 1000)
    async with client_for(stripe_app) as stripe_server, client_for(stripe_app) as lea:
        await lea.post("/api/v1/consumers/login", json={
            "machine": venue.machines[1].token, "email": venue.consumers[0][0],
            "password": venue.consumers[0][1]})
        before = await _balance(lea)
        payload = _event(ref)

        # Tampered: signed, then changed on the way. Refused, nothing credited.
        headers = _signed(payload)
        tampered = payload.replace(ref, ref[:-1] + "X")
        refused = await stripe_server.post(WEBHOOK, content=tampered, headers=headers)
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "bad_signature"

        # Stale: a genuine signature from ten minutes ago (a captured request replayed).
        stale = await stripe_server.post(
            WEBHOOK, content=payload, headers=_signed(payload, int(time.time()) - 600)
        )
        assert stale.status_code == 400
        unsigned = await stripe_server.post(
            WEBHOOK, content=payload, headers={"Content-Type": "application/json"}
        )
        assert unsigned.status_code == 400
        assert await _balance(lea) == before

        valid = await stripe_server.post(WEBHOOK, content=payload, headers=_signed(payload))
        assert valid.status_code == 200 and valid.json()["outcome"] == "handled"
        assert await _balance(lea) == before + 1000

        # Stripe delivers at least once: the same event id again is acknowledged, ignored.
        replay = await stripe_server.post(WEBHOOK, content=payload, headers=_signed(payload))
        assert replay.status_code == 200 and replay.json()["outcome"] == "duplicate"
        # A different event about the same payment cannot credit it twice either.
        second = _event(ref)
        again = await stripe_server.post(WEBHOOK, content=second, headers=_signed(second))
        assert again.json()["outcome"] == "handled"
        assert await _balance(lea) == before + 1000


async def test_failed_payments_credit_nothing(
    stripe_app: Starlette, db: Database, venue: DemoVenue
) -> None:
    _, ref = await _pending_topup(db, venue, 500)
    payload = _event(ref, "checkout.session.async_payment_failed", "unpaid")
    async with client_for(stripe_app) as stripe_server:
        failed = await stripe_server.post(WEBHOOK, content=payload, headers=_signed(payload))
        assert failed.json()["outcome"] == "handled"
        late = _event(ref)  # a success arriving after the failure does not resurrect it
        await stripe_server.post(WEBHOOK, content=late, headers=_signed(late))
    async with db.sessionmaker() as session:
        payment = await session.scalar(
            select(ProviderPayment).where(ProviderPayment.provider_ref == ref)
        )
        assert payment is not None and payment.status == "failed"


async def _status(db: Database, ref: str) -> str:
    async with db.sessionmaker() as session:
        payment = await session.scalar(
            select(ProviderPayment).where(ProviderPayment.provider_ref == ref)
        )
        assert payment is not None
        return payment.status


async def test_a_bank_debit_settles_when_stripe_says_how_it_ended(
    stripe_app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(stripe_app) as stripe_server:
        async def send(payload: str) -> str:
            answer = await stripe_server.post(WEBHOOK, content=payload, headers=_signed(payload))
            assert answer.status_code == 200
            return str(answer.json()["outcome"])

        # Completed with a debit still on its way: not paid yet, nothing settles.
        _, debit = await _pending_topup(db, venue, 1000)
        assert await send(_event(debit, paid="unpaid")) == "ignored"
        assert await _status(db, debit) == "pending"
        assert await send(_event(debit, "checkout.session.async_payment_succeeded")) == "handled"
        assert await _status(db, debit) == "succeeded"

        _, bounced = await _pending_topup(db, venue, 500)
        await send(_event(bounced, paid="unpaid"))
        await send(_event(bounced, "checkout.session.async_payment_failed", "unpaid"))
        assert await _status(db, bounced) == "failed"

        # Nobody paid before the session expired.
        _, left = await _pending_topup(db, venue, 500)
        assert await send(_event(left, "checkout.session.expired", "unpaid")) == "handled"
        assert await _status(db, left) == "failed"
        # Events about something else are acknowledged and ignored.
        assert await send(_event(left, "charge.refunded")) == "ignored"
