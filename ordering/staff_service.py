"""What staff do with rounds and tables: validate, edit, refuse, produce, settle, free."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update

from accounts.models import Site
from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import guard
from db.base import changed, is_id
from domain import audit
from errors import N_, InvalidInput, NotFound
from ordering import cart, facts, payment_outcome, readiness, table_rewards
from ordering.config import OrderingConfig
from ordering.errors import (
    BadTransition,
    NotSettleable,
    ReasonRequired,
    SessionClosed,
    StaleVersion,
    Underpaid,
    UnknownLine,
    UnknownRound,
)
from ordering.models import (
    Category,
    DiningTable,
    OrderLine,
    Payment,
    Product,
    Round,
    RoundEdit,
    TableSession,
    Ticket,
)
from ordering.publishing import menu_changed, table_changed
from ordering.round_state import (
    EDITABLE,
    OPEN_ROUND,
    ROUNDS,
    TICKETS,
    RoundStatus,
    round_status_from_tickets,
)
from ordering.session_state import SessionStatus
from ordering.table_view import session_detail
from ordering.views import active_session, station_of_product
from realtime.events import Tx

MAX_TENDERED = 10**12  # minor units; far above any bill, far below what a column holds


@dataclass(frozen=True)
class RoundContext:
    round: Round
    session: TableSession
    table: DiningTable


async def _round(tx: Tx, staff: StaffIdentity, round_id: object) -> RoundContext:
    if isinstance(round_id, bool) or not isinstance(round_id, int):
        raise UnknownRound()
    row = (
        await tx.session.execute(
            select(Round, TableSession, DiningTable, Site.company_id)
            .join(TableSession, TableSession.id == Round.session_id)
            .join(DiningTable, DiningTable.id == TableSession.table_id)
            .join(Site, Site.id == DiningTable.site_id)
            .where(Round.id == round_id)
        )
    ).first()
    guard(staff, row[3] if row else None, UnknownRound, row[2].site_id if row else None)
    assert row is not None
    return RoundContext(row[0], row[1], row[2])


def _reason(reason: object) -> str:
    if not isinstance(reason, str) or not 1 <= len(reason.strip()) <= 200:
        raise ReasonRequired()
    return " ".join(reason.split())


def _require_party_there(ctx: RoundContext) -> None:
    """A round whose table was freed is its gone party's: nothing more is made for it (the
    POS no longer shows it, but a screen that missed the change still may)."""
    if ctx.session.closed_at is not None:
        raise SessionClosed()


async def _set_round_status(tx: Tx, ctx: RoundContext, expected: str, target: str) -> bool:
    """A conditional write: of two staff acting at once, the second sees the new status.

    False when another screen made this very move meanwhile (nothing left to do).
    """
    result = await tx.session.execute(
        update(Round)
        .where(Round.id == ctx.round.id, Round.status == expected)
        .values(status=target, updated_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    if changed(result) != 1:
        await tx.session.refresh(ctx.round)
        if ctx.round.status == target:
            return False
        raise BadTransition(current=ctx.round.status, target=target)
    ctx.round.status = target
    return True


async def _stations(tx: Tx, round_id: int) -> list[str]:
    rows = await tx.session.scalars(
        select(station_of_product())
        .select_from(Category)
        .join(Product, Product.category_id == Category.id)
        .join(OrderLine, OrderLine.product_id == Product.id)
        .where(OrderLine.round_id == round_id, OrderLine.quantity > 0)
        .distinct()
    )
    return sorted(rows.all())


async def validate(
    tx: Tx, config: OrderingConfig, staff: StaffIdentity, round_id: object
) -> Round:
    """Send a round to production: one ticket per station its lines need."""
    staff.require(Permission.VALIDATE)
    ctx = await _round(tx, staff, round_id)
    if ctx.round.status == RoundStatus.VALIDATED:
        return ctx.round  # a retried validation
    _require_party_there(ctx)
    ROUNDS.move(ctx.round.status, RoundStatus.VALIDATED)
    await readiness.refuse_unready(tx.session, ctx.table.site_id)
    if not await _set_round_status(tx, ctx, RoundStatus.TO_VALIDATE, RoundStatus.VALIDATED):
        return ctx.round  # validated from another screen at the same moment
    stations = await _stations(tx, ctx.round.id)
    for station in stations:
        tx.session.add(Ticket(round_id=ctx.round.id, site_id=ctx.table.site_id, station=station))
    await tx.session.flush()
    await table_changed(
        tx, config, ctx.table.id, ctx.table.site_id, "round.validated",
        {"round": ctx.round.number}, stations=stations,
    )
    await facts.round_validated(tx, ctx.table, ctx.round, staff.id, stations)
    return ctx.round


async def refuse(
    tx: Tx, config: OrderingConfig, staff: StaffIdentity, round_id: int, reason: str
) -> Round:
    staff.require(Permission.VALIDATE)
    text = _reason(reason)
    ctx = await _round(tx, staff, round_id)
    if ctx.round.status == RoundStatus.REFUSED:
        return ctx.round
    ROUNDS.move(ctx.round.status, RoundStatus.REFUSED)
    if not await _set_round_status(tx, ctx, RoundStatus.TO_VALIDATE, RoundStatus.REFUSED):
        return ctx.round
    ctx.round.reason = text
    await tx.session.flush()
    await payment_outcome.round_refused(tx, ctx.round.id, datetime.now(UTC))
    await table_changed(
        tx, config, ctx.table.id, ctx.table.site_id, "round.refused",
        {"round": ctx.round.number, "reason": text},
    )
    await facts.round_refused(tx, ctx.table, ctx.round, staff.id, text)
    return ctx.round


@dataclass(frozen=True)
class LineEdit:
    line_id: int
    quantity: int


@dataclass(frozen=True)
class LineAdd:
    product_id: int
    quantity: int
    note: str = ""


async def edit(
    tx: Tx,
    config: OrderingConfig,
    staff: StaffIdentity,
    round_id: int,
    expected_revision: int | None,
    reason: str,
    changes: list[LineEdit],
    additions: list[LineAdd],
) -> Round:
    """Change a round before production; the phones show the new revision and why."""
    staff.require(Permission.VALIDATE)
    text = _reason(reason)
    ctx = await _round(tx, staff, round_id)
    _require_party_there(ctx)
    if ctx.round.status not in EDITABLE:
        raise BadTransition(current=ctx.round.status, target="edited")
    if type(expected_revision) is not int or expected_revision != ctx.round.revision:
        raise StaleVersion(current=ctx.round.revision)
    await payment_outcome.require_unpaid(tx, ctx.round.id)
    for change in changes:
        cart.check_quantity(change.quantity, config.limits, allow_zero=True)
        line = await tx.session.get(OrderLine, change.line_id) if is_id(change.line_id) else None
        if line is None or line.round_id != ctx.round.id:
            raise UnknownLine()
        line.quantity = change.quantity
    now = datetime.now(UTC)
    for number, addition in enumerate(additions):
        qty = cart.check_quantity(addition.quantity, config.limits)
        note = cart.clean_note(addition.note, config.limits)
        product = (
            await tx.session.get(Product, addition.product_id)
            if is_id(addition.product_id) else None
        )
        if product is None or product.site_id != ctx.table.site_id:
            raise NotFound(N_("This product is not on the menu."))
        tx.session.add(
            OrderLine(
                session_id=ctx.session.id,
                client_id=f"staff-{ctx.round.id}-{ctx.round.revision + 1}-{number}",
                round_id=ctx.round.id,
                member_id=None,
                product_id=product.id,
                quantity=qty,
                unit_price=product.price,
                note=note,
                added_at=now,
            )
        )
    result = await tx.session.execute(
        update(Round)
        .where(Round.id == ctx.round.id, Round.revision == ctx.round.revision)
        .values(revision=Round.revision + 1, reason=text, updated_at=now)
        .returning(Round.revision)
    )
    revision = result.scalar_one_or_none()
    if revision is None:
        raise StaleVersion(current=ctx.round.revision)
    tx.session.add(RoundEdit(round_id=ctx.round.id, revision=revision, reason=text,
                             staff_id=staff.id, at=now))
    await tx.session.flush()
    await tx.session.refresh(ctx.round)
    await table_changed(
        tx, config, ctx.table.id, ctx.table.site_id, "round.edited",
        {"round": ctx.round.number, "reason": text, "revision": revision},
    )
    return ctx.round


async def move_ticket(
    tx: Tx, config: OrderingConfig, staff: StaffIdentity, ticket_id: int, target: str | None
) -> Ticket:
    """Move a station's ticket; the round's status follows its tickets."""
    staff.require(Permission.PRODUCE)
    if isinstance(ticket_id, bool) or not isinstance(ticket_id, int):
        raise NotFound()
    ticket = await tx.session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound()
    ctx = await _round(tx, staff, ticket.round_id)
    wanted = TICKETS.state(target)
    if wanted is None:
        raise BadTransition(current=ticket.status, target=str(target))
    if ticket.status == wanted:
        return ticket
    TICKETS.move(ticket.status, wanted)
    result = await tx.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == ticket.status)
        .values(status=wanted, updated_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    if changed(result) != 1:
        await tx.session.refresh(ticket)
        if ticket.status == wanted:
            return ticket  # moved from another screen at the same moment
        raise BadTransition(current=ticket.status, target=wanted)
    ticket.status = wanted
    # Lock the round before reading its tickets: two stations moving theirs at once
    # would each miss the other's move and leave the round behind (PostgreSQL).
    await tx.session.execute(
        update(Round)
        .where(Round.id == ctx.round.id)
        .values(updated_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    statuses = (
        await tx.session.scalars(select(Ticket.status).where(Ticket.round_id == ctx.round.id))
    ).all()
    before = ctx.round.status
    ctx.round.status = round_status_from_tickets(statuses)
    ctx.round.updated_at = datetime.now(UTC)
    await tx.session.flush()
    # `round_moved`: the round's own status changed, which diners and the POS are told of
    # once; a second station's ticket moving within the same status tells nobody again.
    await table_changed(
        tx, config, ctx.table.id, ctx.table.site_id, "round.progress",
        {"round": ctx.round.number, "station": ticket.station, "status": wanted,
         "round_status": ctx.round.status, "round_moved": ctx.round.status != before},
        stations=[ticket.station],
    )
    return ticket


async def staff_table(tx: Tx, staff: StaffIdentity, table_id: object) -> DiningTable:
    """A table of the staff member's company; another company's answers as missing."""
    if isinstance(table_id, bool) or not isinstance(table_id, int):
        raise NotFound()
    row = (
        await tx.session.execute(
            select(DiningTable, Site.company_id)
            .join(Site, Site.id == DiningTable.site_id)
            .where(DiningTable.id == table_id)
        )
    ).first()
    guard(staff, row[1] if row else None, site_id=row[0].site_id if row else None)
    assert row is not None
    return row[0]


async def settle(
    tx: Tx,
    config: OrderingConfig,
    staff: StaffIdentity,
    table_id: int,
    method: str,
    tendered: int | None,
    idempotency_key: str,
    *,
    at_till: bool = False,
) -> Payment:
    """Take payment of everything due at the table (`method`: cash or card); a retried key
    pays once. `at_till`: a till's ticket paid it (pos/sell.py), which the facts say."""
    staff.require(Permission.SETTLE)
    table = await staff_table(tx, staff, table_id)
    ts = await active_session(tx.session, table.id)
    if ts is not None:
        paid = await tx.session.scalar(
            select(Payment).where(
                Payment.session_id == ts.id, Payment.idempotency_key == idempotency_key
            )
        )
        if paid is not None:
            return paid
    if ts is None or ts.status != SessionStatus.OPEN:
        raise NotSettleable()
    detail = await session_detail(tx.session, ts)
    if any(r["status"] == RoundStatus.TO_VALIDATE for r in detail["rounds"]):
        raise NotSettleable(N_("Validate or refuse the waiting orders before settling."))
    if detail["payment"] is not None:
        raise NotSettleable(N_("A diner is paying from their phone; wait for it to finish."))
    due = detail["due"]  # what was paid from phones is already taken off
    amount_tendered = due if (method == "card" or due == 0) and tendered is None else tendered
    if amount_tendered is None or amount_tendered < due:
        raise Underpaid()
    if amount_tendered > MAX_TENDERED:
        raise InvalidInput(N_("The amount tendered is too large."))
    now = datetime.now(UTC)
    result = await tx.session.execute(
        update(TableSession)
        .where(TableSession.id == ts.id, TableSession.status == SessionStatus.OPEN)
        .values(status=SessionStatus.SETTLED, settled_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed(result) != 1:
        # Settled meanwhile: a concurrent retry of this payment returns it.
        paid = await tx.session.scalar(
            select(Payment).where(
                Payment.session_id == ts.id, Payment.idempotency_key == idempotency_key
            )
        )
        if paid is not None:
            return paid
        raise NotSettleable()
    # The bulk update bypassed the loaded object: without this the views published below
    # would still show the session open.
    await tx.session.refresh(ts)
    payment = Payment(
        session_id=ts.id,
        method=method,
        amount=due,
        tendered=amount_tendered,
        change_given=cart.change_due(due, amount_tendered),
        idempotency_key=idempotency_key,
        staff_id=staff.id,
        at=now,
    )
    tx.session.add(payment)
    await tx.session.flush()
    await table_changed(
        tx, config, table.id, table.site_id, "session.settled",
        {"amount": due, "method": method},
    )
    await facts.table_settled(  # what was paid: the bill less its loyalty reward
        tx, table, ts, detail["ordered"] - detail["discount"],
        "cash" if method == "cash" else "card", staff.id,
        at_till=at_till,
    )
    return payment


async def free(
    tx: Tx, config: OrderingConfig, staff: StaffIdentity, table_id: object
) -> None:
    """Close the table's session: its PIN and memberships stop working. Idempotent."""
    staff.require(Permission.FREE)
    table = await staff_table(tx, staff, table_id)
    ts = await active_session(tx.session, table.id)
    if ts is None:
        return
    if ts.status != SessionStatus.SETTLED:
        detail = await session_detail(tx.session, ts)
        # A reward that covers the bill still leaves it to settle (freed, it is given back).
        owed = detail["due"] + detail["discount"] > 0 or any(
            r["status"] in OPEN_ROUND for r in detail["rounds"])
        if owed:
            staff.require(Permission.FORCE_FREE)
    now = datetime.now(UTC)
    closed = await tx.session.execute(
        update(TableSession)
        .where(TableSession.id == ts.id, TableSession.closed_at.is_(None))
        .values(status=SessionStatus.CLOSED, closed_at=now, close_reason="freed")
        .execution_options(synchronize_session=False)
    )
    await table_changed(tx, config, table.id, table.site_id, "session.closed", {})
    if changed(closed) == 1:
        settled = ts.status == SessionStatus.SETTLED
        if not settled:
            await table_rewards.give_back_all(tx, staff.company_id, ts.id, now)
        await facts.table_freed(tx, table, ts, "freed", settled, staff.id)
        await audit.record(
            tx, staff.id, staff.company_id, "table.freed", f"{table.label} (#{table.id})",
            {"session": ts.id, "settled": settled},
        )


async def set_available(
    tx: Tx, staff: StaffIdentity, product_id: int, available: bool
) -> Product:
    staff.require(Permission.SOLD_OUT)
    if isinstance(product_id, bool) or not isinstance(product_id, int):
        raise NotFound()
    row = (
        await tx.session.execute(
            select(Product, Site.company_id)
            .join(Site, Site.id == Product.site_id)
            .where(Product.id == product_id)
        )
    ).first()
    guard(staff, row[1] if row else None, site_id=row[0].site_id if row else None)
    assert row is not None
    product = row[0]
    if product.archived_at is not None:
        raise NotFound()  # off the menu: the back office restores it
    if product.available != available:
        product.available = available
        await tx.session.flush()
        await menu_changed(
            tx, product.site_id,
            {"product_id": product.id, "product": product.name, "available": available},
            [product.id],
        )
    return product
