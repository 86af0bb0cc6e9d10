"""The SMS provider's delivery reports: what Brevo's events mean, and what they change.

Brevo POSTs its transactional SMS events to the URL shown on the company's SMS page, which
names the company by a random token (`report_token`, renewed from the page): a wrong one is
not found and changes nothing. An event says its kind in `msg_status` ("delivered",
"hard_bounce"…) or, in its newer and batched forms, `event` ("hardBounce", "replied"…),
with the provider's `messageId` and the number it went `to`.

- delivered: the message, sent, is delivered (the campaign's results count it);
- a hard bounce, a rejection or an error: the message, sent, has failed, with its code;
- a soft bounce, sent, accepted and the like: nothing changes (it is still sent);
- an unsubscribe, or a reply that says STOP: the customer's SMS consent is withdrawn, as
  their unsubscribe link would (loyalty/unsubscribe.py).

A message is matched by the provider's id among the token's company's SMS only: another
company's is never touched. Each change is a conditional update from "sent": a replayed or
late event finds nothing to change, so "delivered" never goes back, and a failure
reported after the delivery is ignored.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.sql.elements import ColumnElement

from accounts.roles import Permission
from accounts.service import StaffIdentity
from db.base import changed
from domain import audit
from errors import NotFound
from loyalty.errors import BadUnsubscribeLink
from loyalty.models import CampaignMessage, SmsSettings
from loyalty.sms_errors import BadSmsReport
from loyalty.unsubscribe import Channel, Unsubscribe, withdraw
from realtime.events import Tx

PATH = "/api/v1/sms/brevo/reports/"  # + the company's token (loyalty/sms_report_api.py)
MAX_EVENTS = 500  # in one batched call
STOP_WORDS = frozenset({"STOP", "STOPSMS", "ARRET", "ARRÊT", "UNSUBSCRIBE"})

M = CampaignMessage


class Kind(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"
    STOP = "unsubscribed"  # the customer's SMS consent withdrawn
    OTHER = "ignored"


# Brevo's names, lower case without "_" or "-": soft_bounce and softBounce alike.
KINDS: dict[str, tuple[Kind, str]] = {
    "delivered": (Kind.DELIVERED, ""),
    "hardbounce": (Kind.FAILED, "sms_hard_bounce"),
    "rejected": (Kind.FAILED, "sms_rejected"),
    "blocked": (Kind.FAILED, "sms_rejected"),
    "error": (Kind.FAILED, "sms_provider_error"),
    "unsubscribe": (Kind.STOP, ""),
    "unsubscribed": (Kind.STOP, ""),
}
REPLIES = frozenset({"replied", "reply"})

# What a report moves a message to, and from which states: "sent" only.
MOVES: dict[Kind, tuple[str, frozenset[str]]] = {
    Kind.DELIVERED: ("delivered", frozenset({"sent"})),
    Kind.FAILED: ("failed", frozenset({"sent"})),
}


@dataclass(frozen=True)
class SmsEvent:
    kind: Kind
    message_id: str = ""  # the provider's id of the message, as we stored it
    to: str = ""  # the number, as the provider writes it ("33612345678")
    error: str = ""  # the failure's code


def says_stop(reply: str) -> bool:
    """A reply whose first word is STOP (or ARRET…), as the French rules read it."""
    words = reply.strip().upper().split()
    return bool(words) and words[0].strip(".!") in STOP_WORDS


def _text(value: object, longest: int) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    text = str(value).strip()
    return text if len(text) <= longest else ""


def event_of(item: object) -> SmsEvent:
    """One of Brevo's events, read; not an event with its kind: `BadSmsReport`."""
    if not isinstance(item, Mapping):
        raise BadSmsReport()
    name = item.get("msg_status", item.get("event"))
    if not isinstance(name, str) or not name.strip() or len(name) > 40:
        raise BadSmsReport()
    key = name.strip().lower().replace("_", "").replace("-", "")
    kind, error = KINDS.get(key, (Kind.OTHER, ""))
    if key in REPLIES:
        reply = item.get("reply", item.get("text", ""))
        kind = Kind.STOP if isinstance(reply, str) and says_stop(reply) else Kind.OTHER
    return SmsEvent(kind, _text(item.get("messageId"), 80), _text(item.get("to"), 32), error)


def read(body: object) -> list[SmsEvent]:
    """An event, or a batch of them (Brevo's batched webhooks), read."""
    items = body if isinstance(body, list) else [body]
    if not items or len(items) > MAX_EVENTS:
        raise BadSmsReport()
    return [event_of(item) for item in items]


def move(kind: Kind, status: str) -> str | None:
    """The status a report moves a message in `status` to; None: it stays as it is."""
    target, sources = MOVES.get(kind, ("", frozenset()))
    return target if status in sources else None


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits, 32 characters


def url_for(base_url: str, token: str) -> str:
    """What the company pastes into Brevo (`base_url`: the site's public URL)."""
    return f"{base_url}{PATH}{token}"


async def ensure_token(tx: Tx, company_id: int) -> str | None:
    """The company's token, made on first need; None before its SMS settings exist. Two
    first shows at once: one token is kept (a conditional update), both read it."""
    row = await tx.session.get(SmsSettings, company_id)
    if row is None:
        return None
    if row.report_token is None:
        await tx.session.execute(
            update(SmsSettings).where(SmsSettings.company_id == company_id,
                                      SmsSettings.report_token.is_(None))
            .values(report_token=new_token()).execution_options(synchronize_session=False))
        await tx.session.refresh(row)
    return row.report_token


async def renew_token(tx: Tx, staff: StaffIdentity, now: datetime) -> str:
    """A new token: the old URL is dead at once (audited, the token left out)."""
    staff.require(Permission.CAMPAIGNS)
    row = await tx.session.get(SmsSettings, staff.company_id)
    if row is None:
        row = SmsSettings(company_id=staff.company_id, provider="recording", api_key="",
                          sender="", stop_mention="STOP au 36173", holiday_subdivision=None)
        tx.session.add(row)
    row.report_token = new_token()
    row.updated_at = now
    await audit.record(tx, staff.id, staff.company_id, "sms.report_url", "sms",
                       {"sms_report_url_renewed": True})
    await tx.session.flush()
    return row.report_token


async def company_of(tx: Tx, token: str) -> int:
    """The company the token names; else `NotFound`."""
    company_id = None
    if 0 < len(token) <= 64:
        company_id = await tx.session.scalar(
            select(SmsSettings.company_id).where(SmsSettings.report_token == token))
    if company_id is None:
        raise NotFound()
    return int(company_id)


def _mine(company_id: int, message_id: str) -> list[ColumnElement[bool]]:
    return [M.company_id == company_id, M.channel == "sms", M.provider_id == message_id]


async def _customer(tx: Tx, company_id: int, event: SmsEvent) -> int | None:
    """The customer a STOP is from: the message's, else the last one sent to the number."""
    if event.message_id:
        found = await tx.session.scalar(select(M.consumer_id).where(
            *_mine(company_id, event.message_id)).limit(1))
        if found is not None:
            return int(found)
    number = event.to.removeprefix("+")
    if not number.isdecimal():
        return None
    found = await tx.session.scalar(select(M.consumer_id).where(
        M.company_id == company_id, M.channel == "sms", M.address == f"+{number}",
        M.consumer_id.is_not(None)).order_by(M.id.desc()).limit(1))
    return None if found is None else int(found)


async def apply(tx: Tx, company_id: int, event: SmsEvent) -> str:
    """One event applied to the company's messages; what it did ("delivered", "failed",
    "unsubscribed"), or "ignored" (nothing to do, or done already)."""
    if event.kind is Kind.STOP:
        consumer_id = await _customer(tx, company_id, event)
        if consumer_id is None:
            return Kind.OTHER.value
        try:
            await withdraw(tx, Unsubscribe(consumer_id, company_id, Channel.SMS))
        except BadUnsubscribeLink:  # no profile with this company any more
            return Kind.OTHER.value
        return Kind.STOP.value
    if event.kind not in MOVES or not event.message_id:
        return Kind.OTHER.value
    target, sources = MOVES[event.kind]
    done = await tx.session.execute(
        update(M).where(*_mine(company_id, event.message_id), M.status.in_(sources))
        .values(status=target, error=event.error)
        .execution_options(synchronize_session=False))
    return event.kind.value if changed(done) else Kind.OTHER.value


async def receive(tx: Tx, token: str, raw: bytes) -> list[str]:
    """A POST to the company's URL: the token checked (404) before the body (400)."""
    company_id = await company_of(tx, token)
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise BadSmsReport() from error
    return [await apply(tx, company_id, event) for event in read(body)]
