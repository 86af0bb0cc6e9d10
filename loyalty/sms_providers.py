"""The SMS provider interface, a provider that records (tests, demo) and Brevo.

A provider sends one SMS to one mobile number and tells its credit balance. The text it is
given is final: a commercial SMS already ends with the provider's STOP mention
(`sms_text.commercial`, which counts it), and a provider refuses one that does not. Quiet
hours are the caller's (`sms_schedule`): a provider sends when it is asked to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from loyalty.sms_errors import (
    NoSmsCredits,
    NumberRefused,
    SmsKeyRefused,
    SmsProviderDown,
    SmsRefused,
    StopLineMissing,
)
from loyalty.sms_numbers import e164
from loyalty.sms_text import Encoding, check_sender, has_stop, measure, stop_line

if TYPE_CHECKING:
    from brevo import AsyncBrevo


class SmsStatus(StrEnum):
    SENT = "sent"  # accepted by the provider; delivery is reported later, if at all


@dataclass(frozen=True)
class SendResult:
    provider_id: str  # the provider's id for this message
    status: SmsStatus
    parts: int  # messages billed
    cost_credits: Decimal


class SmsProvider(Protocol):
    name: str
    stop_mention: str  # ends every commercial SMS sent through this provider
    sender_spaces: bool  # whether a sender name may hold spaces

    async def send(
        self, to: str, text: str, sender: str, *, commercial: bool = True
    ) -> SendResult: ...

    async def credits(self) -> Decimal: ...

    async def close(self) -> None: ...


def prepared(provider: SmsProvider, to: str, text: str, sender: str,
             commercial: bool) -> tuple[str, str]:
    """The number in E.164 and the sender name checked, or the rules' refusal: what every
    provider checks before a message may cost anything."""
    if commercial and not has_stop(text, provider.stop_mention):
        raise StopLineMissing()
    return e164(to), check_sender(sender, spaces=provider.sender_spaces)


@dataclass(frozen=True)
class Recorded:
    to: str
    text: str
    sender: str
    parts: int
    commercial: bool


@dataclass
class RecordingProvider:
    """Sends nothing: records each message and takes its parts from a balance. A number in
    `refused` is refused as a provider would; `down` makes every call fail as if it were."""

    balance: Decimal = Decimal(100)
    cost_per_part: Decimal = Decimal(1)
    stop_mention: str = stop_line("36173")
    sender_spaces: bool = False
    refused: set[str] = field(default_factory=set)  # numbers in E.164
    down: bool = False
    sent: list[Recorded] = field(default_factory=list)
    name: str = "recording"

    async def send(
        self, to: str, text: str, sender: str, *, commercial: bool = True
    ) -> SendResult:
        number, sender = prepared(self, to, text, sender, commercial)
        if self.down:
            raise SmsProviderDown()
        if number in self.refused:
            raise NumberRefused()
        parts = measure(text).parts
        cost = parts * self.cost_per_part
        if cost > self.balance:
            raise NoSmsCredits()
        self.balance -= cost
        self.sent.append(Recorded(number, text, sender, parts, commercial))
        return SendResult(f"rec-{len(self.sent)}", SmsStatus.SENT, parts, cost)

    async def credits(self) -> Decimal:
        if self.down:
            raise SmsProviderDown()
        return self.balance

    async def close(self) -> None:
        return None


def _said(body: Any) -> tuple[str, str]:
    """Brevo's error body, {"code": …, "message": …}, as a dict or the SDK's model."""
    if isinstance(body, dict):
        return str(body.get("code") or ""), str(body.get("message") or "")
    return str(getattr(body, "code", "") or ""), str(getattr(body, "message", "") or "")


def brevo_error(status: int | None, body: Any) -> Exception:
    """The domain error for Brevo's answer: 402 is "not enough credits"; a 400 about the
    recipient a refused number (another 400 a refused message); 401 and 403 a key it
    refuses; anything else (429, 5xx, an unreadable answer) the provider being down."""
    code, message = _said(body)
    if status == 402 or code == "not_enough_credits":
        return NoSmsCredits()
    if status in (401, 403):
        return SmsKeyRefused()
    if status is not None and 400 <= status < 500 and status != 429:
        about_number = any(word in message.lower() for word in ("recipient", "number", "phone"))
        return NumberRefused() if about_number else SmsRefused()
    return SmsProviderDown()


class BrevoProvider:
    """Brevo's transactional SMS API through its SDK (`brevo-python`, async over httpx).
    Brevo replaces "[STOP_CODE]" with its own short number, 5 digits, so the mention is
    counted at the placeholder's 11 characters: never fewer parts than are billed. Sends
    are not retried by the SDK: the API takes no idempotency key, and a retry after an
    answer lost on the way would send the SMS twice. `base_url` points it at another
    server (the tests' fake)."""

    name = "brevo"
    sender_spaces = False  # Brevo: "letters and digits" only

    def __init__(self, api_key: str, *, stop_mention: str = stop_line("[STOP_CODE]"),
                 base_url: str = "", timeout_s: float = 15.0) -> None:
        self.api_key = api_key
        self.stop_mention = stop_mention
        self.base_url = base_url
        self.timeout_s = timeout_s
        self._http: httpx.AsyncClient | None = None
        self._client: AsyncBrevo | None = None

    def __repr__(self) -> str:  # never the key, wherever a provider ends up printed
        return f"BrevoProvider(api_key=…{self.api_key[-4:]!r})"

    def client(self) -> AsyncBrevo:
        if self._client is None:
            from brevo import AsyncBrevo

            self._http = httpx.AsyncClient(timeout=self.timeout_s)
            # client_id and client_secret said: the SDK would otherwise read them from the
            # environment and sign in with OAuth instead of this key.
            self._client = AsyncBrevo(api_key=self.api_key, base_url=self.base_url or None,
                                      httpx_client=self._http, max_retries=0,
                                      client_id=None, client_secret=None)
        return self._client

    async def close(self) -> None:
        if self._http is not None:
            http, self._http, self._client = self._http, None, None
            await http.aclose()

    async def send(
        self, to: str, text: str, sender: str, *, commercial: bool = True
    ) -> SendResult:
        from brevo.core.api_error import ApiError

        number, sender = prepared(self, to, text, sender, commercial)
        length = measure(text)
        try:
            sent = await self.client().transactional_sms.send_transac_sms(
                recipient=number, sender=sender, content=text,
                type="marketing" if commercial else "transactional",
                unicode_enabled=length.encoding is Encoding.UCS2,
            )
        except ApiError as error:
            raise brevo_error(error.status_code, error.body) from error
        except (httpx.HTTPError, ValueError) as error:  # no answer, or not JSON
            raise SmsProviderDown() from error
        return SendResult(
            str(sent.message_id), SmsStatus.SENT, sent.sms_count or length.parts,
            Decimal(str(sent.used_credits or 0)),
        )

    async def credits(self) -> Decimal:
        """The SMS credits left: the account's plan of type "sms" (none: 0)."""
        from brevo.core.api_error import ApiError

        try:
            account = await self.client().account.get_account()
        except ApiError as error:
            raise brevo_error(error.status_code, error.body) from error
        except (httpx.HTTPError, ValueError) as error:
            raise SmsProviderDown() from error
        return sum((Decimal(str(plan.credits)) for plan in account.plan if plan.type == "sms"),
                   Decimal(0))
