"""The queued SMS of campaigns, sent on a timer by every process, within the rules.

Company by company: at a quiet time (20:00-08:00, Sundays, public holidays, in the
company's time zone) its due messages are held until the next allowed instant
(`send_after`); else they are sent a batch of `BATCH` at a time. A batch is first claimed,
in a transaction of its own, by a conditional update (`status` queued, or held and due, →
sending) that returns the rows it changed: two processes never claim one message, on
PostgreSQL (the second update waits for the first and finds the rows no longer due) as on
SQLite (writes take turns). Before a batch is sent, the provider's credits are checked
against its parts × the cost of a part: when they are short the whole batch is blocked and
nothing of it sent, until someone retries the blocked sends (`retry_blocked`).

Each message is sent with its campaign's text and the STOP line (sms_text.commercial), and
its outcome written at once: sent (the provider's id, the parts billed) or failed (the
error's code). A customer who withdrew their SMS consent since is not sent it (failed,
`sms_no_consent`). Sends are never retried by themselves: a provider down during a send may
have sent it. A claim whose process died before writing the outcome (`sending` for over
`STALE`) is failed as interrupted, for the same reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from accounts.models import Company
from errors import DomainError
from loyalty.models import Campaign, CampaignMessage, LoyaltyProfile
from loyalty.sms_errors import NoSmsCredits, SmsProviderDown
from loyalty.sms_providers import SmsProvider
from loyalty.sms_schedule import allowed, next_allowed
from loyalty.sms_settings import SmsConfig, config_for, provider_for
from loyalty.sms_text import Sms, commercial
from realtime.bus import Bus
from realtime.events import Tx, run
from settings import Settings

QUEUED, HELD, BLOCKED, SENDING = "queued", "held", "blocked", "sending"
SENT, FAILED = "sent", "failed"
BATCH = 100
MAX_BATCHES = 20  # per company and round: what is left waits for the next one
STALE = timedelta(minutes=15)
INTERRUPTED = "sms_interrupted"
NO_CONSENT = "sms_no_consent"

M = CampaignMessage


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(and_(M.status == QUEUED, or_(M.send_after.is_(None), M.send_after <= now)),
               and_(M.status == HELD, M.send_after <= now))


def _of(company_id: int) -> ColumnElement[bool]:
    return and_(M.company_id == company_id, M.channel == "sms")


async def _fail_stale(tx: Tx, now: datetime) -> None:
    await tx.session.execute(
        update(M).where(M.channel == "sms", M.status == SENDING, M.sent_at < now - STALE)
        .values(status=FAILED, error=INTERRUPTED).execution_options(synchronize_session=False))


async def _companies(session: AsyncSession, now: datetime) -> list[tuple[int, str]]:
    rows = (await session.execute(
        select(Company.id, Company.timezone)
        .where(Company.id.in_(select(M.company_id).where(M.channel == "sms", _due(now))))
        .order_by(Company.id))).all()
    return [(company_id, tz) for company_id, tz in rows]


async def _hold(tx: Tx, company_id: int, until: datetime, now: datetime) -> int:
    done = await tx.session.execute(
        update(M).where(_of(company_id), _due(now))
        .values(status=HELD, send_after=until.astimezone(UTC))
        .execution_options(synchronize_session=False))
    return int(getattr(done, "rowcount", 0) or 0)


async def _claim(tx: Tx, company_id: int, now: datetime) -> list[tuple[int, int, str]]:
    """Up to BATCH due messages, now ours: (id, campaign, number)."""
    ids = list((await tx.session.scalars(
        select(M.id).where(_of(company_id), _due(now)).order_by(M.id).limit(BATCH))).all())
    if not ids:
        return []
    rows = (await tx.session.execute(
        update(M).where(M.id.in_(ids), _due(now))  # only what no one claimed meanwhile
        .values(status=SENDING, sent_at=now)
        .returning(M.id, M.campaign_id, M.address)
        .execution_options(synchronize_session=False))).all()
    return sorted((row[0], row[1], row[2]) for row in rows)


async def _set(tx: Tx, ids: Sequence[int], **values: Any) -> None:
    await tx.session.execute(
        update(M).where(M.id.in_(list(ids)), M.status == SENDING).values(**values)
        .execution_options(synchronize_session=False))


async def _texts(tx: Tx, campaign_ids: set[int], mention: str) -> dict[int, Sms]:
    rows = (await tx.session.execute(
        select(Campaign.id, Campaign.sms_text).where(Campaign.id.in_(campaign_ids)))).all()
    return {campaign_id: commercial(text, mention) for campaign_id, text in rows}


async def _withdrawn(tx: Tx, ids: list[int]) -> list[int]:
    """The messages whose customer withdrew their SMS consent since it was queued (held
    overnight, blocked for days): they are not sent. A message to no customer (a test
    send to oneself) is."""
    consents = select(LoyaltyProfile.consumer_id).where(
        LoyaltyProfile.consumer_id == M.consumer_id, LoyaltyProfile.company_id == M.company_id,
        LoyaltyProfile.sms_consent_at.is_not(None))
    return list((await tx.session.scalars(select(M.id).where(
        M.id.in_(ids), M.consumer_id.is_not(None), ~consents.exists()))).all())


def cost_of(provider: SmsProvider, parts: int) -> Decimal:
    """The credits `parts` will take: the provider's cost of a part (1 when it says none:
    Brevo bills a French SMS part one credit)."""
    return parts * Decimal(getattr(provider, "cost_per_part", 1))


async def _send_batch(sessionmaker: async_sessionmaker[AsyncSession], bus: Bus,
                      provider: SmsProvider, config: SmsConfig, now: datetime,
                      batch: list[tuple[int, int, str]]) -> tuple[int, bool]:
    """(messages sent, whether to go on with the next batch)."""
    withdrawn = await run(sessionmaker, bus, lambda tx: _withdrawn(tx, [m for m, _, _ in batch]))
    if withdrawn:
        await run(sessionmaker, bus, partial(_set, ids=withdrawn, status=FAILED, sent_at=None,
                                             error=NO_CONSENT))
        batch = [row for row in batch if row[0] not in set(withdrawn)]
        if not batch:
            return 0, True
    ids = [message_id for message_id, _, _ in batch]
    texts = await run(sessionmaker, bus, lambda tx: _texts(
        tx, {campaign_id for _, campaign_id, _ in batch}, provider.stop_mention))
    needed = cost_of(provider, sum(texts[c].length.parts for _, c, _ in batch))
    try:
        credits = await provider.credits()
    except SmsProviderDown:  # nothing sent: the batch waits for the next round
        await run(sessionmaker, bus, partial(_set, ids=ids, status=QUEUED, sent_at=None))
        return 0, False
    if needed > credits:
        await run(sessionmaker, bus, partial(_set, ids=ids, status=BLOCKED, sent_at=None,
                                             error=NoSmsCredits.code))
        return 0, False
    sent = 0
    for index, (message_id, campaign_id, number) in enumerate(batch):
        sms = texts[campaign_id]
        values: dict[str, Any]
        try:
            result = await provider.send(number, sms.text, config.sender, commercial=True)
        except NoSmsCredits:
            values = {"status": BLOCKED, "sent_at": None, "error": NoSmsCredits.code}
        except DomainError as error:
            values = {"status": FAILED, "error": error.code[:200]}
            if isinstance(error, SmsProviderDown):  # the rest waits for the next round
                rest = ids[index + 1:]
                await run(sessionmaker, bus, partial(_set, ids=[message_id], **values))
                await run(sessionmaker, bus, partial(_set, ids=rest, status=QUEUED,
                                                     sent_at=None))
                return sent, False
        else:
            values = {"status": SENT, "provider_id": result.provider_id[:80],
                      "parts": result.parts, "error": "", "sent_at": now}
            sent += 1
        await run(sessionmaker, bus, partial(_set, ids=[message_id], **values))
    return sent, True


async def _company(sessionmaker: async_sessionmaker[AsyncSession], bus: Bus,
                   settings: Settings, company_id: int, tz: str, now: datetime) -> int:
    config = await run(sessionmaker, bus, lambda tx: config_for(tx, company_id, settings))
    zone = ZoneInfo(tz)
    if not allowed(now, zone, config.subdivision):
        until = next_allowed(now, zone, config.subdivision)
        await run(sessionmaker, bus, partial(_hold, company_id=company_id, until=until,
                                             now=now))
        return 0
    if not config.sender or (config.provider == "brevo" and not config.api_key):
        return 0  # not set up: the messages wait, and the SMS page says why
    try:
        provider = provider_for(config, settings)
    except SmsProviderDown:
        return 0
    sent = 0
    try:
        for _ in range(MAX_BATCHES):
            batch = await run(sessionmaker, bus, partial(_claim, company_id=company_id,
                                                         now=now))
            if not batch:
                break
            made, go_on = await _send_batch(sessionmaker, bus, provider, config, now, batch)
            sent += made
            if not go_on:
                break
    finally:
        await provider.close()
    return sent


async def dispatch_once(sessionmaker: async_sessionmaker[AsyncSession], bus: Bus,
                        settings: Settings, now: datetime | None = None) -> int:
    """Hold or send the SMS due; returns how many were sent."""
    moment = now or datetime.now(UTC)
    await run(sessionmaker, bus, partial(_fail_stale, now=moment))
    async with sessionmaker() as session:
        companies = await _companies(session, moment)
    sent = 0
    for company_id, tz in companies:
        sent += await _company(sessionmaker, bus, settings, company_id, tz, moment)
    return sent


async def retry_blocked(tx: Tx, company_id: int, campaign_id: int | None = None) -> int:
    """The company's blocked SMS (of one campaign, or all) queued again; how many."""
    where = [_of(company_id), M.status == BLOCKED]
    if campaign_id is not None:
        where.append(M.campaign_id == campaign_id)
    done = await tx.session.execute(
        update(M).where(*where).values(status=QUEUED, error="")
        .execution_options(synchronize_session=False))
    return int(getattr(done, "rowcount", 0) or 0)


async def counts(session: AsyncSession, company_id: int) -> dict[str, int]:
    """The company's SMS waiting, by status (queued, held, blocked, sending)."""
    rows = (await session.execute(
        select(M.status, func.count()).where(
            _of(company_id), M.status.in_([QUEUED, HELD, BLOCKED, SENDING]))
        .group_by(M.status))).all()
    found = {status: int(n) for status, n in rows}
    return {status: found.get(status, 0) for status in (QUEUED, HELD, BLOCKED, SENDING)}
