"""Staff clock in and out; a manager closes a forgotten shift; the hours per person and week.

Clocking is idempotent: clocking in while clocked in answers the open shift, and a retry
of a clock-in or clock-out (the same client key) answers the shift it made or closed.
Two clock-ins at once make one shift: the second insert meets the partial unique index
(pos/models.py, Shift) and the transaction runner runs it again, which finds the first.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update

from accounts.models import Company, Staff
from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import guard
from db.base import changed
from domain import audit
from pos import clock
from pos.errors import BadClockOut, NotClockedIn, ReasonNeeded, ShiftClosed, UnknownShift
from pos.journal import to_the_second
from pos.models import Shift
from pos.weeks import DAYS, Span, Week, minutes_by_day
from realtime.events import Tx

MAX_REASON = 200


@dataclass(frozen=True)
class Clocking:
    """A member of staff clocking in or out at a site (at a till, when one is known)."""

    company_id: int
    site_id: int
    staff_id: int
    till_id: int | None = None
    key: str | None = None  # the client's idempotency key


@dataclass(frozen=True)
class Clocked:
    shift: Shift
    changed: bool  # False: a retry, or already so; nothing was written


async def open_shift(tx: Tx, staff_id: int) -> Shift | None:
    return await tx.session.scalar(select(Shift).where(
        Shift.staff_id == staff_id, Shift.clocked_out_at.is_(None)
    ).execution_options(populate_existing=True))


async def _by_key(tx: Tx, staff_id: int, column: str, key: str | None) -> Shift | None:
    if key is None:
        return None
    return await tx.session.scalar(select(Shift).where(
        Shift.staff_id == staff_id, getattr(Shift, column) == key))


async def clock_in(tx: Tx, command: Clocking) -> Clocked:
    done = await _by_key(tx, command.staff_id, "in_key", command.key)
    if done is not None:
        return Clocked(done, False)
    current = await open_shift(tx, command.staff_id)
    if current is not None:
        return Clocked(current, False)
    shift = Shift(company_id=command.company_id, site_id=command.site_id,
                  till_id=command.till_id, staff_id=command.staff_id,
                  clocked_in_at=to_the_second(clock.now()), in_key=command.key)
    tx.session.add(shift)
    await tx.session.flush()  # a concurrent clock-in's shift: IntegrityError, run again
    return Clocked(shift, True)


async def clock_out(tx: Tx, command: Clocking) -> Clocked:
    done = await _by_key(tx, command.staff_id, "out_key", command.key)
    if done is not None:
        return Clocked(done, False)
    current = await open_shift(tx, command.staff_id)
    if current is None or not await _close(tx, current, to_the_second(clock.now()),
                                           command.staff_id, "", command.key):
        raise NotClockedIn()
    return Clocked(current, True)


async def _close(tx: Tx, shift: Shift, at: datetime, by: int, reason: str,
                 key: str | None = None) -> bool:
    """Close the shift if still open (a conditional write: a concurrent close wins once)."""
    closed = changed(await tx.session.execute(
        update(Shift).where(Shift.id == shift.id, Shift.clocked_out_at.is_(None))
        .values(clocked_out_at=at, closed_by_id=by, close_reason=reason, out_key=key)
    ))
    if closed:
        await tx.session.refresh(shift)
    return bool(closed)


async def close_forgotten(
    tx: Tx, manager: StaffIdentity, shift_id: int, at: datetime, reason: str
) -> Shift:
    """A manager (HOURS) closes a shift whose member of staff forgot to clock out, at the
    time they say, with why; the audit log keeps who, when and why."""
    manager.require(Permission.HOURS)
    shift = await tx.session.get(Shift, shift_id)
    guard(manager, shift.company_id if shift else None, UnknownShift,
          site_id=shift.site_id if shift else None)
    assert shift is not None
    why = " ".join(reason.split())
    if not why or len(why) > MAX_REASON:
        raise ReasonNeeded()
    at = to_the_second(at)
    if at < shift.clocked_in_at or at > clock.now():
        raise BadClockOut()
    opened = shift.clocked_in_at
    if not await _close(tx, shift, at, manager.id, why):
        raise ShiftClosed()
    name = await tx.session.scalar(select(Staff.name).where(Staff.id == shift.staff_id))
    await audit.record(tx, manager.id, shift.company_id, "shift.closed", f"shift:{shift.id}", {
        "staff": name, "staff_id": shift.staff_id, "site_id": shift.site_id,
        "clocked_in_at": opened.isoformat(), "clocked_out_at": [None, at.isoformat()],
        "reason": why,
    })
    return shift


@dataclass(frozen=True)
class Present:
    """Someone clocked in at a site, and since when."""

    shift_id: int
    staff_id: int
    name: str
    since: datetime


async def clocked_in(tx: Tx, site_ids: Collection[int]) -> list[Present]:
    rows = (await tx.session.execute(
        select(Shift.id, Shift.staff_id, Staff.name, Shift.clocked_in_at)
        .join(Staff, Staff.id == Shift.staff_id)
        .where(Shift.site_id.in_(list(site_ids)), Shift.clocked_out_at.is_(None))
        .order_by(Shift.clocked_in_at, Shift.id)
    )).all()
    return [Present(*row) for row in rows]


@dataclass(frozen=True)
class PersonWeek:
    """A member of staff's week: minutes per day (Monday first) and in all."""

    staff_id: int
    name: str
    minutes: list[int]
    open: bool  # clocked in now, within the week

    @property
    def total(self) -> int:
        return sum(self.minutes)


async def timezone_of(tx: Tx, company_id: int) -> ZoneInfo:
    name = await tx.session.scalar(select(Company.timezone).where(Company.id == company_id))
    return ZoneInfo(name or "Europe/Paris")


async def hours_by_week(
    tx: Tx, company_id: int, site_ids: Collection[int], week: Week,
    now: datetime | None = None,
) -> list[PersonWeek]:
    """Per member of staff who worked at these sites of the company during the week, the
    minutes of each day in the company's time zone (a shift across midnight counts on both
    days; an open shift counts up to now), by name."""
    tz = await timezone_of(tx, company_id)
    now = now or clock.now()
    start, end = week.bounds(tz)
    # An open shift counts up to now: into this week only if the week has begun.
    counted = Shift.clocked_out_at > start
    if now > start:
        counted = or_(counted, Shift.clocked_out_at.is_(None))
    rows = (await tx.session.execute(
        select(Shift.staff_id, Staff.name, Shift.clocked_in_at, Shift.clocked_out_at)
        .join(Staff, Staff.id == Shift.staff_id)
        .where(Shift.company_id == company_id, Shift.site_id.in_(list(site_ids)),
               Shift.clocked_in_at < end, counted)
    )).all()
    names = {staff_id: name for staff_id, name, _, _ in rows}
    still = {staff_id for staff_id, _, _, out in rows if out is None}
    minutes = minutes_by_day((Span(s, a, b) for s, _, a, b in rows), week, tz, now)
    people = [PersonWeek(s, names[s], minutes.get(s, [0] * DAYS), s in still) for s in names]
    return sorted(people, key=lambda p: (p.name.casefold(), p.staff_id))
