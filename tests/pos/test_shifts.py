"""Clocking in and out, a forgotten clock-out closed by a manager, and the hours of a week,
on either database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from accounts.models import Company, Site, Staff, StaffSite
from accounts.service import StaffIdentity
from domain.models import AuditEntry
from errors import Forbidden
from pos.errors import BadClockOut, NotClockedIn, ReasonNeeded, ShiftClosed, UnknownShift
from pos.models import Shift
from pos.shifts import Clocking, clock_in, clock_out, clocked_in, close_forgotten, hours_by_week
from pos.weeks import Week
from tests.pos.conftest import Clock, Shop

pytestmark = pytest.mark.asyncio

MONDAY = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # 8:00 in Paris, week 2026-W49


def at(shop: Shop, staff_id: int | None = None, key: str | None = None) -> Clocking:
    return Clocking(shop.company_id, shop.site_id, staff_id or shop.cashier_id,
                    shop.till_ids[0], key)


async def _staff(shop: Shop, role: str, *, company_id: int | None = None,
                 sites: list[int] | None = None) -> StaffIdentity:
    async with shop.db.sessionmaker() as session, session.begin():
        company = company_id or shop.company_id
        member = Staff(company_id=company, email=f"{role}{company}-{sites}@zinc.test",
                       name=role.title(), password_hash="x", role=role,
                       all_sites=sites is None)
        session.add(member)
        await session.flush()
        for site in sites or []:
            session.add(StaffSite(staff_id=member.id, site_id=site))
        return StaffIdentity(member.id, company, role, member.name,
                             None if sites is None else frozenset(sites))


async def _shifts(shop: Shop) -> list[Shift]:
    async with shop.db.sessionmaker() as session:
        return list((await session.scalars(select(Shift).order_by(Shift.id))).all())


async def test_clocking_in_twice_or_retrying_answers_the_one_open_shift(
    shop: Shop, clock_at: Clock
):
    clock_at.at = MONDAY
    first = await shop.run(lambda tx: clock_in(tx, at(shop, key="in-key-0001")))
    clock_at.at = MONDAY + timedelta(minutes=5)
    again = await shop.run(lambda tx: clock_in(tx, at(shop, key="in-key-0002")))
    retry = await shop.run(lambda tx: clock_in(tx, at(shop, key="in-key-0001")))
    assert first.changed and not again.changed and not retry.changed
    assert first.shift.id == again.shift.id == retry.shift.id
    assert first.shift.clocked_in_at == MONDAY and first.shift.till_id == shop.till_ids[0]


async def test_clocking_out_closes_the_shift_once_and_a_late_retry_changes_nothing(
    shop: Shop, clock_at: Clock
):
    clock_at.at = MONDAY
    await shop.run(lambda tx: clock_in(tx, at(shop, key="in-key-0001")))
    clock_at.at = MONDAY + timedelta(hours=7, minutes=30)
    out = await shop.run(lambda tx: clock_out(tx, at(shop, key="out-key-001")))
    assert out.changed and out.shift.clocked_out_at == clock_at.at
    assert out.shift.closed_by_id == shop.cashier_id and out.shift.close_reason == ""
    clock_at.at += timedelta(minutes=1)
    retried = await shop.run(lambda tx: clock_out(tx, at(shop, key="out-key-001")))
    assert not retried.changed and retried.shift.clocked_out_at == out.shift.clocked_out_at
    with pytest.raises(NotClockedIn):
        await shop.run(lambda tx: clock_out(tx, at(shop, key="out-key-002")))
    # The clock-in's retry arriving after the clock-out opens no second shift.
    late = await shop.run(lambda tx: clock_in(tx, at(shop, key="in-key-0001")))
    assert not late.changed and len(await _shifts(shop)) == 1


async def test_two_clock_ins_at_once_make_one_shift(shop: Shop):
    results = await asyncio.gather(
        *(shop.run(lambda tx, k=k: clock_in(tx, at(shop, key=k)))  # type: ignore[misc]
          for k in ("together-01", "together-02", "together-03")))
    assert len({r.shift.id for r in results}) == 1
    assert sum(r.changed for r in results) == 1
    assert len(await _shifts(shop)) == 1


async def test_a_manager_closes_a_forgotten_shift_with_a_reason_the_audit_log_keeps(
    shop: Shop, clock_at: Clock
):
    manager = await _staff(shop, "manager")
    clock_at.at = MONDAY
    shift = (await shop.run(lambda tx: clock_in(tx, at(shop)))).shift
    clock_at.at = MONDAY + timedelta(days=1)
    left = MONDAY + timedelta(hours=8)
    with pytest.raises(ReasonNeeded):
        await shop.run(lambda tx: close_forgotten(tx, manager, shift.id, left, "  "))
    with pytest.raises(BadClockOut):
        await shop.run(lambda tx: close_forgotten(
            tx, manager, shift.id, MONDAY - timedelta(minutes=1), "oubli"))
    with pytest.raises(BadClockOut):
        await shop.run(lambda tx: close_forgotten(
            tx, manager, shift.id, clock_at.at + timedelta(minutes=1), "oubli"))
    closed = await shop.run(lambda tx: close_forgotten(
        tx, manager, shift.id, left, "Oubli de pointage, parti à 16 h"))
    assert (closed.clocked_out_at, closed.closed_by_id) == (left, manager.id)
    assert closed.close_reason == "Oubli de pointage, parti à 16 h"
    with pytest.raises(ShiftClosed):
        await shop.run(lambda tx: close_forgotten(tx, manager, shift.id, left, "encore"))
    async with shop.db.sessionmaker() as session:
        entries = (await session.scalars(select(AuditEntry))).all()
    assert [(e.actor_staff_id, e.action, e.target) for e in entries] == [
        (manager.id, "shift.closed", f"shift:{shift.id}")]
    changes = entries[0].changes
    assert changes["reason"] == "Oubli de pointage, parti à 16 h"
    assert changes["staff_id"] == shop.cashier_id and changes["clocked_out_at"][0] is None
    assert entries[0].at is not None


async def test_only_a_manager_of_the_shifts_company_and_site_may_close_it(
    shop: Shop, clock_at: Clock
):
    clock_at.at = MONDAY
    shift = (await shop.run(lambda tx: clock_in(tx, at(shop)))).shift
    async with shop.db.sessionmaker() as session, session.begin():
        other = Company(name="Ailleurs SARL")
        session.add(other)
        await session.flush()
        other_site = Site(company_id=other.id, name="Ailleurs")
        elsewhere = Site(company_id=shop.company_id, name="Le Kiosque")
        session.add_all([other_site, elsewhere])
        await session.flush()
        ids = other.id, elsewhere.id
    supervisor = StaffIdentity(shop.supervisor_id, shop.company_id, "supervisor", "Sami")
    stranger = await _staff(shop, "manager", company_id=ids[0])
    kiosk = await _staff(shop, "manager", sites=[ids[1]])
    left = MONDAY + timedelta(hours=1)
    with pytest.raises(Forbidden):
        await shop.run(lambda tx: close_forgotten(tx, supervisor, shift.id, left, "oubli"))
    for manager in (stranger, kiosk):
        with pytest.raises(UnknownShift):
            await shop.run(lambda tx, m=manager: close_forgotten(  # type: ignore[misc]
                tx, m, shift.id, left, "oubli"))
    with pytest.raises(UnknownShift):
        await shop.run(lambda tx: close_forgotten(tx, kiosk, 2**40, left, "oubli"))
    assert (await _shifts(shop))[0].clocked_out_at is None
    async with shop.db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0


async def test_the_hours_of_a_week_per_person_and_day(shop: Shop, clock_at: Clock):
    async def shift(staff_id: int, start: datetime, hours: float | None) -> None:
        clock_at.at = start
        await shop.run(lambda tx: clock_in(tx, at(shop, staff_id)))
        if hours is not None:
            clock_at.at = start + timedelta(hours=hours)
            await shop.run(lambda tx: clock_out(tx, at(shop, staff_id)))

    await shift(shop.cashier_id, MONDAY, 7.5)  # Monday 8:00-15:30 in Paris
    await shift(shop.cashier_id, MONDAY + timedelta(days=4, hours=12), 6.75)  # Fri 20:00-2:45
    await shift(shop.supervisor_id, MONDAY - timedelta(days=7), 1)  # the week before
    await shift(shop.supervisor_id, MONDAY + timedelta(days=6, hours=1), None)  # Sun 9:00-
    now = MONDAY + timedelta(days=6, hours=3, minutes=20)  # Sunday 11:20 in Paris
    week = await shop.run(lambda tx: hours_by_week(
        tx, shop.company_id, [shop.site_id], Week.parse("2026-W49"), now))
    assert [(p.name, p.minutes, p.total, p.open) for p in week] == [
        ("Chloé", [450, 0, 0, 0, 240, 165, 0], 855, False),
        ("Sami", [0, 0, 0, 0, 0, 0, 140], 140, True),
    ]
    other_site = await shop.run(lambda tx: hours_by_week(
        tx, shop.company_id, [shop.site_id + 1000], Week.parse("2026-W49"), now))
    assert other_site == []
    next_week = await shop.run(lambda tx: hours_by_week(
        tx, shop.company_id, [shop.site_id], Week.parse("2026-W50"), now))
    assert next_week == []  # Sami's open shift counts up to now, not into weeks to come
    present = await shop.run(lambda tx: clocked_in(tx, [shop.site_id]))
    assert [(p.name, p.since) for p in present] == [("Sami", MONDAY + timedelta(days=6, hours=1))]
