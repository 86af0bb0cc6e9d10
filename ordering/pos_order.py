"""Staff take an order at the POS for a table: a round that goes straight to production.

In "pay only" mode phones cannot order, so the bill is made of these rounds; in any mode
staff may order for a party without phones. A table with no party gets its session opened
here, with its PIN (shown on the POS), so diners can join later to follow and pay. The
round keeps who took it (shown on the POS), and the same staff member validates it at once,
through the one validation path (staff_service.validate: tickets per station, live events).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from accounts.roles import Permission
from accounts.service import StaffIdentity
from db.base import is_id
from errors import N_, InvalidInput
from ordering import cart, facts, pin, staff_service
from ordering.config import OrderingConfig
from ordering.diner_service import new_round
from ordering.errors import EmptyOrder, SoldOut, TableSettled, UnknownProduct
from ordering.models import OrderLine, Product, Round, TableSession
from ordering.session_state import SessionStatus
from ordering.staff_service import LineAdd
from ordering.views import active_session
from realtime.events import Tx


@dataclass(frozen=True)
class Taken:
    round: Round
    pin: str  # the session's, for the diners who want to join
    duplicate: bool  # a retried request: the round it made the first time


@dataclass(frozen=True)
class _Wanted:
    product: Product
    quantity: int
    note: str


async def _wanted(
    tx: Tx, config: OrderingConfig, site_id: int, lines: list[LineAdd]
) -> list[_Wanted]:
    """The order's lines checked: all or nothing, a sold-out product named."""
    if not lines:
        raise EmptyOrder()
    if len(lines) > config.limits.max_cart_lines:
        raise InvalidInput(
            N_("An order holds at most %(limit)s lines."), limit=config.limits.max_cart_lines
        )
    ids = [line.product_id for line in lines]
    if not all(is_id(product_id) for product_id in ids):
        raise UnknownProduct()
    products = {
        p.id: p
        for p in await tx.session.scalars(
            select(Product).where(Product.id.in_(set(ids)), Product.site_id == site_id)
        )
    }
    wanted = []
    for line in lines:
        product = products.get(line.product_id)
        if product is None:
            raise UnknownProduct()
        if not product.available:
            raise SoldOut(product=product.name)
        wanted.append(
            _Wanted(
                product,
                cart.check_quantity(line.quantity, config.limits),
                cart.clean_note(line.note, config.limits),
            )
        )
    return wanted


async def take_order(
    tx: Tx,
    config: OrderingConfig,
    staff: StaffIdentity,
    table_id: int,
    lines: list[LineAdd],
    idempotency_key: str,
) -> Taken:
    """Send an order taken by staff to production; a retried key makes one round."""
    staff.require(Permission.VALIDATE)
    key = idempotency_key
    table = await staff_service.staff_table(tx, staff, table_id)
    ts = await active_session(tx.session, table.id)
    if ts is not None:
        previous = await tx.session.scalar(
            select(Round).where(Round.session_id == ts.id, Round.idempotency_key == key)
        )
        if previous is not None:
            return Taken(previous, ts.pin, duplicate=True)
        if ts.status != SessionStatus.OPEN:
            raise TableSettled()
    wanted = await _wanted(tx, config, table.site_id, lines)
    now = datetime.now(UTC)
    if ts is None:
        ts = TableSession(
            table_id=table.id, pin=pin.new_pin(config.pin_length), opened_at=now,
            last_activity_at=now,
        )
        tx.session.add(ts)
        await tx.session.flush()  # the partial unique index refuses a second open session
    rnd = await new_round(tx, ts, None, key, now, ended=TableSettled, staff_id=staff.id)
    for index, line in enumerate(wanted):
        tx.session.add(
            OrderLine(
                session_id=ts.id,
                client_id=f"pos-{rnd.id}-{index}",
                round_id=rnd.id,
                member_id=None,
                product_id=line.product.id,
                quantity=line.quantity,
                unit_price=line.product.price,
                note=line.note,
                added_at=now,
            )
        )
    await tx.session.flush()
    await facts.round_submitted(tx, table, rnd, staff_id=staff.id)
    await staff_service.validate(tx, config, staff, rnd.id)
    return Taken(rnd, ts.pin, duplicate=False)
