"""What diners do at a table: open, join with the PIN, share the cart, send rounds.

Every function runs inside the caller's transaction (`Tx`) and emits the events to
publish after commit; none commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, select, update

from accounts.models import Company, Site
from db.base import changed
from errors import DomainError
from ordering import cart, facts, pin, table_rewards
from ordering.config import OrderingConfig
from ordering.errors import (
    CartUnavailable,
    EmptyCart,
    MenuOnly,
    PinLocked,
    PinRequired,
    PinSlowed,
    SessionEnded,
    TableLocked,
    UnknownTable,
)
from ordering.models import DiningTable, Member, OrderLine, Product, Round, TableSession
from ordering.publishing import table_changed
from ordering.session_state import SessionStatus
from ordering.table_lock import Access, access
from ordering.table_payment import ORDER_AND_PAY, PAY_ONLY, NoPhoneOrders, PayToSend
from ordering.table_view import TableHeader
from realtime.events import Tx
from web import ratelimit


@dataclass(frozen=True)
class TableAccess:
    table: DiningTable
    mode: str
    session: TableSession | None
    member: Member | None
    access: Access
    header: TableHeader  # what the table's view needs of the table, read with the rest


# The hot path's statements are built once (building one costs more than running it).
_ACCESS = (
    select(
        DiningTable,
        Site.table_mode,
        Site.company_id,
        Company.currency,
        Company.timezone,
        TableSession,
        Member,
    )
    .join(Site, Site.id == DiningTable.site_id)
    .join(Company, Company.id == Site.company_id)
    .outerjoin(
        TableSession,
        and_(TableSession.table_id == DiningTable.id, TableSession.closed_at.is_(None)),
    )
    .outerjoin(
        Member,
        and_(Member.session_id == TableSession.id, Member.device_key == bindparam("device_key")),
    )
    .where(DiningTable.token == bindparam("token"), DiningTable.archived_at.is_(None))
)
_ACCESS_COLUMNS = 7


def access_with(*columns: Any, joins: Sequence[tuple[Any, Any]] = ()) -> Select[Any]:
    """The access statement with more columns: what a change checks next comes back in
    the same round trip (they may refer to the open session, `TableSession`). `joins`:
    outer joins (target, on clause) these columns need."""
    statement = _ACCESS.add_columns(*columns)
    for target, on in joins:
        statement = statement.outerjoin(target, on)
    return statement


async def table_access(tx: Tx, config: OrderingConfig, token: str, device_key: str) -> TableAccess:
    """Where this device stands at the table, after closing an idle session if due.

    Every cart change starts here, so the table, its mode, its open session and this
    device's membership come back in one statement.
    """
    return (await table_access_with(tx, config, token, device_key, _ACCESS, {}))[0]


async def table_access_with(
    tx: Tx, config: OrderingConfig, token: str, device_key: str,
    statement: Any, params: dict[str, Any],
) -> tuple[TableAccess, tuple[Any, ...]]:
    """`table_access` through a statement of `access_with`, and its extra columns (read
    before an idle session was closed: they describe nothing once it is)."""
    if not isinstance(token, str) or len(token) > 64 or "\x00" in token:
        raise UnknownTable()
    row = (await tx.session.execute(
        statement, {"token": token, "device_key": device_key, **params}
    )).first()
    if row is None:
        raise UnknownTable()
    table, site_mode, company_id, currency, timezone, ts, member = row[:_ACCESS_COLUMNS]
    mode = table.mode or site_mode
    if ts is not None and await _close_if_idle(tx, config, table, ts, datetime.now(UTC)):
        ts = member = None
    header = TableHeader(
        table.id, table.label, mode, table.site_id, company_id, currency, timezone, ts
    )
    found = TableAccess(
        table, mode, ts, member, access(mode, ts.status if ts else None, member is not None),
        header,
    )
    return found, tuple(row[_ACCESS_COLUMNS:])


async def start(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, name: str
) -> TableAccess:
    """The first diner opens the table's session and gets its PIN; a member gets theirs."""
    display_name = cart.clean_name(name)
    found = await table_access(tx, config, token, device_key)
    if found.access is Access.MEMBER:
        return found
    _require_can_start(found)
    now = datetime.now(UTC)
    ts = TableSession(
        table_id=found.table.id,
        pin=pin.new_pin(config.pin_length),
        opened_at=now,
        last_activity_at=now,
    )
    tx.session.add(ts)
    await tx.session.flush()  # the partial unique index refuses a second open session
    member = Member(session_id=ts.id, device_key=device_key, name=display_name, joined_at=now)
    tx.session.add(member)
    await tx.session.flush()
    await table_changed(
        tx, config, found.table.id, found.table.site_id, "session.opened",
        {"member": display_name},
    )
    return TableAccess(
        found.table, found.mode, ts, member, Access.MEMBER, replace(found.header, session=ts)
    )


def _require_can_start(found: TableAccess) -> None:
    if found.access is Access.MENU_ONLY:
        raise MenuOnly()
    if found.access is Access.NEED_PIN:
        raise PinRequired()
    if found.access in (Access.LOCKED, Access.SETTLED):
        raise TableLocked()


@dataclass(frozen=True)
class PinRejected:
    """A wrong PIN: counted (so it must be committed), then reported to the diner.
    `slowed`: this failure was the table's last at full speed."""

    slowed: bool


async def join(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, name: str, given_pin: str
) -> TableAccess | PinRejected:
    display_name = cart.clean_name(name)
    found = await table_access(tx, config, token, device_key)
    if found.access is Access.MEMBER:
        return found
    if found.access is Access.START:
        return await start(tx, config, token, device_key, display_name)
    if found.access is not Access.NEED_PIN:
        _require_can_start(found)
    assert found.session is not None
    # Counted before it is checked, in one statement per limit: of guesses sent at once,
    # only those within the limits are compared with the PIN (web/ratelimit.py).
    attempt = await ratelimit.take_all(tx.session, [
        (pin.device_rule(config), device_key), (pin.table_rule(config), str(found.table.id)),
    ])
    if attempt.refused is not None:
        refused = attempt.refused
        raise PinLocked(refused) if refused.rule.scope == pin.DEVICE else PinSlowed(refused)
    if not pin.matches(found.session.pin, given_pin):
        at_table = attempt.taken[1]
        if at_table.reached_limit:
            await table_changed(
                tx, config, found.table.id, found.table.site_id, "pin.slowed",
                {"pace_s": config.pin_table_pace_s},
            )
        return PinRejected(slowed=at_table.reached_limit)
    await ratelimit.give_back(tx.session, attempt.taken)  # a right PIN uses up no try
    now = datetime.now(UTC)
    member = Member(
        session_id=found.session.id, device_key=device_key, name=display_name, joined_at=now
    )
    tx.session.add(member)
    await touch(tx, found.session, now)
    await tx.session.flush()
    await table_changed(
        tx, config, found.table.id, found.table.site_id, "member.joined",
        {"member": display_name}, pos=True,
    )
    return TableAccess(
        found.table, found.mode, found.session, member, Access.MEMBER, found.header
    )


async def require_member(
    tx: Tx, config: OrderingConfig, token: str, device_key: str
) -> TableAccess:
    found = await table_access(tx, config, token, device_key)
    return _member_only(found)


async def require_member_with(
    tx: Tx, config: OrderingConfig, token: str, device_key: str,
    statement: Select[Any], params: dict[str, Any],
) -> tuple[TableAccess, tuple[Any, ...]]:
    """`require_member` through a statement of `access_with`, and its extra columns."""
    found, extra = await table_access_with(tx, config, token, device_key, statement, params)
    return _member_only(found), extra


def _member_only(found: TableAccess) -> TableAccess:
    if found.access is Access.MEMBER:
        if found.mode == PAY_ONLY:
            raise NoPhoneOrders()
        return found
    if found.access is Access.SETTLED:
        raise SessionEnded()
    _require_can_start(found)
    raise SessionEnded()  # START: the session this device belonged to has ended


async def touch(tx: Tx, ts: TableSession, now: datetime) -> None:
    await tx.session.execute(
        update(TableSession).where(TableSession.id == ts.id).values(last_activity_at=now)
    )


async def new_round(
    tx: Tx, ts: TableSession, submitted_by: int | None, key: str, now: datetime,
    *, status: str | None = None, ended: type[DomainError] = SessionEnded,
    staff_id: int | None = None,
) -> Round:
    """The session's next round, numbered by a conditional update: a session settled
    meanwhile takes no more rounds (`ended` is raised). `status`: the model's default,
    waiting for validation, unless given; `staff_id`: who took it at the POS."""
    number = await tx.session.scalar(
        update(TableSession)
        .where(TableSession.id == ts.id, TableSession.status == SessionStatus.OPEN)
        .values(round_count=TableSession.round_count + 1, last_activity_at=now)
        .returning(TableSession.round_count)
    )
    if number is None:
        raise ended()
    rnd = Round(
        session_id=ts.id, number=number, submitted_by=submitted_by, idempotency_key=key,
        submitted_at=now, updated_at=now, staff_id=staff_id,
    )
    if status is not None:
        rnd.status = status
    tx.session.add(rnd)
    await tx.session.flush()
    return rnd


async def cart_to_round(
    tx: Tx, ts: TableSession, member_id: int, key: str, now: datetime, status: str | None = None
) -> Round:
    """The session's next round, holding every line of the cart at the menu's price now.

    Lines whose product is sold out or off the menu are refused, named: none is sent until
    they are removed. They are looked for after the move too (a product marked sold out
    in between, on PostgreSQL, stays in the cart: the whole change is rolled back)."""
    await _refuse_unavailable(tx, ts.id)
    rnd = await new_round(tx, ts, member_id, key, now, status=status)
    moved = await tx.session.execute(
        update(OrderLine)
        .where(OrderLine.session_id == ts.id, OrderLine.round_id.is_(None),
               OrderLine.product_id.in_(select(Product.id).where(Product.available.is_(True))))
        .values(round_id=rnd.id, unit_price=_MENU_PRICE)
        .execution_options(synchronize_session=False)
    )
    await _refuse_unavailable(tx, ts.id)
    if changed(moved) == 0:
        taken = (await tx.session.execute(
            select(Round.number, Round.id, Round.status)
            .where(Round.session_id == ts.id, Round.id != rnd.id,
                   Round.submitted_by.is_not(None))
            .order_by(Round.number.desc()).limit(1)
        )).first()
        raise EmptyCart.taken_by(*taken) if taken else EmptyCart()
    return rnd


_MENU_PRICE = (
    select(Product.price).where(Product.id == OrderLine.product_id).scalar_subquery()
)


async def _refuse_unavailable(tx: Tx, session_id: int) -> None:
    gone = (await tx.session.execute(
        select(OrderLine.id, Product.name)
        .join(Product, Product.id == OrderLine.product_id)
        .where(OrderLine.session_id == session_id, OrderLine.round_id.is_(None),
               Product.available.is_(False))
        .order_by(OrderLine.id)
    )).all()
    if gone:
        raise CartUnavailable.naming([(line_id, name) for line_id, name in gone])


@dataclass(frozen=True)
class Submitted:
    round: Round
    duplicate: bool


async def submit(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, idempotency_key: str
) -> Submitted:
    """Turn the shared cart into a round waiting for staff validation.

    Phones pressing "send" together make one round: the first moves the cart's lines,
    the others find none left; a retried request finds its round by its key.
    """
    found = await require_member(tx, config, token, device_key)
    assert found.session is not None and found.member is not None
    if found.mode == ORDER_AND_PAY:
        raise PayToSend()  # ordering/payment_service.send_and_pay sends it once paid
    ts = found.session
    previous = await tx.session.scalar(
        select(Round).where(Round.session_id == ts.id, Round.idempotency_key == idempotency_key)
    )
    if previous is not None:
        return Submitted(previous, duplicate=True)
    now = datetime.now(UTC)
    rnd = await cart_to_round(tx, ts, found.member.id, idempotency_key, now)
    number = rnd.number
    await touch(tx, ts, now)
    await table_changed(
        tx, config, found.table.id, found.table.site_id, "round.submitted",
        {"member": found.member.name, "member_id": found.member.id, "round": number},
    )
    await facts.round_submitted(tx, found.table, rnd, member_id=found.member.id)
    return Submitted(rnd, duplicate=False)


async def expire_idle(tx: Tx, config: OrderingConfig, now: datetime) -> int:
    """Close sessions opened but left with an empty cart and no round; returns how many."""
    cutoff = now - timedelta(seconds=config.idle_s)
    candidates = (
        await tx.session.execute(
            select(TableSession, DiningTable)
            .join(DiningTable, DiningTable.id == TableSession.table_id)
            .where(
                TableSession.closed_at.is_(None),
                TableSession.status == SessionStatus.OPEN,
                TableSession.round_count == 0,
                TableSession.last_activity_at < cutoff,
            )
        )
    ).all()
    closed = 0
    for ts, table in candidates:
        if await _close_if_idle(tx, config, table, ts, now):
            closed += 1
    return closed


async def _close_if_idle(
    tx: Tx, config: OrderingConfig, table: DiningTable, ts: TableSession, now: datetime
) -> bool:
    cutoff = now - timedelta(seconds=config.idle_s)
    if ts.status != SessionStatus.OPEN or ts.round_count or ts.last_activity_at >= cutoff:
        return False
    has_lines = await tx.session.scalar(
        select(func.count()).where(OrderLine.session_id == ts.id)
    )
    if has_lines:
        return False
    # Conditional: of two processes expiring the same session, one closes it.
    result = await tx.session.execute(
        update(TableSession)
        .where(
            TableSession.id == ts.id,
            TableSession.closed_at.is_(None),
            TableSession.round_count == 0,
            TableSession.last_activity_at < cutoff,
        )
        .values(status=SessionStatus.CLOSED, closed_at=now, close_reason="idle")
        .execution_options(synchronize_session=False)
    )
    if changed(result) != 1:
        return False
    company_id = await tx.session.scalar(select(Site.company_id).where(Site.id == table.site_id))
    assert company_id is not None
    await table_rewards.give_back_all(tx, company_id, ts.id, now)
    await table_changed(tx, config, table.id, table.site_id, "session.expired", {})
    await facts.table_freed(tx, table, ts, "idle", settled=False)
    return True
