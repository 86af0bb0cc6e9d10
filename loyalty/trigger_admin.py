"""A company's coupon triggers, as its managers set them: add, change, switch on and off,
copy, delete; and the coupons they issued lately. Every change is audited.

Deleting a trigger deletes only the trigger: the coupons it issued stay good until they
expire or are used (a coupon names its occasion, not its trigger's row).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.service import StaffIdentity
from customers.models import Consumer
from domain import audit
from errors import N_, InvalidInput
from loyalty.errors import UnknownTrigger
from loyalty.models import Coupon, CouponTrigger, Reward
from loyalty.triggers import BIRTHDAY_MAX_DAYS, TriggerKind
from realtime.events import Tx
from web.commands import Command, Id, Integer, Invalid

MAX_EVERY = {TriggerKind.VISITS: 1000, TriggerKind.BIRTHDAY: BIRTHDAY_MAX_DAYS,
             TriggerKind.ABSENCE: 3650}
EVERY_ERROR = {
    TriggerKind.VISITS: N_("Give a number of visits from 1 to %(max)s."),
    TriggerKind.BIRTHDAY: N_("Give a number of days before the birthday from 1 to %(max)s."),
    TriggerKind.ABSENCE: N_("Give a number of days of absence from 1 to %(max)s."),
}
MAX_VALID_DAYS = 3650
RECENT = 50


class TriggerForm(Command):
    """When a coupon is given (`kind`, `every`), which reward, and for how many days."""

    kind: Annotated[Literal["visits", "birthday", "absence"],
                    Invalid(InvalidInput, N_("Choose when the coupon is given."))]
    every: Annotated[Integer, Field(ge=1, le=3650),
                     Invalid(InvalidInput, N_("Give a whole number, at least 1."))]
    reward_id: Annotated[Id, Invalid(InvalidInput, N_("Choose one of the rewards offered."))]
    valid_days: Annotated[Integer, Field(ge=1, le=MAX_VALID_DAYS),
                          Invalid(InvalidInput, N_("Give a number of days from 1 to 3650."))]


def _refuse(field: str, message: str, **params: Any) -> InvalidInput:
    error = InvalidInput(message, **params)
    error.field = field
    return error


async def _reward(session: AsyncSession, company_id: int, reward_id: int) -> Reward:
    reward = await session.get(Reward, reward_id)
    if reward is None or reward.company_id != company_id or not reward.active:
        raise _refuse("reward_id", N_("Choose one of the rewards offered."))
    return reward


async def _checked(session: AsyncSession, company_id: int, form: TriggerForm) -> Reward:
    kind = TriggerKind(form.kind)
    if form.every > MAX_EVERY[kind]:
        raise _refuse("every", EVERY_ERROR[kind], max=MAX_EVERY[kind])
    return await _reward(session, company_id, form.reward_id)


def _shown(trigger: CouponTrigger, reward_name: str) -> dict[str, Any]:
    """What the audit log keeps of a trigger."""
    return {"trigger": trigger.kind, "every": trigger.every, "reward": reward_name,
            "valid_days": trigger.valid_days, "active": trigger.active}


async def _name_of(session: AsyncSession, reward_id: int) -> str:
    return await session.scalar(select(Reward.name).where(Reward.id == reward_id)) or ""


async def trigger_of(session: AsyncSession, company_id: int, trigger_id: int) -> CouponTrigger:
    """One of the company's triggers; another company's is not found."""
    trigger = await session.get(CouponTrigger, trigger_id)
    if trigger is None or trigger.company_id != company_id:
        raise UnknownTrigger()
    return trigger


def _target(trigger: CouponTrigger) -> str:
    return f"coupon_trigger:{trigger.id}"


async def add(tx: Tx, staff: StaffIdentity, form: TriggerForm) -> CouponTrigger:
    reward = await _checked(tx.session, staff.company_id, form)
    trigger = CouponTrigger(company_id=staff.company_id, kind=form.kind, every=form.every,
                            reward_id=reward.id, valid_days=form.valid_days, active=True)
    tx.session.add(trigger)
    await tx.session.flush()
    await audit.record(tx, staff.id, staff.company_id, "coupon_trigger.added", _target(trigger),
                       _shown(trigger, reward.name))
    return trigger


async def edit(tx: Tx, staff: StaffIdentity, trigger_id: int, form: TriggerForm
               ) -> CouponTrigger:
    """New values. The coupons it issued stay as they were issued; a visits trigger's
    occasions are counted in visits, so one already served is not served again."""
    session = tx.session
    trigger = await trigger_of(session, staff.company_id, trigger_id)
    before = _shown(trigger, await _name_of(session, trigger.reward_id))
    reward = await _checked(session, staff.company_id, form)
    trigger.kind, trigger.every, trigger.reward_id = form.kind, form.every, reward.id
    trigger.valid_days = form.valid_days
    await session.flush()
    changes = audit.diff(before, _shown(trigger, reward.name))
    if changes:
        await audit.record(tx, staff.id, staff.company_id, "coupon_trigger.changed",
                           _target(trigger), changes)
    return trigger


async def switch(tx: Tx, staff: StaffIdentity, trigger_id: int, on: bool) -> CouponTrigger:
    trigger = await trigger_of(tx.session, staff.company_id, trigger_id)
    if trigger.active != on:
        trigger.active = on
        await tx.session.flush()
        await audit.record(tx, staff.id, staff.company_id,
                           "coupon_trigger.on" if on else "coupon_trigger.off",
                           _target(trigger), {"active": [not on, on]})
    return trigger


async def duplicate(tx: Tx, staff: StaffIdentity, trigger_id: int) -> CouponTrigger:
    """A copy, switched off until the manager has changed it and switches it on: two
    triggers alike would give two coupons for one occasion."""
    session = tx.session
    source = await trigger_of(session, staff.company_id, trigger_id)
    copy = CouponTrigger(company_id=source.company_id, kind=source.kind, every=source.every,
                         reward_id=source.reward_id, valid_days=source.valid_days,
                         active=False)
    session.add(copy)
    await session.flush()
    await audit.record(tx, staff.id, staff.company_id, "coupon_trigger.duplicated",
                       _target(copy), {**_shown(copy, await _name_of(session, copy.reward_id)),
                                       "copy_of": source.id})
    return copy


async def delete(tx: Tx, staff: StaffIdentity, trigger_id: int) -> None:
    session = tx.session
    trigger = await trigger_of(session, staff.company_id, trigger_id)
    shown = _shown(trigger, await _name_of(session, trigger.reward_id))
    await audit.record(tx, staff.id, staff.company_id, "coupon_trigger.deleted",
                       _target(trigger), shown)
    await session.delete(trigger)
    await session.flush()


@dataclass(frozen=True)
class Listed:
    """A trigger as its page lists it."""

    trigger: CouponTrigger
    reward_name: str
    reward_active: bool


async def triggers(session: AsyncSession, company_id: int) -> list[Listed]:
    rows = await session.execute(
        select(CouponTrigger, Reward.name, Reward.active)
        .join(Reward, Reward.id == CouponTrigger.reward_id)
        .where(CouponTrigger.company_id == company_id)
        .order_by(CouponTrigger.id)
    )
    return [Listed(t, name, active) for t, name, active in rows]


async def rewards(session: AsyncSession, company_id: int) -> list[tuple[int, str]]:
    """The rewards a trigger may give: those offered."""
    rows = await session.execute(
        select(Reward.id, Reward.name).where(Reward.company_id == company_id, Reward.active)
        .order_by(Reward.name, Reward.id))
    return [(reward_id, name) for reward_id, name in rows]


@dataclass(frozen=True)
class Issued:
    """A coupon a trigger issued, as the page lists it."""

    customer: str
    reward: str
    kind: str
    trigger_id: int | None  # None: not a trigger's (a campaign's)
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None


def trigger_id_of(key: str | None) -> int | None:
    """The trigger named in an occasion's key ("visits:<trigger>:…")."""
    parts = (key or "").split(":")
    return int(parts[1]) if len(parts) > 2 and parts[1].isdecimal() else None


async def recent_coupons(session: AsyncSession, company_id: int) -> list[Issued]:
    """The coupons the company's triggers issued lately, the newest first."""
    rows = await session.execute(
        select(Consumer.name, Reward.name, Coupon.trigger, Coupon.key, Coupon.created_at,
               Coupon.expires_at, Coupon.used_at)
        .join(Reward, Reward.id == Coupon.reward_id)
        .outerjoin(Consumer, Consumer.id == Coupon.consumer_id)
        .where(Coupon.company_id == company_id,
               Coupon.trigger.in_([k.value for k in TriggerKind]))
        .order_by(Coupon.created_at.desc(), Coupon.id.desc()).limit(RECENT)
    )
    return [Issued(customer or "", reward, kind, trigger_id_of(key), issued, expires, used)
            for customer, reward, kind, key, issued, expires, used in rows]
