"""Starting a payment at the provider, once our pending payment row is committed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from payments import service as payment_service
from payments.errors import PaymentProviderError, PaymentsUnavailable
from payments.models import ProviderPayment
from payments.payment_state import PaymentStatus
from payments.providers import Intent, PaymentProvider
from payments.runtime import runtime_of
from web.state import app_state, device_of, run_tx

log = logging.getLogger(__name__)


async def checkout(request: Request, payment: ProviderPayment, back: str) -> dict[str, Any]:
    """Create the provider's side of a pending payment (after our commit: it is I/O).

    `back` is the page of ours the payer returns to. A retry with the same key finds the
    payment already created and sends the payer to the same checkout page; a retry racing
    the first reaches the provider with the same idempotency key and gets the same one.
    """
    url = payment.checkout_url or back
    if payment.provider_ref is None and payment.status == PaymentStatus.PENDING:
        async with app_state(request).sessionmaker() as session:
            provider = await runtime_of(request).provider_for(session, payment.company_id)
        intent = await _create(request, provider, payment, back)
        url = intent.checkout_url
        await run_tx(
            request,
            lambda tx: payment_service.attach(tx, payment.id, intent.ref, url, device_of(request)),
        )
    return {"id": payment.id, "status": payment.status, "amount": payment.amount,
            "checkout_url": url}


async def _create(
    request: Request, provider: PaymentProvider, payment: ProviderPayment, back: str
) -> Intent:
    what = "Café" if payment.purpose == "brew" else "Crédit café"
    try:
        return await provider.create(
            payment.amount, payment.currency, payment.idempotency_key,
            f"{what} · Comptoir #{payment.id}", return_url=back,
        )
    except Exception as error:
        # Nothing was taken: the payment fails, and its brew (if any) frees the machine.
        now = datetime.now(UTC)
        await run_tx(request, lambda tx: payment_service.abandon(tx, payment.id, now))
        if isinstance(error, PaymentsUnavailable):
            raise
        # The error's type only: a provider's message may quote account details.
        log.warning("%s refused payment %s: %s", provider.name, payment.id,
                    type(error).__name__)
        raise PaymentProviderError() from error
