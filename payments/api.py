"""The payments JSON API (/api/v1): a consumer's top-up, providers' webhooks, the test
provider's "bank", and each company's payment settings."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from accounts.api import STAFF
from accounts.context import staff_of
from accounts.roles import Permission
from accounts.service import NotSignedIn, StaffIdentity
from api.endpoint import PUBLIC, SESSION, SIGNED_IN, Endpoint, Param, Reply, Tag
from customers.api import CONSUMERS, signed_in
from customers.errors import SignInRequired
from customers.models import Consumer
from errors import DomainError, Forbidden, NotFound
from payments import provider_settings as payment_settings
from payments import service as payment_service
from payments.checkout import checkout
from payments.commands import PaymentSettingsChange, TestOutcome, Topup
from payments.errors import (
    BadSignature,
    NotYourPayment,
    PaymentKeysUnreadable,
    PaymentProviderError,
    PaymentsUnavailable,
    StripeKeysMissing,
    UnknownPayment,
)
from payments.models import ProviderPayment
from payments.providers import PaymentProvider
from payments.runtime import runtime_of
from payments.sandbox import sandbox_payment
from payments.schemas import PaymentOutcome, PaymentSettings, TopupStarted, WebhookReceived
from payments.secret_box import box_for
from payments.service import Scope
from realtime.events import Tx, run
from telemetry import metrics
from web.commands import command
from web.htmx import json_reply
from web.state import AppState, app_state, run_tx

PAYMENTS = Tag("payments", "Payment provider callbacks.")
REF = Param("PaymentRef", "ref", "The provider's reference of a payment (from checkout_url).",
            {"type": "string", "maxLength": 120})
# A Stripe event, read as sent: its signature is checked on the exact bytes.
STRIPE_EVENT = {"type": "object", "description": "A Stripe event (https://docs.stripe.com/"
                "api/events/object), signed in the `Stripe-Signature` header."}
COMPANY_ID = Param("CompanyId", "company_id", "The company whose own Stripe account sends "
                   "the events (see its payment settings' `webhook_url`).")


def _now() -> datetime:
    return datetime.now(UTC)


async def start_topup(request: Request) -> Response:
    """Starts a payment of one of the operator's amounts; the credit is added once the
    provider confirms it. The same key returns the same payment."""
    consumer_id = signed_in(request)
    wanted = await command(request, Topup)
    runtime = runtime_of(request)

    async def op(tx: Tx) -> ProviderPayment:
        consumer = await tx.session.get(Consumer, consumer_id)
        if consumer is None:
            raise SignInRequired()
        provider = await runtime.provider_for(tx.session, consumer.company_id)
        return await payment_service.start_topup(tx, consumer_id, wanted, provider.name, _now())

    payment = await run_tx(request, op)
    started = await checkout(request, payment, "/account")
    return json_reply({"payment": started, "redirect": started["checkout_url"]}, request, 201,
                      offsite=True)


async def test_payment(request: Request) -> Response:
    """Only with the test provider (demo, tests), and only from the browser (cookie) that
    started the payment (403 `not_your_payment` otherwise): `succeed`, `fail`, or `late`
    (succeeds after a delay; 202). `back`, where the payer returns, must be a path of this
    site; anything else is replaced by `/account`."""
    runtime = runtime_of(request)
    ref = request.path_params["ref"]
    await sandbox_payment(request, ref)
    chosen = await command(request, TestOutcome)
    state = app_state(request)
    if chosen.outcome == "late":
        runtime.later(runtime.settings.machine_sweep_s, lambda: _settle_later(state, ref))
        return json_reply({"status": "pending", "redirect": chosen.back}, request, 202)
    settled = await run_tx(
        request, lambda tx: payment_service.settle(tx, ref, chosen.outcome == "succeed", _now())
    )
    return json_reply({"status": settled.status, "redirect": chosen.back}, request)


async def _settle_later(state: AppState, ref: str) -> None:
    await run(
        state.sessionmaker, state.bus, lambda tx: payment_service.settle(tx, ref, True, _now())
    )


async def stripe_webhook(request: Request) -> Response:
    """Stripe's events for the account set by the environment (STRIPE_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET), for companies without their own payment settings. Verified with
    the `Stripe-Signature` header on the raw body (5 minutes tolerance).
    `checkout.session.completed` (paid) and `checkout.session.async_payment_succeeded`
    settle a payment as paid; `checkout.session.async_payment_failed` and
    `checkout.session.expired` as failed; other events are acknowledged and ignored. Each
    event id is handled once; a replay answers `duplicate`."""
    return await _webhook(request, runtime_of(request).provider, "environment")


async def company_stripe_webhook(request: Request) -> Response:
    """The same events for the Stripe account a company's operator set in its payment
    settings, verified with that account's webhook signing secret; they settle only that
    company's payments. 404 when the company has no payment settings of its own or its
    provider is not Stripe."""
    company_id: int = request.path_params["company_id"]
    runtime = runtime_of(request)
    async with app_state(request).sessionmaker() as session:
        config = await payment_settings.config_for(session, company_id, runtime.settings)
        provider = await runtime.provider_for(session, company_id)
    if not config.own:
        raise NotFound()
    return await _webhook(request, provider, company_id)


async def _webhook(request: Request, provider: PaymentProvider, scope: Scope) -> Response:
    """Verified on the raw body, each event id handled once, within its account's scope."""
    if provider.name != "stripe":
        raise NotFound()
    raw = await request.body()
    try:
        event = provider.verify_webhook(raw, request.headers)
        outcome = await run_tx(
            request, lambda tx: payment_service.handle_event(tx, "stripe", event, _now(), scope)
        )
    except DomainError as error:
        metrics.PAYMENT_WEBHOOKS.labels(provider.name, error.code).inc()
        raise
    metrics.PAYMENT_WEBHOOKS.labels(provider.name, outcome).inc()
    return JSONResponse({"received": True, "outcome": outcome})


async def _configurer(request: Request) -> StaffIdentity:
    staff = await staff_of(request)
    if staff is None:
        raise NotSignedIn()
    staff.require(Permission.CONFIGURE)
    return staff


async def get_payment_settings(request: Request) -> Response:
    """The company's payment provider, with its keys masked. Needs the `configure`
    permission."""
    staff = await _configurer(request)
    runtime = runtime_of(request)
    async with app_state(request).sessionmaker() as session:
        config = await payment_settings.config_for(
            session, staff.company_id, runtime.settings
        )
    return json_reply(payment_settings.view(config, staff.company_id, runtime.settings.public_url),
                 request)


async def set_payment_settings(request: Request) -> Response:
    """Choose the company's payment provider (`none`, `test`: nobody is charged, demo only,
    or `stripe`) and its Stripe secret key (`sk_…` or a restricted `rk_…`) and webhook
    signing secret (`whsec_…`). An empty or missing key keeps the stored one (the page never
    holds a secret to send back). Payments then go through these settings instead of the
    environment's. Needs the `configure` permission."""
    staff = await _configurer(request)
    change = await command(request, PaymentSettingsChange)
    box = box_for(runtime_of(request).settings.secret_key)
    config = await run_tx(
        request, lambda tx: payment_settings.save(tx, staff, change, _now(), box)
    )
    base = runtime_of(request).settings.public_url
    return json_reply({**payment_settings.view(config, staff.company_id, base), "refresh": True},
                 request)


routes = [
    Endpoint("/consumers/topups", start_topup, "POST", tag=CONSUMERS, summary="Top up the credit",
             body=Topup, responses={201: Reply(TopupStarted, "Pay at checkout_url.")},
             errors=[SignInRequired, PaymentsUnavailable, PaymentKeysUnreadable,
                     PaymentProviderError],
             security=SESSION),
    Endpoint("/payments/test/{ref}", test_payment, "POST", tag=PAYMENTS,
             summary="Complete a test payment", params=[REF], body=TestOutcome,
             responses={200: Reply(PaymentOutcome, "Settled."),
                        202: Reply(PaymentOutcome, "Will succeed shortly.")},
             errors=[UnknownPayment, NotFound, NotYourPayment], security=SESSION),
    Endpoint("/payments/stripe/webhook", stripe_webhook, "POST", tag=PAYMENTS,
             summary="Stripe webhook", raw_body=STRIPE_EVENT,
             responses={200: Reply(WebhookReceived, "Received.")},
             errors=[BadSignature, NotFound], security=PUBLIC),
    Endpoint("/payments/stripe/webhook/{company_id:id}", company_stripe_webhook, "POST",
             tag=PAYMENTS, summary="Stripe webhook of a company's own account",
             params=[COMPANY_ID], raw_body=STRIPE_EVENT,
             responses={200: Reply(WebhookReceived, "Received.")},
             errors=[BadSignature, NotFound], security=PUBLIC),
    Endpoint("/staff/payment-settings", get_payment_settings, "GET", tag=STAFF,
             summary="The payment settings",
             responses={200: Reply(PaymentSettings, "The settings.")},
             errors=[NotSignedIn, Forbidden], security=SIGNED_IN),
    Endpoint("/staff/payment-settings", set_payment_settings, "POST", tag=STAFF,
             summary="Set the payment settings", body=PaymentSettingsChange,
             responses={200: Reply(PaymentSettings, "The settings now (keys masked).")},
             errors=[NotSignedIn, Forbidden, StripeKeysMissing, PaymentKeysUnreadable],
             security=SIGNED_IN),
]
