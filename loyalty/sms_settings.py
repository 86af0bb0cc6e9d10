"""A company's SMS settings, as its managers set them, and the provider they make.

The API key goes in and never comes back out: it is stored sealed under SECRET_KEY
(payments/secret_box.py, a key of its own for SMS), shown masked, and an empty field on
save keeps the stored one; a key sealed under another SECRET_KEY reads as `unreadable` and
the page asks for it again. Every change is audited, never the key itself.

Saving them gives the company its delivery reports' token (loyalty/sms_reports.py): the
page shows the URL to paste into Brevo.

The "recording" provider (tests, demo) sends nothing: each company's is kept in this
process (`recorder`), so what it recorded is seen by this process only; the truth of what
was sent is each message's row (loyalty_message), whichever process sent it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from accounts.roles import Permission
from accounts.service import StaffIdentity
from domain import audit
from errors import N_, InvalidInput
from loyalty.models import SmsSettings
from loyalty.sms_errors import SmsProviderDown
from loyalty.sms_providers import BrevoProvider, RecordingProvider, SmsProvider
from loyalty.sms_reports import new_token, url_for
from loyalty.sms_text import check_sender
from payments.providers import mask
from payments.secret_box import SecretBox, UnreadableSecret, box_for
from realtime.events import Tx
from settings import Settings
from web.commands import Collapsed, Command, Invalid, Text

SMS_SECRETS = b"comptoir sms secrets v1"
DEFAULT_STOP = "STOP au 36173"
# The holidays package's codes (loyalty/sms_schedule.py): Moselle, Alsace (Bas-Rhin and
# Haut-Rhin), then the overseas departments that add the abolition of slavery's day.
SUBDIVISIONS: dict[str, str] = {
    "": N_("Mainland France only"),
    "57": N_("Moselle (57)"),
    "6AE": N_("Alsace (67, 68)"),
    "971": N_("Guadeloupe (971)"),
    "972": N_("Martinique (972)"),
    "973": N_("French Guiana (973)"),
    "974": N_("Réunion (974)"),
    "976": N_("Mayotte (976)"),
}


# The audit log's names of the settings (backoffice/audit_changes.py labels them).
AUDITED = {"provider": "sms_provider", "sender": "sms_sender", "stop_mention": "stop_mention",
           "holiday_subdivision": "holiday_subdivision"}


class SmsForm(Command):
    """The settings page's form; an empty `api_key` keeps the stored one."""

    provider: Annotated[Literal["recording", "brevo"],
                        Invalid(InvalidInput, N_("Choose one of the SMS providers."))]
    api_key: Annotated[Text, Field(max_length=300),
                       Invalid(InvalidInput, N_("This API key is too long."))] = ""
    sender: Annotated[Collapsed, Field(max_length=40), Invalid(InvalidInput, N_(
        "A sender name has 4 to 11 letters or digits (no accents or signs), with at least "
        "one letter."))] = ""
    stop_mention: Annotated[Collapsed, Field(min_length=4, max_length=40), Invalid(
        InvalidInput, N_("Write the STOP line, e.g. “STOP au 36173”, in 40 characters at "
                         "most."))] = DEFAULT_STOP
    holiday_subdivision: Annotated[
        Literal["", "57", "6AE", "971", "972", "973", "974", "976"],
        Invalid(InvalidInput, N_("Choose one of the regions offered."))] = ""


@dataclass(frozen=True)
class SmsConfig:
    company_id: int
    provider: str = "recording"
    api_key: str = ""
    sender: str = ""
    stop_mention: str = DEFAULT_STOP
    subdivision: str | None = None
    unreadable: bool = False  # its stored key was sealed under another SECRET_KEY
    report_token: str = ""  # names the company in its delivery reports' URL

    def __repr__(self) -> str:  # never the key
        return f"SmsConfig({self.company_id}, {self.provider!r}, {mask(self.api_key)!r})"


def box(settings: Settings) -> SecretBox:
    return box_for(settings.secret_key, SMS_SECRETS)


def _opened(row: SmsSettings, sealer: SecretBox) -> SmsConfig:
    try:
        key, unreadable = sealer.open(row.api_key), False
    except UnreadableSecret:
        key, unreadable = "", True
    return SmsConfig(row.company_id, row.provider, key, row.sender, row.stop_mention,
                     row.holiday_subdivision or None, unreadable, row.report_token or "")


async def config_for(tx: Tx, company_id: int, settings: Settings) -> SmsConfig:
    row = await tx.session.get(SmsSettings, company_id)
    return SmsConfig(company_id) if row is None else _opened(row, box(settings))


_RECORDERS: dict[int, RecordingProvider] = {}


def recorder(company_id: int) -> RecordingProvider:
    """The company's recording provider in this process (made on first use)."""
    return _RECORDERS.setdefault(company_id, RecordingProvider())


def forget_recorders() -> None:
    """Tests: each starts with fresh recording providers (ids repeat across databases)."""
    _RECORDERS.clear()


def provider_for(config: SmsConfig, settings: Settings) -> SmsProvider:
    """The company's provider; close it after use (a Brevo client holds connections)."""
    if config.provider == "brevo":
        if not config.api_key:
            raise SmsProviderDown()  # no key (or unreadable): nothing can go through it
        return BrevoProvider(config.api_key, stop_mention=config.stop_mention,
                             base_url=settings.sms_api_url, timeout_s=10.0)
    recording = recorder(config.company_id)
    recording.stop_mention = config.stop_mention
    return recording


async def credits_of(config: SmsConfig, settings: Settings) -> Decimal | None:
    """The credits left, or None when the provider does not answer (or has no key)."""
    try:
        provider = provider_for(config, settings)
    except SmsProviderDown:
        return None
    try:
        return await provider.credits()
    except SmsProviderDown:
        return None
    finally:
        await provider.close()


def view(config: SmsConfig, base_url: str) -> dict[str, Any]:
    """What the page shows and its form starts from: the key masked, never the key; the
    delivery reports' URL (`base_url`: the site's public URL) once there is a token."""
    return {"provider": config.provider, "api_key_masked": mask(config.api_key),
            "sender": config.sender, "stop_mention": config.stop_mention,
            "holiday_subdivision": config.subdivision or "", "unreadable": config.unreadable,
            "report_url": url_for(base_url, config.report_token) if config.report_token
            else ""}


def _refuse(field: str, message: str) -> InvalidInput:
    error = InvalidInput(message)
    error.field = field
    return error


async def save(tx: Tx, staff: StaffIdentity, form: SmsForm, now: datetime,
               sealer: SecretBox) -> SmsConfig:
    """The settings as given (an empty key keeps the stored one); audited, key left out."""
    staff.require(Permission.CAMPAIGNS)
    sender = check_sender(form.sender)  # BadSenderName, at the sender field
    if "STOP" not in form.stop_mention:
        raise _refuse("stop_mention", N_(
            "Write the STOP line, e.g. “STOP au 36173”, in 40 characters at most."))
    session = tx.session
    row = await session.get(SmsSettings, staff.company_id)
    if row is None:
        row = SmsSettings(company_id=staff.company_id, provider="recording", api_key="",
                          sender="", stop_mention=DEFAULT_STOP, holiday_subdivision=None)
        session.add(row)
    new = {"provider": form.provider, "sender": sender, "stop_mention": form.stop_mention,
           "holiday_subdivision": form.holiday_subdivision or None}
    changes: dict[str, object] = {
        AUDITED[name]: [getattr(row, name), value] for name, value in new.items()
        if getattr(row, name) != value}
    if form.api_key:
        changes["sms_api_key_replaced"] = True
        row.api_key = sealer.seal(form.api_key)
    for name, value in new.items():
        setattr(row, name, value)
    if row.report_token is None:
        row.report_token = new_token()
    config = _opened(row, sealer)
    if config.provider == "brevo" and not config.api_key:
        raise _refuse("api_key", N_("Brevo needs its API key: paste it here."))
    if changes:
        await audit.record(tx, staff.id, staff.company_id, "sms.settings", "sms",
                           changes)
    row.updated_at = now
    await session.flush()
    return config
