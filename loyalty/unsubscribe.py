"""One-click unsubscribing from a channel of the venue's marketing (e-mail or SMS).

A link names the customer, their company and the channel, signed with the app's secret
(HMAC-SHA256 under a key of its own, derived from SECRET_KEY): no session is needed to use
it, and nobody can make one for someone else. It never expires, as the law wants of an
unsubscribe link. Mails carry it twice: in their text, and in the List-Unsubscribe headers
of RFC 8058, so that a mail client offers its own button, which POSTs to the same URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

from loyalty.errors import BadUnsubscribeLink
from loyalty.models import LoyaltyProfile
from realtime.events import Tx


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


@dataclass(frozen=True)
class Unsubscribe:
    consumer_id: int
    company_id: int
    channel: Channel


def _signature(secret: str, payload: str) -> str:
    key = hmac.new(secret.encode(), b"loyalty-unsubscribe", hashlib.sha256).digest()
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode()  # 144 bits, 24 characters


def token_for(secret: str, consumer_id: int, company_id: int, channel: Channel) -> str:
    payload = f"{consumer_id}.{company_id}.{channel.value}"
    return f"{payload}.{_signature(secret, payload)}"


def read(secret: str, token: object) -> Unsubscribe:
    """What a token says, if this app signed it; else `BadUnsubscribeLink`."""
    if not isinstance(token, str) or len(token) > 100:
        raise BadUnsubscribeLink()
    payload, _, signature = token.rpartition(".")
    parts = payload.split(".")
    if (len(parts) != 3 or not all(p.isdecimal() and len(p) < 19 for p in parts[:2])
            or parts[2] not in tuple(Channel)
            or not hmac.compare_digest(signature.encode(), _signature(secret, payload).encode())):
        raise BadUnsubscribeLink()
    return Unsubscribe(int(parts[0]), int(parts[1]), Channel(parts[2]))


def link_for(base_url: str, secret: str, consumer_id: int, company_id: int,
             channel: Channel) -> str:
    """The link a marketing mail or SMS carries (`base_url`: the site's public URL)."""
    return f"{base_url}/unsubscribe/{token_for(secret, consumer_id, company_id, channel)}"


def headers_for(base_url: str, secret: str, consumer_id: int, company_id: int) -> dict[str, str]:
    """A marketing mail's headers for its client's own unsubscribe button (RFC 2369, 8058):
    the client POSTs `List-Unsubscribe=One-Click` to the link, without a session."""
    link = link_for(base_url, secret, consumer_id, company_id, Channel.EMAIL)
    return {"List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


async def profile_of(tx: Tx, asked: Unsubscribe) -> LoyaltyProfile:
    """The profile the link names, in the company it names; else `BadUnsubscribeLink`."""
    profile = await tx.session.get(LoyaltyProfile, asked.consumer_id, populate_existing=True)
    if profile is None or profile.company_id != asked.company_id:
        raise BadUnsubscribeLink()
    return profile


async def withdraw(tx: Tx, asked: Unsubscribe) -> LoyaltyProfile:
    """The channel's consent withdrawn (its date cleared); again: nothing more changes."""
    profile = await profile_of(tx, asked)
    if asked.channel is Channel.EMAIL:
        profile.email_consent_at = None
    else:
        profile.sms_consent_at = None
    await tx.session.flush()
    return profile
