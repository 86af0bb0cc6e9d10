"""The shared cart: add, change and remove lines, seen at once on every phone.

These are the most frequent changes in the product (every tap on a phone), so their
statements are built once and run as plain Core: no ORM unit of work around them. The
table's view that goes out with each change is read in one more statement
(ordering/table_view.py), from the table header the access check already read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, delete, func, insert, select, update

from db.base import is_id
from errors import N_, InvalidInput
from ordering import cart
from ordering.config import OrderingConfig
from ordering.diner_service import TableAccess, require_member, touch
from ordering.errors import CartFull, NotYourLine, ProductUnavailable, UnknownLine, UnknownProduct
from ordering.models import OrderLine, Product, TableSession
from ordering.publishing import table_changed
from realtime.events import Tx

_LINE_BY_CLIENT_ID = select(OrderLine.id).where(
    OrderLine.session_id == bindparam("session_id"), OrderLine.client_id == bindparam("client_id")
)
_PRODUCT_AND_CART = select(
    Product,
    _LINE_BY_CLIENT_ID.scalar_subquery(),
    select(func.count())
    .where(OrderLine.session_id == bindparam("session_id"), OrderLine.round_id.is_(None))
    .scalar_subquery(),
).where(Product.id == bindparam("product_id"))
_LINES = OrderLine.__table__  # the cart's hot statements are plain Core: no ORM work
_INSERT_LINE = insert(_LINES).returning(_LINES.c.id)
_OWN_CART_LINE = (
    select(_LINES.c.id, _LINES.c.member_id, _LINES.c.quantity, Product.name)
    .join(Product, Product.id == _LINES.c.product_id)
    .where(
        _LINES.c.id == bindparam("line_id"),
        _LINES.c.session_id == bindparam("session_id"),
        _LINES.c.round_id.is_(None),
    )
)
_SET_QUANTITY = (
    update(_LINES).where(_LINES.c.id == bindparam("line_id")).values(quantity=bindparam("qty"))
)
_REMOVE_LINE = delete(_LINES).where(_LINES.c.id == bindparam("line_id"))


@dataclass(frozen=True)
class _CartLine:
    id: int
    quantity: int
    product: str


async def _keep_alive(tx: Tx, config: OrderingConfig, ts: TableSession, now: datetime) -> None:
    """Cart activity keeps an open session from idling out.

    The idle time is counted in tens of minutes, so the session's row is written at most
    every tenth of it (and 30 s at most) rather than on every tap.
    """
    if now - ts.last_activity_at >= timedelta(seconds=min(30, config.idle_s / 10)):
        await touch(tx, ts, now)


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
    found = await require_member(tx, config, token, device_key)
    assert found.session is not None and found.member is not None
    if not is_id(product_id):
        raise UnknownProduct()
    # The retry check, the product and the cart's size in one round trip.
    params = {"session_id": found.session.id, "client_id": client_id, "product_id": product_id}
    row = (await tx.session.execute(_PRODUCT_AND_CART, params)).first()
    existing_id = row[1] if row is not None else await tx.session.scalar(
        _LINE_BY_CLIENT_ID, params
    )
    if existing_id is not None:
        existing = await tx.session.get(OrderLine, existing_id)
        assert existing is not None
        return existing
    if row is None:
        raise UnknownProduct()
    product = _check_product(row[0], found.table.site_id)
    if row[2] >= config.limits.max_cart_lines:
        raise CartFull()
    now = datetime.now(UTC)
    values = {
        "session_id": found.session.id, "client_id": client_id, "member_id": found.member.id,
        "product_id": product.id, "quantity": qty, "unit_price": product.price,
        "note": clean, "added_at": now,
    }
    # A plain INSERT: the ORM's unit of work costs more than the rest of the change.
    line_id = (await (await tx.session.connection()).execute(_INSERT_LINE, values)).scalar_one()
    line = OrderLine(id=line_id, round_id=None, **values)
    await _keep_alive(tx, config, found.session, now)
    await table_changed(
        tx, config, found.table.id, found.table.site_id, "cart.added",
        {"member": found.member.name, "member_id": found.member.id,
         "product": product.name, "quantity": qty},
        pos=False, header=found.header,
    )
    return line


def _check_product(product: Product | None, site_id: int) -> Product:
    if product is None or product.site_id != site_id:
        raise UnknownProduct()
    if not product.available:
        raise ProductUnavailable()
    return product


async def _own_cart_line(tx: Tx, found: TableAccess, line_id: object) -> _CartLine:
    assert found.session is not None and found.member is not None
    if isinstance(line_id, bool) or not isinstance(line_id, int):
        raise UnknownLine()
    params = {"line_id": line_id, "session_id": found.session.id}
    row = (await (await tx.session.connection()).execute(_OWN_CART_LINE, params)).first()
    if row is None:
        raise UnknownLine()
    if row.member_id != found.member.id:
        raise NotYourLine()
    return _CartLine(row.id, row.quantity, row.name)


async def set_quantity(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, line_id: object, quantity: object
) -> None:
    """Set my line to a quantity; zero removes it. Setting is naturally idempotent."""
    qty = cart.check_quantity(quantity, config.limits, allow_zero=True)
    found = await require_member(tx, config, token, device_key)
    line = await _own_cart_line(tx, found, line_id)
    await _set_quantity(tx, config, found, line, qty)


async def remove_line(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, line_id: object
) -> None:
    """Remove my line; removing one already gone is not an error (a retry)."""
    found = await require_member(tx, config, token, device_key)
    try:
        line = await _own_cart_line(tx, found, line_id)
    except UnknownLine:
        return
    await _set_quantity(tx, config, found, line, 0)


async def _set_quantity(
    tx: Tx, config: OrderingConfig, found: TableAccess, line: _CartLine, qty: int
) -> None:
    assert found.member is not None and found.session is not None
    connection = await tx.session.connection()
    if qty == 0:
        await connection.execute(_REMOVE_LINE, {"line_id": line.id})
        kind, change = "cart.removed", {"product": line.product, "quantity": line.quantity}
    else:
        await connection.execute(_SET_QUANTITY, {"line_id": line.id, "qty": qty})
        kind, change = "cart.updated", {"product": line.product, "quantity": qty}
    await _keep_alive(tx, config, found.session, datetime.now(UTC))
    await table_changed(
        tx, config, found.table.id, found.table.site_id, kind,
        {**change, "member": found.member.name, "member_id": found.member.id},
        pos=False, header=found.header,
    )


