"""The payments JSON API (/api/v1): providers' webhooks, the test provider's "bank", and
each company's payment settings."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from accounts.context import staff_of
from accounts.roles import Permission, require
from accounts.service import NotSignedIn, StaffIdentity
from errors import NotFound
from payments import provider_settings as payment_settings
from payments import service as payment_service
from payments.providers import PaymentProvider
from payments.runtime import runtime_of
from payments.secret_box import box_for
from payments.service import Scope
from realtime.events import run
from web.body import read_body
from web.htmx import json_reply
from web.state import AppState, app_state, run_tx


def _now() -> datetime:
    return datetime.now(UTC)


async def complete_test_payment(request: Request) -> Response:
    """The test provider's own "bank": succeed, fail, or succeed after a delay."""
    runtime = runtime_of(request)
    ref = request.path_params["ref"]
    async with app_state(request).sessionmaker() as session:
        payment = await payment_service.by_ref(session, ref)
        provider = await runtime.provider_for(session, payment.company_id)
    if provider.name != "test" or payment.provider != "test":
        raise NotFound()
    body = await read_body(request)
    outcome = body.text("outcome")
    state = app_state(request)
    back = body.text("back") or "/account"
    if outcome == "late":
        runtime.later(runtime.settings.machine_sweep_s, lambda: _settle_later(state, ref))
        return json_reply({"status": "pending", "redirect": back}, request, 202)
    if outcome not in ("succeed", "fail"):
        raise NotFound()
    settled = await run_tx(
        request, lambda tx: payment_service.settle(tx, ref, outcome == "succeed", _now())
    )
    return json_reply({"status": settled.status, "redirect": back}, request)


async def _settle_later(state: AppState, ref: str) -> None:
    await run(
        state.sessionmaker, state.bus, lambda tx: payment_service.settle(tx, ref, True, _now())
    )


async def stripe_webhook(request: Request) -> Response:
    """Stripe's events for the environment's account (companies without their own)."""
    return await _webhook(request, runtime_of(request).provider, "environment")


async def company_stripe_webhook(request: Request) -> Response:
    """Stripe's events for the account a company's operator set in its payment settings."""
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
    event = provider.verify_webhook(raw, request.headers)
    outcome = await run_tx(
        request, lambda tx: payment_service.handle_event(tx, "stripe", event, _now(), scope)
    )
    return JSONResponse({"received": True, "outcome": outcome})


async def _configurer(request: Request) -> StaffIdentity:
    staff = await staff_of(request)
    if staff is None:
        raise NotSignedIn()
    require(staff.role, Permission.CONFIGURE)
    return staff


async def get_payment_settings(request: Request) -> Response:
    staff = await _configurer(request)
    runtime = runtime_of(request)
    async with app_state(request).sessionmaker() as session:
        config = await payment_settings.config_for(
            session, staff.company_id, runtime.settings
        )
    return json_reply(payment_settings.view(config, staff.company_id, runtime.settings.public_url),
                 request)


async def set_payment_settings(request: Request) -> Response:
    """An empty key keeps the stored one: the page never holds a secret to send back."""
    staff = await _configurer(request)
    body = await read_body(request)
    config = await run_tx(
        request,
        lambda tx: payment_settings.save(
            tx, staff, body.raw("provider"), body.raw("stripe_secret_key"),
            body.raw("stripe_webhook_secret"), _now(),
            box_for(runtime_of(request).settings.secret_key),
        ),
    )
    base = runtime_of(request).settings.public_url
    return json_reply({**payment_settings.view(config, staff.company_id, base), "refresh": True},
                 request)


routes = [
    Route("/payments/test/{ref}", complete_test_payment, methods=["POST"]),
    Route("/payments/stripe/webhook", stripe_webhook, methods=["POST"]),
    Route("/payments/stripe/webhook/{company_id:int}", company_stripe_webhook, methods=["POST"]),
    Route("/staff/payment-settings", get_payment_settings, methods=["GET"]),
    Route("/staff/payment-settings", set_payment_settings, methods=["POST"]),
]
