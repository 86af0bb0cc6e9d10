"""The JSON API for paying at the table (/api/v1): pay and send a round, pay the bill,
give up a payment in progress. The table's state (GET /tables/{token}) shows the bill."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from api.endpoint import Endpoint, Reply
from ordering import payment_service
from ordering.api_docs import DINERS, PAYMENT_ID, TOKEN
from ordering.commands import PayAndSend, PayBill
from ordering.config import config_of
from ordering.errors import (
    CartUnavailable,
    EmptyCart,
    NotSettleable,
    PinRequired,
    SessionEnded,
    UnknownTable,
)
from ordering.models import DiningTable
from ordering.schemas import TablePaymentResult, TablePaymentStarted
from ordering.table_payment import (
    NoPhonePayments,
    NothingToPay,
    PaymentPending,
    UnknownTablePayment,
)
from ordering.views import company_of_site
from payments import service as provider_payments
from payments.errors import PaymentsUnavailable
from payments.models import ProviderPayment
from payments.payment_state import PaymentStatus
from payments.providers import PaymentProvider
from payments.runtime import runtime_of
from realtime.events import Tx
from web.commands import command
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
    if payment.provider_ref is None and payment.status == PaymentStatus.PENDING:
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
            lambda tx: payment_service.attach(
                tx, payment.id, intent.ref, intent.checkout_url, device_of(request)
            ),
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
    return json_reply(out, request, 200 if started.duplicate else 201, offsite=True)


async def pay_and_send(request: Request) -> Response:
    """At an `order_and_pay` table, "send" means pay first. The whole shared cart becomes a
    round `awaiting_payment` (its lines leave the cart, which can fill up again meanwhile)
    and one payment for its total (sum of unit_price × quantity), at the company's payment
    provider. Send the payer to `checkout_url`. When the provider reports success (test
    provider page or verified webhook) the round becomes `to_validate` and appears on the
    POS; on failure or cancellation the round disappears and its lines are back in the cart,
    unchanged. One payment at a time per table: when several phones press at once, one gets
    201 and the others 409 `payment_pending` or `empty_cart`. A retry with the same
    `idempotency_key` returns the same payment with 200. If staff refuse a paid round, the
    payment is refunded."""
    paying = await command(request, PayAndSend)
    config = config_of(request)
    token = request.path_params["token"]

    async def op(tx: Tx) -> tuple[payment_service.Started, PaymentProvider]:
        provider = await _provider(tx, token, request)
        started = await payment_service.send_and_pay(
            tx, config, token, device_of(request), paying.idempotency_key, provider.name
        )
        return started, provider

    started, provider = await run_tx(request, op)
    return await _started(request, token, started, provider)


async def pay_bill(request: Request) -> Response:
    """At a `pay_only` (or `order_and_pay`) table, a member pays what is still due
    (`session.due` in the table view), or `amount` of it in minor units. Never more than is
    due, and one payment at a time per table: a second payer gets 409 `payment_pending` until
    the first ends. When the bill is fully paid the session becomes `settled` (staff still
    free the table). Payments are refused while a round waits for staff validation."""
    paying = await command(request, PayBill)
    config = config_of(request)
    token = request.path_params["token"]

    async def op(tx: Tx) -> tuple[payment_service.Started, PaymentProvider]:
        provider = await _provider(tx, token, request)
        started = await payment_service.pay_bill(
            tx, config, token, device_of(request), paying.amount, paying.idempotency_key,
            provider.name,
        )
        return started, provider

    started, provider = await run_tx(request, op)
    return await _started(request, token, started, provider)


async def cancel_payment(request: Request) -> Response:
    """Any member may cancel the table's pending payment (the payer came back without paying,
    or left). A round's lines go back to the cart. If the provider reports it paid after all,
    it is refunded. Cancelling a payment that already ended returns it unchanged."""
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


# What a member paying from the phone may meet whatever the action.
PAYING = [UnknownTable, PinRequired, SessionEnded, NoPhonePayments, PaymentPending,
          PaymentsUnavailable]

routes = [
    Endpoint("/tables/{token}/checkout", pay_and_send, "POST", tag=DINERS,
             operation_id="payAndSendRound",
             summary="Order and pay: pay for the shared cart, then it goes to staff",
             body=PayAndSend, example={"idempotency_key": "c0a8e7f2-0d4b-4c1e-8f3a-6b2d9e5a7c11"},
             responses={201: Reply(TablePaymentStarted, "The payment started (and its round)."),
                        200: Reply(TablePaymentStarted, "A retry: what this key started.")},
             errors=[*PAYING, EmptyCart, CartUnavailable], params=[TOKEN]),
    Endpoint("/tables/{token}/payments", pay_bill, "POST", tag=DINERS,
             summary="Pay the table's bill, or part of it, from a phone", body=PayBill,
             example={"idempotency_key": "5b7e0c1a-2f4d-4b8e-9a6c-3d1f0e2b4a77",
                      "amount": 1250},
             responses={201: Reply(TablePaymentStarted, "The payment started."),
                        200: Reply(TablePaymentStarted, "A retry: what this key started.")},
             errors=[*PAYING, NothingToPay, NotSettleable], params=[TOKEN]),
    Endpoint("/tables/{token}/payments/{payment_id:id}/cancel", cancel_payment, "POST",
             tag=DINERS, operation_id="cancelTablePayment",
             summary="Give up the payment in progress",
             responses={200: Reply(TablePaymentResult, "The payment, as it ended.")},
             errors=[UnknownTable, PinRequired, SessionEnded, NoPhonePayments,
                     UnknownTablePayment],
             params=[TOKEN, PAYMENT_ID]),
]
