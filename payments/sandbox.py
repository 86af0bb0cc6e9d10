"""The test provider's checkout: a payment it holds, for the browser that started it only.

Anyone may see a payment's reference (it is in the checkout URL, the browser's history,
a screenshot); the page and the API that settle it also ask that the browser be the one
whose request started the payment (`ProviderPayment.payer_device`).
"""

from __future__ import annotations

import hmac

from starlette.requests import Request

from errors import NotFound
from payments.errors import NotYourPayment
from payments.models import ProviderPayment
from payments.runtime import runtime_of
from payments.service import by_ref
from web.state import app_state, device_of


async def sandbox_payment(request: Request, ref: object) -> ProviderPayment:
    """The test provider's payment `ref`, when this browser started it. Another provider's,
    or one while the company's provider is not the test one: not found."""
    async with app_state(request).sessionmaker() as session:
        payment = await by_ref(session, ref)
        provider = await runtime_of(request).provider_for(session, payment.company_id)
    if provider.name != "test" or payment.provider != "test":
        raise NotFound()
    if not hmac.compare_digest(payment.payer_device or "", device_of(request)):
        raise NotYourPayment()
    return payment
