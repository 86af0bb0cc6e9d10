"""What diners do at a table: open, join with the PIN, share the cart, send rounds.

Every function runs inside the caller's transaction (`Tx`) and emits the events to
publish after commit; none commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from accounts.models import Site
from db.base import is_id
from errors import N_, InvalidInput
from ordering import cart, pin
from ordering.config import OrderingConfig
from ordering.errors import (
    CartFull,
    EmptyCart,
    MenuOnly,
    NotYourLine,
    PinLocked,
    PinRequired,
    ProductUnavailable,
    SessionEnded,
    TableLocked,
    UnknownLine,
    UnknownProduct,
    UnknownTable,
)
from ordering.models import DiningTable, Member, OrderLine, PinFailure, Product, Round, TableSession
from ordering.publishing import table_changed
from ordering.table_lock import Access, access
from ordering.views import active_session
from realtime.events import Tx


@dataclass(frozen=True)
class TableAccess:
    table: DiningTable
    mode: str
    session: TableSession | None
    member: Member | None
    access: Access


async def find_table(tx: Tx, token: str) -> tuple[DiningTable, str]:
    if not isinstance(token, str) or len(token) > 64 or "\x00" in token:
        raise UnknownTable()
    row = (
        await tx.session.execute(
            select(DiningTable, Site.table_mode)
            .join(Site, Site.id == DiningTable.site_id)
            .where(DiningTable.token == token)
        )
    ).first()
    if row is None:
        raise UnknownTable()
    table, site_mode = row
    return table, table.mode or site_mode


async def table_access(tx: Tx, config: OrderingConfig, token: str, device_key: str) -> TableAccess:
    """Where this device stands at the table, after closing an idle session if due."""
    table, mode = await find_table(tx, token)
    ts = await active_session(tx.session, table.id)
    if ts is not None and await _close_if_idle(tx, config, table, ts, datetime.now(UTC)):
        ts = None
    member = await _member(tx, ts, device_key) if ts else None
    return TableAccess(
        table, mode, ts, member, access(mode, ts.status if ts else None, member is not None)
    )


async def _member(tx: Tx, ts: TableSession, device_key: str) -> Member | None:
    return await tx.session.scalar(
        select(Member).where(Member.session_id == ts.id, Member.device_key == device_key)
    )


async def start(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, name: object
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
    return TableAccess(found.table, found.mode, ts, member, Access.MEMBER)


def _require_can_start(found: TableAccess) -> None:
    if found.access is Access.MENU_ONLY:
        raise MenuOnly()
    if found.access is Access.NEED_PIN:
        raise PinRequired()
    if found.access in (Access.LOCKED, Access.SETTLED):
        raise TableLocked()


@dataclass(frozen=True)
class PinRejected:
    """A wrong PIN: recorded (so it must be committed), then reported to the diner."""

    blocked: bool


async def join(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, name: object, given_pin: object
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
    now = datetime.now(UTC)
    if await _pin_blocked(tx, config, found.table.id, device_key, now):
        raise PinLocked()
    if not pin.matches(found.session.pin, given_pin):
        tx.session.add(PinFailure(table_id=found.table.id, client_key=device_key, at=now))
        await tx.session.flush()
        blocked = await _pin_blocked(tx, config, found.table.id, device_key, now)
        if blocked:
            await table_changed(
                tx, config, found.table.id, found.table.site_id, "pin.blocked", {}
            )
        return PinRejected(blocked)
    member = Member(
        session_id=found.session.id, device_key=device_key, name=display_name, joined_at=now
    )
    tx.session.add(member)
    await _touch(tx, found.session, now)
    await tx.session.flush()
    await table_changed(
        tx, config, found.table.id, found.table.site_id, "member.joined",
        {"member": display_name}, pos=True,
    )
    return TableAccess(found.table, found.mode, found.session, member, Access.MEMBER)


async def _pin_blocked(
    tx: Tx, config: OrderingConfig, table_id: int, device_key: str, now: datetime
) -> bool:
    since = now - timedelta(seconds=config.pin_window_s)
    at_table = await tx.session.scalar(
        select(func.count()).where(PinFailure.table_id == table_id, PinFailure.at >= since)
    )
    by_client = await tx.session.scalar(
        select(func.count()).where(PinFailure.client_key == device_key, PinFailure.at >= since)
    )
    return pin.is_blocked(at_table or 0, by_client or 0, config.pin_limit)


async def _require_member(
    tx: Tx, config: OrderingConfig, token: str, device_key: str
) -> TableAccess:
    found = await table_access(tx, config, token, device_key)
    if found.access is Access.MEMBER:
        return found
    if found.access is Access.SETTLED:
        raise SessionEnded()
    _require_can_start(found)
    raise SessionEnded()  # START: the session this device belonged to has ended


async def _touch(tx: Tx, ts: TableSession, now: datetime) -> None:
    await tx.session.execute(
        update(TableSession).where(TableSession.id == ts.id).values(last_activity_at=now)
    )


async def add_line(
    tx: Tx,
    config: OrderingConfig,
    token: str,
    device_key: str,
    client_id: object,
    product_id: object,
    quantity: object,
    note: object = "",
) -> OrderLine:
    """Add a line; the client-chosen id makes a retried add land once."""
    if not isinstance(client_id, str) or not 8 <= len(client_id) <= 64:
        raise InvalidInput(N_("Each line needs a client id of 8 to 64 characters."))
    qty = cart.check_quantity(quantity, config.limits)
    clean = cart.clean_note(note, config.limits)
    found = await _require_member(tx, config, token, device_key)
    assert found.session is not None and found.member is not None
    existing = await tx.session.scalar(
        select(OrderLine).where(
            OrderLine.session_id == found.session.id, OrderLine.client_id == client_id
        )
    )
    if existing is not None:
        return existing
    product = await _product(tx, found.table.site_id, product_id)
    in_cart = await tx.session.scalar(
        select(func.count()).where(
            OrderLine.session_id == found.session.id, OrderLine.round_id.is_(None)
        )
    )
    if (in_cart or 0) >= config.limits.max_cart_lines:
        raise CartFull()
    now = datetime.now(UTC)
    line = OrderLine(
        session_id=found.session.id,
        client_id=client_id,
        member_id=found.member.id,
        product_id=product.id,
        quantity=qty,
        unit_price=product.price,
        note=clean,
        added_at=now,
    )
    tx.session.add(line)
    await _touch(tx, found.session, now)
    await tx.session.flush()
    await table_changed(
        tx, config, found.table.id, found.table.site_id, "cart.added",
        {"member": found.member.name, "member_id": found.member.id,
         "product": product.name, "quantity": qty},
        pos=False,
    )
    return line


async def _product(tx: Tx, site_id: int, product_id: object) -> Product:
    if not is_id(product_id):
        raise UnknownProduct()
    product = await tx.session.get(Product, product_id)
    if product is None or product.site_id != site_id:
        raise UnknownProduct()
    if not product.available:
        raise ProductUnavailable()
    return product


async def _own_cart_line(
    tx: Tx, found: TableAccess, line_id: object
) -> tuple[OrderLine, Product]:
    assert found.session is not None and found.member is not None
    if isinstance(line_id, bool) or not isinstance(line_id, int):
        raise UnknownLine()
    row = (
        await tx.session.execute(
            select(OrderLine, Product)
            .join(Product, Product.id == OrderLine.product_id)
            .where(
                OrderLine.id == line_id,
                OrderLine.session_id == found.session.id,
                OrderLine.round_id.is_(None),
            )
        )
    ).first()
    if row is None:
        raise UnknownLine()
    line, product = row
    if line.member_id != found.member.id:
        raise NotYourLine()
    return line, product


async def set_quantity(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, line_id: object, quantity: object
) -> None:
    """Set my line to a quantity; zero removes it. Setting is naturally idempotent."""
    qty = cart.check_quantity(quantity, config.limits, allow_zero=True)
    found = await _require_member(tx, config, token, device_key)
    line, product = await _own_cart_line(tx, found, line_id)
    assert found.member is not None and found.session is not None
    if qty == 0:
        await tx.session.delete(line)
        kind, change = "cart.removed", {"product": product.name, "quantity": line.quantity}
    else:
        line.quantity = qty
        kind, change = "cart.updated", {"product": product.name, "quantity": qty}
    await _touch(tx, found.session, datetime.now(UTC))
    await tx.session.flush()
    await table_changed(
        tx, config, found.table.id, found.table.site_id, kind,
        {**change, "member": found.member.name, "member_id": found.member.id},
        pos=False,
    )


async def remove_line(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, line_id: object
) -> None:
    """Remove my line; removing one already gone is not an error (a retry)."""
    found = await _require_member(tx, config, token, device_key)
    try:
        await _own_cart_line(tx, found, line_id)
    except UnknownLine:
        return
    await set_quantity(tx, config, token, device_key, line_id, 0)


@dataclass(frozen=True)
class Submitted:
    round: Round
    duplicate: bool


async def submit(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, idempotency_key: object
) -> Submitted:
    """Turn the shared cart into a round waiting for staff validation.

    Phones pressing "send" together make one round: the first moves the cart's lines,
    the others find none left; a retried request finds its round by its key.
    """
    if not isinstance(idempotency_key, str) or not 8 <= len(idempotency_key) <= 64:
        raise InvalidInput(N_("Each submission needs an idempotency key of 8 to 64 characters."))
    found = await _require_member(tx, config, token, device_key)
    assert found.session is not None and found.member is not None
    ts = found.session
    previous = await tx.session.scalar(
        select(Round).where(Round.session_id == ts.id, Round.idempotency_key == idempotency_key)
    )
    if previous is not None:
        return Submitted(previous, duplicate=True)
    number = await tx.session.scalar(
        update(TableSession)
        .where(TableSession.id == ts.id, TableSession.status == "open")
        .values(round_count=TableSession.round_count + 1)
        .returning(TableSession.round_count)
    )
    if number is None:
        raise SessionEnded()
    now = datetime.now(UTC)
    rnd = Round(
        session_id=ts.id,
        number=number,
        submitted_by=found.member.id,
        idempotency_key=idempotency_key,
        submitted_at=now,
        updated_at=now,
    )
    tx.session.add(rnd)
    await tx.session.flush()
    moved = await tx.session.execute(
        update(OrderLine)
        .where(OrderLine.session_id == ts.id, OrderLine.round_id.is_(None))
        .values(round_id=rnd.id)
    )
    if moved.rowcount == 0:
        raise EmptyCart()
    await _touch(tx, ts, now)
    await table_changed(
        tx, config, found.table.id, found.table.site_id, "round.submitted",
        {"member": found.member.name, "member_id": found.member.id, "round": number},
    )
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
                TableSession.status == "open",
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
    if ts.status != "open" or ts.round_count or ts.last_activity_at >= cutoff:
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
        .values(status="closed", closed_at=now, close_reason="idle")
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    await table_changed(tx, config, table.id, table.site_id, "session.expired", {})
    return True
