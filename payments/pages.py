"""Payment pages: the test provider's checkout, and each company's payment settings.

Stripe's checkout is Stripe's own hosted page: nothing of Stripe's runs on ours.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.context import staff_of
from accounts.roles import Permission
from payments import provider_settings as payment_settings
from payments.runtime import runtime_of
from payments.sandbox import sandbox_payment
from web.redirects import redirect, safe_path
from web.state import app_state
from web.templating import page


async def pay_page(request: Request) -> Response:
    """The test provider's checkout: pay, decline, or pay with a late confirmation; for the
    browser that started the payment only."""
    ref = request.path_params["ref"]
    back = safe_path(request.query_params.get("back"), "/account")
    payment = await sandbox_payment(request, ref)
    return page(request, "machines/pay_test.html", payment=payment, back=back, ref=ref)


async def settings_page(request: Request) -> Response:
    """The operator's payment provider and keys; the keys shown masked, fields left empty."""
    staff = await staff_of(request)
    if staff is None:
        return redirect("/staff/login")
    staff.require(Permission.CONFIGURE)  # a page in their language, with a way back
    runtime = runtime_of(request)
    async with app_state(request).sessionmaker() as session:
        config = await payment_settings.config_for(
            session, staff.company_id, runtime.settings
        )
    current = payment_settings.view(config, staff.company_id, runtime.settings.public_url)
    return page(request, "machines/payment_settings.html", current=current,
                providers=payment_settings.PROVIDERS, staff=staff)


routes = [
    Route("/pay/test/{ref}", pay_page),
    Route("/staff/machines/payments", settings_page),
]
