"""`POST /api/v1/sms/brevo/reports/{token}`: Brevo's transactional SMS events for a company.

Public as the payment providers' webhooks are (payments/api.py): Brevo sends JSON from its
servers, with no session, and the random token in the URL is the authority.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.endpoint import PUBLIC, Endpoint, Param, Reply, Tag
from errors import NotFound
from loyalty import sms_reports
from loyalty.sms_errors import BadSmsReport
from web.state import run_tx

SMS = Tag("sms", "The SMS provider's delivery reports.")
TOKEN = Param("SmsReportToken", "token", "The company's random token: its SMS settings page "
              "shows the whole URL, and renews it.", {"type": "string", "maxLength": 64})
_EVENT = {"type": "object", "description": "One of Brevo's transactional SMS events "
          "(https://developers.brevo.com/docs/transactional-webhooks): `msg_status` or "
          "`event` (delivered, hard_bounce, soft_bounce, replied, unsubscribe…), `messageId`, "
          "`to`, `reply`."}
BREVO_EVENTS = {"oneOf": [_EVENT, {"type": "array", "items": _EVENT, "minItems": 1,
                                   "maxItems": sms_reports.MAX_EVENTS}]}


class SmsReportsReceived(BaseModel):
    received: Literal[True]
    outcomes: list[Literal["delivered", "failed", "unsubscribed", "ignored"]]


async def brevo_report(request: Request) -> Response:
    """A Brevo SMS event, or a batch of them, for the company the token names (404
    otherwise, nothing changed). `delivered` marks the company's message with this
    `messageId` delivered; a hard bounce or an error marks it failed; an unsubscribe or a
    reply saying STOP withdraws the customer's SMS consent; anything else is acknowledged
    and ignored, as is a replayed or late event (a delivered message stays delivered)."""
    token: str = request.path_params["token"]
    raw = await request.body()
    outcomes = await run_tx(request, lambda tx: sms_reports.receive(tx, token, raw))
    return JSONResponse({"received": True, "outcomes": outcomes})


routes = [
    Endpoint("/sms/brevo/reports/{token}", brevo_report, "POST", tag=SMS,
             summary="Brevo's SMS delivery reports", params=[TOKEN], raw_body=BREVO_EVENTS,
             responses={200: Reply(SmsReportsReceived, "Received.")},
             errors=[NotFound, BadSmsReport], security=PUBLIC),
]
