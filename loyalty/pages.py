"""The customer's loyalty space (`/account/loyalty`): their points, the rewards on offer,
their coupons, their history and their own QR code, shown at the till to be identified.

A venue may link to it or embed it in its own web site: the page carries its own
content-security policy, whose frame-ancestors allow embedding (web/headers.py,
`EMBEDDABLE`), and its links leave the frame (`target="_top"`). Embedded in another site,
a browser may withhold the session's cookie (it is SameSite=Lax): the page then asks the
customer to open it, and shows nothing of anyone.
"""

from __future__ import annotations

from typing import Any

import segno
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.context import consumer_id_of
from accounts.models import Company
from customers.models import Consumer
from loyalty import profiles, service
from loyalty.errors import UnknownCustomer
from loyalty.models import LoyaltyProfile, PointsEntry
from realtime.events import Tx
from web.headers import EMBEDDABLE, policy
from web.state import app_state, run_tx
from web.templating import page

HISTORY = 50


def qr_svg(text: str) -> str:
    return segno.make(text, error="m").svg_inline(scale=5, border=2, omitsize=True)


async def loyalty_page(request: Request) -> Response:
    consumer_id = consumer_id_of(request)

    async def read(tx: Tx) -> dict[str, Any] | None:
        if consumer_id is None:
            return None
        consumer = await tx.session.get(Consumer, consumer_id)
        if consumer is None:
            return None
        company_id = consumer.company_id
        try:
            customer = await service.customer(tx, company_id, consumer_id)
        except UnknownCustomer:
            return None
        company = await tx.session.get(Company, company_id)
        assert company is not None
        entries = (await tx.session.scalars(
            select(PointsEntry).where(PointsEntry.consumer_id == consumer_id)
            .order_by(PointsEntry.id.desc()).limit(HISTORY))).all()
        return {"customer": customer, "entries": entries, "currency": company.currency,
                "timezone": company.timezone, "qr": qr_svg(customer.qr_token),
                "coupon_qr": {c.token: qr_svg(c.token) for c in customer.coupons},
                "profile": await tx.session.get(LoyaltyProfile, consumer_id),
                "asked": await profiles.asked_of(tx.session, company_id),
                "to_come": await profiles.points_to_come(tx.session, company_id, consumer_id),
                "saved": request.query_params.get("saved") == "1"}

    context = await run_tx(request, read)
    if context is None:
        response = page(request, "loyalty/account.html", status=401, customer=None)
    else:
        response = page(request, "loyalty/account.html", **context)
    response.headers["content-security-policy"] = policy(
        app_state(request).settings.public_url, frame_ancestors=EMBEDDABLE)
    response.headers["cache-control"] = "no-store"
    return response


routes = [
    Route("/account/loyalty", loyalty_page, methods=["GET"]),
]
