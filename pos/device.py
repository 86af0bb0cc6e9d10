"""A till is a device: paired to its site once, then signed in by a credential it keeps;
staff switch in on it with their personal PIN.

An administrator asks for a pairing code (valid ten minutes, shown once, stored as SHA-256
only). The device that types it gets a long-lived credential in an HttpOnly cookie (also
stored as SHA-256 only); revoking the till, or pairing it again, makes that credential
open nothing. Staff never type a company password on a shared device: they pick their
name and type their PIN, which opens an ordinary staff session bound to this till. Tries
are limited per till and per member of staff.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection
from starlette.responses import RedirectResponse, Response

from accounts.models import Staff, StaffSite
from accounts.roles import Permission
from accounts.service import StaffIdentity, identities, identity
from accounts.staff_admin import check_pin
from pos import clock
from pos.errors import (
    NotAtTill,
    NotPaired,
    PairingRefused,
    PinRefused,
    TooManyPairingTries,
    TooManyPinTries,
    UnknownTill,
)
from pos.journal import JournalKind, write
from pos.models import Till
from realtime.events import Tx, run
from web import ratelimit
from web.ratelimit import Rule
from web.sessions import STAFF_ID
from web.state import AppState, app_state

COOKIE = "comptoir_till"
TILL_ID = "till_id"  # the session's till, beside STAFF_ID, once someone switched in
TRAINING = "till_training"  # the supervising member's id while the till is in training
CREDENTIAL_DAYS = 5 * 365  # a till's credential lasts until it is revoked or re-paired
PAIRING_MINUTES = 10
# The pairing code: 8 letters and digits none of which looks like another, as "ABCD-2345".
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
SEEN_EVERY_S = 60  # `last_seen_at` is written at most once a minute
# Wrong tries before a pause: per till (whoever types) and per member of staff (wherever).
PIN_TRIES_PER_TILL = Rule("till.pin.till", 10, 300)
PIN_TRIES_PER_STAFF = Rule("till.pin.staff", 5, 300)
PAIRING_TRIES = Rule("till.pairing", 10, 600)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normal_code(typed: str) -> str:
    """A pairing code as typed (any case, spaces or dashes) in its one spelling."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())


def shown_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


async def issue_pairing(tx: Tx, company_id: int, till_id: int, staff_id: int) -> str:
    """A new pairing code for the till (the one before opens nothing any more), as shown."""
    till = await tx.session.get(Till, till_id)
    if till is None or till.company_id != company_id:
        raise UnknownTill()
    if till.revoked_at is not None:
        raise PairingRefused()
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    till.pairing_hash = digest(code)
    till.pairing_expires_at = clock.now() + timedelta(minutes=PAIRING_MINUTES)
    await write(tx, company_id, JournalKind.CONFIG_CHANGED,
                {"change": "pairing_code_issued", "prefix": till.prefix},
                site_id=till.site_id, till_id=till.id, staff_id=staff_id)
    return shown_code(code)


@dataclass(frozen=True)
class Paired:
    till: Till
    credential: str  # for the device's cookie; never stored


async def pair(tx: Tx, typed: str) -> Paired:
    """The device that typed a valid code becomes the till: a new credential (the one
    before, if any, opens nothing any more). A code works once: of two devices typing it
    at the same moment, one gets the till."""
    code = normal_code(typed)
    if len(code) != CODE_LENGTH:
        raise PairingRefused()
    now = clock.now()
    credential = secrets.token_urlsafe(32)
    till_id = await tx.session.scalar(
        update(Till)
        .where(Till.pairing_hash == digest(code), Till.pairing_expires_at > now,
               Till.revoked_at.is_(None))
        .values(pairing_hash=None, pairing_expires_at=None,
                credential_hash=digest(credential), paired_at=now, last_seen_at=now)
        .returning(Till.id)
        .execution_options(synchronize_session=False)
    )
    if till_id is None:
        raise PairingRefused()
    till = await tx.session.get(Till, till_id, populate_existing=True)
    assert till is not None
    await write(tx, till.company_id, JournalKind.TILL_PAIRED, {"prefix": till.prefix},
                site_id=till.site_id, till_id=till.id)
    return Paired(till, credential)


async def pair_limited(state: AppState, client: str, typed: str) -> Paired:
    """`pair`, with wrong codes counted per client (ten in ten minutes)."""
    async with ratelimit.counted(state.sessionmaker, [(PAIRING_TRIES, client)],
                                 TooManyPairingTries):
        return await run(state.sessionmaker, state.bus, lambda tx: pair(tx, typed))


async def till_by_credential(session: AsyncSession, credential: str) -> Till | None:
    if not credential or len(credential) > 100:
        return None
    till = await session.scalar(select(Till).where(Till.credential_hash == digest(credential)))
    if till is None or till.revoked_at is not None:
        return None
    return till


async def till_of(conn: HTTPConnection) -> Till | None:
    """This device's till, if it is one (and not revoked). Notes when it was last heard
    from, at most once a minute."""
    credential = conn.cookies.get(COOKIE)
    if not credential:
        return None
    state = app_state(conn)
    async with state.sessionmaker() as session:
        till = await till_by_credential(session, credential)
        if till is None:
            return None
        now = clock.now()
        seen = till.last_seen_at
        if seen is None or (now - clock.aware(seen)).total_seconds() >= SEEN_EVERY_S:
            # The read above began the session's transaction: write in it, and commit.
            await session.execute(
                update(Till).where(Till.id == till.id).values(last_seen_at=now)
                .execution_options(synchronize_session=False))
            await session.commit()
            till.last_seen_at = now
        return till


async def revoke_device(tx: Tx, company_id: int, till_id: int, staff_id: int) -> Till:
    """The till's device loses its credential and any pending pairing code; the till and
    its records stay, and it can be paired again."""
    till = await tx.session.get(Till, till_id)
    if till is None or till.company_id != company_id:
        raise UnknownTill()
    till.credential_hash = None
    till.pairing_hash = None
    till.pairing_expires_at = None
    await write(tx, company_id, JournalKind.TILL_REVOKED,
                {"prefix": till.prefix, "device": True},
                site_id=till.site_id, till_id=till.id, staff_id=staff_id)
    return till


async def staff_of_till(session: AsyncSession, till: Till) -> list[StaffIdentity]:
    """Who may switch in on this till: active staff of its company working at its site,
    with a PIN, by name (each with their limits: whom to ask for an approval is asked of
    them as of anyone signed in)."""
    at_site = select(StaffSite.staff_id).where(StaffSite.site_id == till.site_id)
    return await identities(session, (await session.scalars(
        select(Staff).where(
            Staff.company_id == till.company_id, Staff.active.is_(True),
            Staff.pin_hash.is_not(None),
            Staff.all_sites.is_(True) | Staff.id.in_(at_site),
        ).order_by(Staff.name, Staff.id)
    )).all())


async def check_member_pin(state: AppState, till: Till, staff_id: int, pin: str,
                           *, wanted: Permission | None = None) -> StaffIdentity:
    """The member of staff, if `pin` is theirs and they may work at this till (and hold
    `wanted`); wrong tries count per till and per member, and past the limit nothing is
    checked. The same answer for an unknown member and a wrong PIN."""
    tries = [(PIN_TRIES_PER_TILL, str(till.id)), (PIN_TRIES_PER_STAFF, str(staff_id))]
    async with ratelimit.counted(state.sessionmaker, tries, TooManyPinTries):
        async with state.sessionmaker() as session:
            member = await identity(session, staff_id) if pin.isdecimal() else None
            right = (
                member is not None and member.company_id == till.company_id
                and member.may_use(till.site_id) and 4 <= len(pin) <= 6
                and await check_pin(session, staff_id, pin)
            )
        if not right or member is None:
            raise PinRefused()
    if wanted is not None and not member.may(wanted):
        raise PinRefused()
    return member


async def switch_in(conn: HTTPConnection, till: Till, staff_id: int, pin: str) -> StaffIdentity:
    """The member switches in on this till: this browser's session becomes theirs, bound
    to the till (the one before it, if any, is journalled out)."""
    state = app_state(conn)
    member = await check_member_pin(state, till, staff_id, pin)
    before = conn.session.get(STAFF_ID)
    trained_by = training_of(conn)

    async def journal(tx: Tx) -> None:
        if trained_by is not None:  # training is one member's session: it ends here
            await write(tx, till.company_id, JournalKind.TRAINING,
                        {"on": False, "supervisor_id": trained_by},
                        site_id=till.site_id, till_id=till.id,
                        staff_id=before if isinstance(before, int) else None)
        if isinstance(before, int) and before != member.id:
            await write(tx, till.company_id, JournalKind.SIGN_OUT, {"how": "switch"},
                        site_id=till.site_id, till_id=till.id, staff_id=before)
        await write(tx, till.company_id, JournalKind.SIGN_IN, {"how": "pin"},
                    site_id=till.site_id, till_id=till.id, staff_id=member.id)

    await run(state.sessionmaker, state.bus, journal)
    conn.session[STAFF_ID] = member.id
    conn.session[TILL_ID] = till.id
    conn.session.pop(TRAINING, None)  # training is one member's session
    return member


async def switch_out(conn: HTTPConnection, till: Till) -> None:
    """The till is locked: nobody acts on it until someone types their PIN."""
    state = app_state(conn)
    before = conn.session.pop(STAFF_ID, None)
    conn.session.pop(TILL_ID, None)
    trained_by = conn.session.pop(TRAINING, None)
    if not isinstance(before, int):
        return

    async def journal(tx: Tx) -> None:
        if isinstance(trained_by, int):
            await write(tx, till.company_id, JournalKind.TRAINING,
                        {"on": False, "supervisor_id": trained_by},
                        site_id=till.site_id, till_id=till.id, staff_id=before)
        await write(tx, till.company_id, JournalKind.SIGN_OUT, {"how": "lock"},
                    site_id=till.site_id, till_id=till.id, staff_id=before)

    await run(state.sessionmaker, state.bus, journal)


async def page_at_till(conn: HTTPConnection, permission: Permission) -> AtTill | Response:
    """`at_till` for a page: a device that is not a till goes to the pairing page, a till
    nobody switched in on to its home (who is there?)."""
    try:
        return await at_till(conn, permission)
    except NotPaired:
        return RedirectResponse("/till/pair", status_code=303)
    except NotAtTill:
        return RedirectResponse("/till", status_code=303)


@dataclass(frozen=True)
class AtTill:
    till: Till
    staff: StaffIdentity


async def at_till(conn: HTTPConnection, permission: Permission) -> AtTill:
    """The till this device is and the member of staff acting on it, who holds
    `permission`: else NotPaired (pair it first), NotAtTill (switch in first) or a
    refusal."""
    till = await till_of(conn)
    if till is None:
        raise NotPaired()
    staff_id = conn.session.get(STAFF_ID)
    if conn.session.get(TILL_ID) != till.id or not isinstance(staff_id, int):
        raise NotAtTill()
    async with app_state(conn).sessionmaker() as session:
        staff = await identity(session, staff_id)
    if staff is None or staff.company_id != till.company_id or not staff.may_use(till.site_id):
        raise NotAtTill()
    staff.require(permission)
    return AtTill(till, staff)


def training_of(conn: HTTPConnection) -> int | None:
    """The member supervising this till's training, while it is in training mode: its
    tickets are recorded as training, named with them, and count in no total."""
    value = conn.session.get(TRAINING)
    return value if isinstance(value, int) else None


async def set_training(conn: HTTPConnection, at: AtTill, on: bool,
                       supervisor_id: int | None) -> None:
    """Training mode on (supervised by `supervisor_id`) or off, journalled."""
    before = training_of(conn)
    if on:
        assert supervisor_id is not None
        conn.session[TRAINING] = supervisor_id
    else:
        conn.session.pop(TRAINING, None)
    if (before is not None) == on:
        return
    state = app_state(conn)
    await run(state.sessionmaker, state.bus, lambda tx: write(
        tx, at.till.company_id, JournalKind.TRAINING,
        {"on": on, "supervisor_id": supervisor_id if on else before},
        site_id=at.till.site_id, till_id=at.till.id, staff_id=at.staff.id))
