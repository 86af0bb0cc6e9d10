"""The JSON API for paying at the table (/api/v1): pay and send a round, pay the bill,
give up a payment in progress. The table's state (GET /tables/{token}) shows the bill."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import web.convertors  # noqa: F401  (the {…:id} path type)
from ordering import payment_service
from ordering.config import config_of
from ordering.errors import UnknownTable
from ordering.models import DiningTable
from ordering.views import company_of_site
from payments import service as provider_payments
from payments.errors import PaymentsUnavailable
from payments.models import ProviderPayment
from payments.providers import PaymentProvider
from payments.runtime import runtime_of
from realtime.events import Tx
from web.body import read_body
from web.htmx import json_reply
from web.state import device_of, run_tx

log = logging.getLogger(__name__)


async def _provider(tx: Tx, token: str, request: Request) -> PaymentProvider:
    """The provider of the company running this table (its own, or the environment's)."""
    table = (
        await tx.session.scalar(select(DiningTable).where(DiningTable.token == token))
        if isinstance(token, str) and len(token) <= 64 and "\x00" not in token else None
    )
    if table is None:
        raise UnknownTable()
    company = await company_of_site(tx.session, table.site_id)
    return await runtime_of(request).provider_for(tx.session, company.id)


async def _checkout(
    request: Request, provider: PaymentProvider, payment: ProviderPayment, token: str
) -> dict[str, Any]:
    """Create the provider's side once our pending row is committed (it is I/O)."""
    back = f"/t/{token}"
    if payment.provider_ref is None and payment.status == "pending":
        try:
            intent = await provider.create(
                payment.amount, payment.currency, payment.idempotency_key,
                f"Table · Comptoir #{payment.id}", return_url=back,
            )
        except Exception as error:
            # Nothing was taken: the payment fails and the round's lines go back to the cart.
            await run_tx(
                request, lambda tx: provider_payments.abandon(tx, payment.id, datetime.now(UTC))
            )
            if isinstance(error, PaymentsUnavailable):
                raise
            # The error's type only: a provider's message may quote account details.
            log.warning("%s refused table payment %s: %s", provider.name, payment.id,
                        type(error).__name__)
            raise PaymentsUnavailable() from error
        payment = await run_tx(
            request,
            lambda tx: payment_service.attach(tx, payment.id, intent.ref, intent.checkout_url),
        )
    return {
        "id": payment.id, "purpose": payment.purpose, "status": payment.status,
        "amount": payment.amount, "currency": payment.currency,
        "checkout_url": payment.checkout_url or back,
    }


def _round(rnd: Any) -> dict[str, Any] | None:
    if rnd is None:
        return None
    return {"id": rnd.id, "number": rnd.number, "status": rnd.status}


async def _started(
    request: Request, token: str, started: payment_service.Started, provider: PaymentProvider
) -> Response:
    out: dict[str, Any] = {
        "payment": None, "round": _round(started.round), "duplicate": started.duplicate,
    }
    if started.payment is not None:
        out["payment"] = await _checkout(request, provider, started.payment, token)
        if out["payment"]["status"] == "pending":
            out["redirect"] = out["payment"]["checkout_url"]
    return json_reply(out, request, 200 if started.duplicate else 201)


async def pay_and_send(request: Request) -> Response:
    """Order and pay: the cart's total is paid first; the round goes to staff once paid."""
    body = await read_body(request)
    config = config_of(request)
    token = request.path_params["token"]

    async def op(tx: Tx) -> tuple[payment_service.Started, PaymentProvider]:
        provider = await _provider(tx, token, request)
        started = await payment_service.send_and_pay(
            tx, config, token, device_of(request), body.raw("idempotency_key"), provider.name
        )
        return started, provider

    started, provider = await run_tx(request, op)
    return await _started(request, token, started, provider)


async def pay_bill(request: Request) -> Response:
    """Pay what is left of the bill, or `amount` of it (minor units)."""
    body = await read_body(request)
    config = config_of(request)
    token = request.path_params["token"]

    async def op(tx: Tx) -> tuple[payment_service.Started, PaymentProvider]:
        provider = await _provider(tx, token, request)
        started = await payment_service.pay_bill(
            tx, config, token, device_of(request), body.money("amount"),
            body.raw("idempotency_key"), provider.name,
        )
        return started, provider

    started, provider = await run_tx(request, op)
    return await _started(request, token, started, provider)


async def cancel_payment(request: Request) -> Response:
    config = config_of(request)
    payment = await run_tx(
        request,
        lambda tx: payment_service.cancel(
            tx, config, request.path_params["token"], device_of(request),
            request.path_params["payment_id"],
        ),
    )
    return json_reply({"payment": {"id": payment.id, "purpose": payment.purpose,
                            "status": payment.status, "amount": payment.amount}}, request)


routes = [
    Route("/tables/{token}/checkout", pay_and_send, methods=["POST"]),
    Route("/tables/{token}/payments", pay_bill, methods=["POST"]),
    Route("/tables/{token}/payments/{payment_id:id}/cancel", cancel_payment, methods=["POST"]),
]
