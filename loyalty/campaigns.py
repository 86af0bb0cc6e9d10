"""Campaigns by hand: an e-mail, SMS or coupon-only message to a segment of the customers.

A campaign is a draft until it goes: sent now, or scheduled at a date and time chosen in
the venue's time zone (kept in UTC), when the campaigns' job (loyalty/campaign_send.py)
sends it. A scheduled send may be cancelled until then. A draft or a cancelled campaign
may be deleted; one that went is kept with its results. Any campaign may be duplicated
(the copy is a draft). Only a draft is edited. Every change is audited.

An e-mail is a list of typed blocks (`Block`): the venue's logo, titles, texts, images
and buttons (links in https only), and at most one coupon block, which gives each
recipient a personal coupon of the campaign's reward (`reward_id`, valid
`coupon_valid_days`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from accounts.models import Company
from accounts.service import StaffIdentity
from domain import audit
from errors import N_, InvalidInput
from loyalty.errors import (
    BadBlocks,
    CampaignIncomplete,
    CampaignNotNow,
    SendTimeInPast,
    UnknownCampaign,
)
from loyalty.models import Campaign, Reward, Segment
from realtime.events import Tx
from web.commands import Command, Id, Integer, Invalid, Text


class Status(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.SCHEDULED, Status.SENDING}),
    Status.SCHEDULED: frozenset({Status.SENDING, Status.CANCELLED}),
    Status.SENDING: frozenset({Status.SENT}),
    Status.SENT: frozenset(),
    Status.CANCELLED: frozenset(),
}
DELETABLE = frozenset({Status.DRAFT, Status.CANCELLED})


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    COUPON = "coupon"


MAX_BLOCKS = 30
HttpsUrl = Annotated[str, Field(pattern=r"^https://[^\s\"'<>]+$", max_length=500)]


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LogoBlock(_Block):
    """The venue's logo at `url` (https), or its name when it has none."""

    kind: Literal["logo"] = "logo"
    url: Annotated[str, Field(pattern=r"^(https://[^\s\"'<>]+)?$", max_length=500)] = ""


class TitleBlock(_Block):
    kind: Literal["title"] = "title"
    text: Annotated[str, Field(min_length=1, max_length=200)]


class TextBlock(_Block):
    kind: Literal["text"] = "text"
    text: Annotated[str, Field(min_length=1, max_length=5000)]


class ImageBlock(_Block):
    kind: Literal["image"] = "image"
    url: HttpsUrl
    alt: Annotated[str, Field(max_length=200)] = ""


class ButtonBlock(_Block):
    kind: Literal["button"] = "button"
    label: Annotated[str, Field(min_length=1, max_length=60)]
    url: HttpsUrl


class CouponBlock(_Block):
    """The recipient's own coupon of the campaign's reward: its code and QR code."""

    kind: Literal["coupon"] = "coupon"


Block = Annotated[LogoBlock | TitleBlock | TextBlock | ImageBlock | ButtonBlock | CouponBlock,
                  Field(discriminator="kind")]
KINDS = ("logo", "title", "text", "image", "button", "coupon")
_BLOCKS: TypeAdapter[list[Block]] = TypeAdapter(list[Block])


def blocks_of(raw: Any) -> list[Block]:
    """Stored or typed blocks, checked: at most MAX_BLOCKS, one coupon block at most."""
    try:
        blocks = _BLOCKS.validate_python(raw)
    except ValidationError:
        raise BadBlocks() from None
    if len(blocks) > MAX_BLOCKS or sum(isinstance(b, CouponBlock) for b in blocks) > 1:
        raise BadBlocks()
    return blocks


def has_coupon(campaign: Campaign) -> bool:
    return campaign.channel == Channel.COUPON or any(
        b.get("kind") == "coupon" for b in campaign.blocks)


class CampaignForm(Command):
    """A draft's fields; `blocks` as `blocks_of` reads them."""

    name: Annotated[Text, Field(min_length=1, max_length=120),
                    Invalid(InvalidInput, N_("Give the campaign a name."))]
    channel: Annotated[Literal["email", "sms", "coupon"],
                       Invalid(InvalidInput, N_("Choose e-mail, SMS or coupon."))]
    segment_id: Annotated[Id | None, Invalid(InvalidInput, N_("Choose one of the segments."))
                          ] = None
    subject: Annotated[Text, Field(max_length=200),
                       Invalid(InvalidInput, N_("A subject of at most 200 characters."))] = ""
    sms_text: Annotated[Text, Field(max_length=1600),
                        Invalid(InvalidInput, N_("An SMS of at most 1600 characters."))] = ""
    reward_id: Annotated[Id | None,
                         Invalid(InvalidInput, N_("Choose one of the rewards offered."))] = None
    coupon_valid_days: Annotated[
        Integer, Field(ge=1, le=3650),
        Invalid(InvalidInput, N_("Give a number of days from 1 to 3650."))] = 30
    blocks: list[Any] = []


def _refuse(field: str, message: str) -> InvalidInput:
    error = InvalidInput(message)
    error.field = field
    return error


async def campaign_of(tx: Tx, company_id: int, campaign_id: int) -> Campaign:
    """One of the company's campaigns (read afresh); another company's is not found."""
    campaign = await tx.session.get(Campaign, campaign_id, populate_existing=True)
    if campaign is None or campaign.company_id != company_id or campaign.automatic:
        raise UnknownCampaign()
    return campaign


def move(campaign: Campaign, to: Status) -> None:
    """The campaign's status, if its transitions allow it; else CampaignNotNow."""
    if to not in TRANSITIONS[Status(campaign.status)]:
        raise CampaignNotNow(status=campaign.status)
    campaign.status = to.value
    campaign.updated_at = datetime.now(UTC)


async def check_refs(tx: Tx, company_id: int, form: CampaignForm) -> None:
    if form.segment_id is not None:
        segment = await tx.session.get(Segment, form.segment_id)
        if segment is None or segment.company_id != company_id:
            raise _refuse("segment_id", N_("Choose one of the segments."))
    if form.reward_id is not None:
        reward = await tx.session.get(Reward, form.reward_id)
        if reward is None or reward.company_id != company_id or not reward.active:
            raise _refuse("reward_id", N_("Choose one of the rewards offered."))


def fill(campaign: Campaign, form: CampaignForm) -> None:
    campaign.name = form.name.strip()
    campaign.channel = form.channel
    campaign.segment_id = form.segment_id
    campaign.subject = form.subject.strip()
    campaign.sms_text = form.sms_text
    campaign.reward_id = form.reward_id
    campaign.coupon_valid_days = form.coupon_valid_days
    campaign.blocks = [b.model_dump() for b in blocks_of(form.blocks)]
    campaign.updated_at = datetime.now(UTC)


def shown(campaign: Campaign) -> dict[str, Any]:
    """What the audit log keeps of a campaign."""
    return {"campaign": campaign.name, "channel": campaign.channel,
            "status": campaign.status, "subject": campaign.subject,
            "segment": campaign.segment_id, "blocks": len(campaign.blocks),
            "reward": campaign.reward_id}


def _target(campaign: Campaign) -> str:
    return f"campaign:{campaign.id}"


async def create(tx: Tx, staff: StaffIdentity, form: CampaignForm) -> Campaign:
    await check_refs(tx, staff.company_id, form)
    campaign = Campaign(company_id=staff.company_id, created_by=staff.id,
                        status=Status.DRAFT.value)
    fill(campaign, form)
    tx.session.add(campaign)
    await tx.session.flush()
    await audit.record(tx, staff.id, staff.company_id, "campaign.added", _target(campaign),
                       shown(campaign))
    return campaign


async def edit(tx: Tx, staff: StaffIdentity, campaign_id: int, form: CampaignForm
               ) -> Campaign:
    """A draft's new fields; a campaign scheduled or gone is not edited (cancel a
    scheduled one's send, or duplicate it)."""
    campaign = await campaign_of(tx, staff.company_id, campaign_id)
    if campaign.status != Status.DRAFT:
        raise CampaignNotNow(status=campaign.status)
    await check_refs(tx, staff.company_id, form)
    before = shown(campaign)
    fill(campaign, form)
    await tx.session.flush()
    changes = audit.diff(before, shown(campaign))
    if changes:
        await audit.record(tx, staff.id, staff.company_id, "campaign.changed",
                           _target(campaign), changes)
    return campaign


def copy_of(source: Campaign, staff_id: int) -> Campaign:
    """A new draft with the campaign's message and trigger, named as a copy, off."""
    return Campaign(
        company_id=source.company_id, name=f"{source.name[:110]} (2)", channel=source.channel,
        status=Status.DRAFT.value, segment_id=source.segment_id, subject=source.subject,
        blocks=list(source.blocks), sms_text=source.sms_text, reward_id=source.reward_id,
        coupon_valid_days=source.coupon_valid_days, created_by=staff_id,
        automatic=source.automatic, trigger_kind=source.trigger_kind,
        trigger_every=source.trigger_every, active=False)


async def duplicate(tx: Tx, staff: StaffIdentity, campaign_id: int) -> Campaign:
    """A draft copy of any campaign (sent or not), named as a copy."""
    source = await campaign_of(tx, staff.company_id, campaign_id)
    copy = copy_of(source, staff.id)
    tx.session.add(copy)
    await tx.session.flush()
    await audit.record(tx, staff.id, staff.company_id, "campaign.duplicated", _target(copy),
                       {**shown(copy), "copy_of_campaign": source.id})
    return copy


async def delete(tx: Tx, staff: StaffIdentity, campaign_id: int) -> None:
    """A draft or a cancelled campaign (which sent nothing); one that went is kept."""
    campaign = await campaign_of(tx, staff.company_id, campaign_id)
    if Status(campaign.status) not in DELETABLE:
        raise CampaignNotNow(status=campaign.status)
    await audit.record(tx, staff.id, staff.company_id, "campaign.deleted", _target(campaign),
                       shown(campaign))
    await tx.session.delete(campaign)
    await tx.session.flush()


def ready(campaign: Campaign) -> None:
    """What the campaign needs to go; else CampaignIncomplete."""
    if campaign.channel == Channel.EMAIL:
        ok = bool(campaign.subject and campaign.blocks)
    elif campaign.channel == Channel.SMS:
        ok = bool(campaign.sms_text.strip())
    else:
        ok = True
    if has_coupon(campaign) and campaign.reward_id is None:
        ok = False
    if not ok:
        raise CampaignIncomplete()


def to_utc(local: datetime, timezone: str) -> datetime:
    """A wall-clock time of the venue's zone (naive) as UTC; of a time said twice when the
    clocks go back, the first."""
    return local.replace(tzinfo=ZoneInfo(timezone), fold=0).astimezone(UTC)


async def schedule(tx: Tx, staff: StaffIdentity, campaign_id: int, local: datetime,
                   now: datetime | None = None) -> Campaign:
    """Send the draft at `local`, a date and time in the venue's time zone, to come."""
    campaign = await campaign_of(tx, staff.company_id, campaign_id)
    company = await tx.session.get(Company, staff.company_id)
    assert company is not None
    at = to_utc(local, company.timezone)
    if at <= (now or datetime.now(UTC)):
        raise SendTimeInPast()
    ready(campaign)
    move(campaign, Status.SCHEDULED)
    campaign.send_at = at
    await tx.session.flush()
    await audit.record(tx, staff.id, staff.company_id, "campaign.scheduled",
                       _target(campaign), {"send_at": at.isoformat()})
    return campaign


async def cancel(tx: Tx, staff: StaffIdentity, campaign_id: int) -> Campaign:
    """A scheduled send called off: the campaign sends nothing (the job skips it)."""
    campaign = await campaign_of(tx, staff.company_id, campaign_id)
    move(campaign, Status.CANCELLED)
    await tx.session.flush()
    await audit.record(tx, staff.id, staff.company_id, "campaign.cancelled",
                       _target(campaign), {"status": [Status.SCHEDULED.value,
                                                      Status.CANCELLED.value]})
    return campaign
