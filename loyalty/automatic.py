"""Automatic sends: an e-mail or an SMS a trigger sends to each customer once per occasion.

An automatic send is a campaign (`Campaign.automatic`) with a trigger: every N earning
visits, N days before the birthday, or after N days of absence (`trigger_kind`,
`trigger_every`; loyalty/triggers.py, the rules the coupon triggers follow). A manager
writes it as a campaign (the same form and blocks, an optional coupon block), switches it
on and off (`active`; on only once it is ready), duplicates it (the copy is off), and
deletes it while it has sent nothing (then it is switched off, kept with its results).
Every change is audited.

When its trigger fires for a customer who may receive its channel (consent given, an
e-mail or a mobile number), one message is queued under the occasion's key,
`auto:<occasion>` (the k-th earning visit, the birthday of a year, the absence since a
day): INSERT … ON CONFLICT DO NOTHING on the message's unique key, so a replayed visit, or
two processes sweeping at once, queue one message. The visits trigger is asked in the
transaction of the visit that earned (loyalty/ledger.py `post`); the birthday and absence
ones by `sweep_once` (a timer of every process, app.py's "automatic"), through the
queries loyalty/occasions.py shares with the coupon triggers. The messages then go as a
campaign's do: e-mails by loyalty/campaign_send.py (a coupon block gives the occasion its
own coupon), SMS by loyalty/sms_dispatch.py within the quiet hours.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import Field
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import Company
from accounts.service import StaffIdentity
from customers.models import Consumer
from domain import audit
from errors import N_, InvalidInput
from loyalty import occasions
from loyalty.campaigns import CampaignForm, Status, check_refs, copy_of, fill, ready, shown
from loyalty.errors import AutomaticSendUsed, BadTrigger, UnknownCampaign
from loyalty.issuing import _insert, earning_visits
from loyalty.models import Campaign, CampaignMessage
from loyalty.recipients import eligible, reachable
from loyalty.triggers import BIRTHDAY_MAX_DAYS, Rule, TriggerKind, visits_key
from realtime.bus import Bus
from realtime.events import Tx
from web.commands import Integer, Invalid

MAX_EVERY = 365
SWEPT = (TriggerKind.BIRTHDAY.value, TriggerKind.ABSENCE.value)
MAX_BATCHES = 10  # per automatic send and sweep
UNREACHABLE = "unreachable"  # consent or address gone when its occasion came


class AutomaticForm(CampaignForm):
    """An automatic send's fields: a campaign's, an e-mail or an SMS, and its trigger."""

    channel: Annotated[Literal["email", "sms"],
                       Invalid(InvalidInput, N_("Choose e-mail or SMS."))]
    trigger_kind: Annotated[Literal["visits", "birthday", "absence"],
                            Invalid(InvalidInput, N_("Choose what sends it."))]
    trigger_every: Annotated[Integer, Field(ge=1, le=MAX_EVERY), Invalid(BadTrigger)]


def rule_of(campaign: Campaign) -> Rule:
    assert campaign.trigger_kind is not None
    return Rule(campaign.id, TriggerKind(campaign.trigger_kind), campaign.trigger_every)


def message_key(occasion: str) -> str:
    """The message's key for an occasion's (loyalty/triggers.py, which names the send)."""
    return f"auto:{occasion}"


def _target(campaign: Campaign) -> str:
    return f"campaign:{campaign.id}"


def _shown(campaign: Campaign) -> dict[str, object]:
    return {**shown(campaign), "sent_when": campaign.trigger_kind,
            "every": campaign.trigger_every, "active": campaign.active}


async def automatic_of(tx: Tx, company_id: int, campaign_id: int) -> Campaign:
    """One of the company's automatic sends (read afresh)."""
    campaign = await tx.session.get(Campaign, campaign_id, populate_existing=True)
    if campaign is None or campaign.company_id != company_id or not campaign.automatic:
        raise UnknownCampaign()
    return campaign


def _fill(campaign: Campaign, form: AutomaticForm) -> None:
    if form.trigger_kind == TriggerKind.BIRTHDAY.value and form.trigger_every > BIRTHDAY_MAX_DAYS:
        error = BadTrigger()
        error.field = "trigger_every"
        raise error
    fill(campaign, form)
    campaign.trigger_kind = form.trigger_kind
    campaign.trigger_every = form.trigger_every


async def create(tx: Tx, staff: StaffIdentity, form: AutomaticForm) -> Campaign:
    """A new automatic send, off until switched on."""
    await check_refs(tx, staff.company_id, form)
    campaign = Campaign(company_id=staff.company_id, created_by=staff.id, automatic=True,
                        active=False, status=Status.DRAFT.value)
    _fill(campaign, form)
    tx.session.add(campaign)
    await tx.session.flush()
    await audit.record(tx, staff.id, staff.company_id, "automatic.added", _target(campaign),
                       _shown(campaign))
    return campaign


async def edit(tx: Tx, staff: StaffIdentity, campaign_id: int, form: AutomaticForm
               ) -> Campaign:
    """New fields, on or off: the messages to come follow them (those sent stay as they
    went). A send that is on stays ready."""
    campaign = await automatic_of(tx, staff.company_id, campaign_id)
    await check_refs(tx, staff.company_id, form)
    before = _shown(campaign)
    _fill(campaign, form)
    if campaign.active:
        ready(campaign)
    await tx.session.flush()
    changes = audit.diff(before, _shown(campaign))
    if changes:
        await audit.record(tx, staff.id, staff.company_id, "automatic.changed",
                           _target(campaign), changes)
    return campaign


async def switch(tx: Tx, staff: StaffIdentity, campaign_id: int, on: bool) -> Campaign:
    """On (once it is ready: CampaignIncomplete) or off; the same again changes nothing."""
    campaign = await automatic_of(tx, staff.company_id, campaign_id)
    if campaign.active == on:
        return campaign
    if on:
        ready(campaign)
    campaign.active = on
    campaign.updated_at = datetime.now(UTC)
    await tx.session.flush()
    await audit.record(tx, staff.id, staff.company_id, "automatic.switched",
                       _target(campaign), {"active": [not on, on]})
    return campaign


async def duplicate(tx: Tx, staff: StaffIdentity, campaign_id: int) -> Campaign:
    """A copy, off, named as a copy."""
    source = await automatic_of(tx, staff.company_id, campaign_id)
    copy = copy_of(source, staff.id)
    tx.session.add(copy)
    await tx.session.flush()
    await audit.record(tx, staff.id, staff.company_id, "automatic.duplicated", _target(copy),
                       {**_shown(copy), "copy_of_campaign": source.id})
    return copy


async def delete(tx: Tx, staff: StaffIdentity, campaign_id: int) -> None:
    """An automatic send that sent nothing; one that did is switched off instead."""
    campaign = await automatic_of(tx, staff.company_id, campaign_id)
    used = await tx.session.scalar(select(exists().where(
        CampaignMessage.campaign_id == campaign.id)))
    if used:
        raise AutomaticSendUsed()
    await audit.record(tx, staff.id, staff.company_id, "automatic.deleted", _target(campaign),
                       _shown(campaign))
    await tx.session.delete(campaign)
    await tx.session.flush()


# Firing.

async def give(tx: Tx, campaign: Campaign, consumer_id: int, occasion: str, now: datetime,
               *, unreachable_too: bool) -> bool:
    """The occasion's message queued, if the customer may receive the channel; True if it
    was queued now (False: queued before, here or by another process). With
    `unreachable_too`, a customer who may not is noted (a failed message under the
    occasion's key) so that the sweep does not ask again."""
    found = await reachable(tx.session, campaign, [consumer_id])
    if not found and not unreachable_too:
        return False
    values = {"company_id": campaign.company_id, "campaign_id": campaign.id,
              "consumer_id": consumer_id, "channel": campaign.channel,
              "key": message_key(occasion), "created_at": now}
    if found:
        values.update(address=found[0][1], status="queued")
    else:
        values.update(address="", status="failed", error=UNREACHABLE)
    made = await tx.session.scalar(
        _insert(tx.session)(CampaignMessage).values(**values)
        .on_conflict_do_nothing(index_elements=[CampaignMessage.key])
        .returning(CampaignMessage.id))
    return made is not None and bool(found)


async def _live(session: AsyncSession, company_id: int, kinds: tuple[str, ...]
                ) -> list[Campaign]:
    return list(await session.scalars(
        select(Campaign).where(Campaign.company_id == company_id, Campaign.automatic,
                               Campaign.active, Campaign.trigger_kind.in_(kinds))
        .order_by(Campaign.id)))


async def after_visit(tx: Tx, company_id: int, consumer_id: int,
                      now: datetime | None = None) -> int:
    """A visit of this customer just earned (in this transaction): the messages of the
    automatic sends its count calls for; how many were queued."""
    session = tx.session
    live = await _live(session, company_id, (TriggerKind.VISITS.value,))
    if not live:
        return 0
    owner = await session.scalar(select(Consumer.company_id).where(Consumer.id == consumer_id))
    if owner != company_id:
        return 0
    visits = await earning_visits(session, company_id, consumer_id)
    moment, queued = now or datetime.now(UTC), 0
    for campaign in live:
        occasion = visits_key(rule_of(campaign), consumer_id, visits)
        if occasion is not None and await give(tx, campaign, consumer_id, occasion, moment,
                                               unreachable_too=False):
            queued += 1
    return queued


def served_by(campaign: Campaign) -> occasions.Served:
    """The automatic send's occasions, served by its messages."""

    async def serve(tx: Tx, consumer_id: int, occasion: str, now: datetime) -> bool:
        return await give(tx, campaign, consumer_id, occasion, now, unreachable_too=True)

    rule = rule_of(campaign)
    return occasions.Served(rule, CampaignMessage,
                            message_key(f"{rule.kind.value}:{rule.id}:"), serve,
                            eligible(campaign.channel))


async def sweep_once(sessionmaker: async_sessionmaker[AsyncSession], bus: Bus,
                     now: datetime | None = None) -> int:
    """Queue the birthday and absence messages due; returns how many were queued."""
    moment = now or datetime.now(UTC)
    async with sessionmaker() as session:
        companies = (await session.execute(
            select(Company.id, Company.timezone).where(Company.id.in_(
                select(Campaign.company_id).where(Campaign.automatic, Campaign.active,
                                                  Campaign.trigger_kind.in_(SWEPT))))
            .order_by(Company.id))).all()
    made = 0
    for company_id, tz in companies:
        async with sessionmaker() as session:
            live = await _live(session, company_id, SWEPT)
            session.expunge_all()
        for campaign in live:
            made += await occasions.sweep(sessionmaker, bus, company_id, ZoneInfo(tz),
                                          served_by(campaign), moment, MAX_BATCHES)
    return made
