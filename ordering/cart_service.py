"""The shared cart: add, change and remove lines, seen at once on every phone.

These are the most frequent changes in the product (every tap on a phone), so their
statements are built once and run as plain Core: no ORM unit of work around them. The
table's view that goes out with each change is read in one more statement
(ordering/table_view.py), from the table header the access check already read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import String, Table, and_, bindparam, delete, func, insert, select, update

from db.base import is_id
from ordering import cart
from ordering.config import OrderingConfig
from ordering.diner_service import TableAccess, access_with, require_member_with, touch
from ordering.errors import CartFull, NotYourLine, ProductUnavailable, UnknownLine, UnknownProduct
from ordering.models import OrderLine, Product, TableSession
from ordering.publishing import table_changed
from ordering.views import table_topic
from realtime.events import Tx
from realtime.models import change_and_bump

_LINES = cast(Table, OrderLine.__table__)  # the cart's hot statements are plain Core: no ORM
_CART = _LINES.alias("cart")  # the line a change names, beside the access check's tables
# Access, then the retry check, the product and the cart's size: one round trip.
_ACCESS_FOR_ADD = access_with(
    Product.id, Product.site_id, Product.available, Product.price, Product.name,
    select(_LINES.c.id)
    .where(_LINES.c.session_id == TableSession.id, _LINES.c.client_id == bindparam("client_id"))
    .scalar_subquery(),
    select(func.count())
    .where(_LINES.c.session_id == TableSession.id, _LINES.c.round_id.is_(None))
    .scalar_subquery(),
    joins=[(Product, Product.id == bindparam("product_id"))],
)
# Access, then the line the change names if it is in this session's cart: one round trip.
_ACCESS_FOR_LINE = access_with(
    _CART.c.id, _CART.c.member_id, _CART.c.quantity, Product.name,
    joins=[
        (_CART, and_(
            _CART.c.id == bindparam("line_id"),
            _CART.c.session_id == TableSession.id,
            _CART.c.round_id.is_(None),
        )),
        (Product, Product.id == _CART.c.product_id),
    ],
)
# Each change goes with its table topic's version bump, in one statement on PostgreSQL
# (realtime.models.change_and_bump): every parameter is named.
_NEW_LINE = ("session_id", "client_id", "member_id", "product_id", "quantity", "unit_price",
             "note", "added_at")
_INSERT_LINE = insert(_LINES).values(
    {name: bindparam(name, type_=_LINES.c[name].type) for name in _NEW_LINE}
).returning(_LINES.c.id)
_SET_QUANTITY = (
    update(_LINES).where(_LINES.c.id == bindparam("line_id")).values(
        quantity=bindparam("qty"),
        note=func.coalesce(bindparam("note", type_=String), _LINES.c.note),  # null: unchanged
    ).returning(_LINES.c.id)
)
_REMOVE_LINE = delete(_LINES).where(_LINES.c.id == bindparam("line_id")).returning(_LINES.c.id)


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
    client_id: str,
    product_id: int,
    quantity: int,
    note: str = "",
) -> OrderLine:
    """Add a line; the client-chosen id makes a retried add land once."""
    qty = cart.check_quantity(quantity, config.limits)
    clean = cart.clean_note(note, config.limits)
    found, row = await require_member_with(
        tx, config, token, device_key, _ACCESS_FOR_ADD,
        {"client_id": client_id, "product_id": product_id if is_id(product_id) else None},
    )
    assert found.session is not None and found.member is not None
    pid, site_id, available, price, name, existing_id, cart_size = row
    if existing_id is not None:
        existing = await tx.session.get(OrderLine, existing_id)
        assert existing is not None
        return existing
    if pid is None or site_id != found.table.site_id:
        raise UnknownProduct()
    if not available:
        raise ProductUnavailable()
    if cart_size >= config.limits.max_cart_lines:
        raise CartFull()
    now = datetime.now(UTC)
    values = {
        "session_id": found.session.id, "client_id": client_id, "member_id": found.member.id,
        "product_id": pid, "quantity": qty, "unit_price": price,
        "note": clean, "added_at": now,
    }
    # A plain INSERT: the ORM's unit of work costs more than the rest of the change.
    inserted, version = await change_and_bump(
        tx.session, _INSERT_LINE, values, table_topic(found.table.id))
    assert inserted is not None
    line = OrderLine(id=inserted[0], round_id=None, **values)
    await _keep_alive(tx, config, found.session, now)
    await table_changed(
        tx, config, found.table.id, found.table.site_id, "cart.added",
        {"member": found.member.name, "member_id": found.member.id,
         "product": name, "quantity": qty},
        pos=False, header=found.header, version=version,
    )
    return line


async def _own_cart_line(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, line_id: int
) -> tuple[TableAccess, _CartLine]:
    found, (found_id, member_id, quantity, product) = await require_member_with(
        tx, config, token, device_key, _ACCESS_FOR_LINE,
        {"line_id": line_id if is_id(line_id) else None},
    )
    assert found.member is not None
    if found_id is None:
        raise UnknownLine()
    if member_id != found.member.id:
        raise NotYourLine()
    return found, _CartLine(found_id, quantity, product)


async def set_quantity(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, line_id: int, quantity: int,
    note: str | None = None,
) -> None:
    """Set my line to a quantity (zero removes it) and, unless None, its note. Setting is
    naturally idempotent."""
    qty = cart.check_quantity(quantity, config.limits, allow_zero=True)
    clean = None if note is None else cart.clean_note(note, config.limits)
    found, line = await _own_cart_line(tx, config, token, device_key, line_id)
    await _set_quantity(tx, config, found, line, qty, clean)


async def remove_line(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, line_id: int
) -> None:
    """Remove my line; removing one already gone is not an error (a retry)."""
    try:
        found, line = await _own_cart_line(tx, config, token, device_key, line_id)
    except UnknownLine:
        return
    await _set_quantity(tx, config, found, line, 0)


async def _set_quantity(
    tx: Tx, config: OrderingConfig, found: TableAccess, line: _CartLine, qty: int,
    note: str | None = None,
) -> None:
    assert found.member is not None and found.session is not None
    topic = table_topic(found.table.id)
    if qty == 0:
        _, version = await change_and_bump(tx.session, _REMOVE_LINE, {"line_id": line.id}, topic)
        kind, change = "cart.removed", {"product": line.product, "quantity": line.quantity}
    else:
        _, version = await change_and_bump(
            tx.session, _SET_QUANTITY, {"line_id": line.id, "qty": qty, "note": note}, topic)
        kind, change = "cart.updated", {"product": line.product, "quantity": qty}
        if note is not None and qty == line.quantity:
            change["note"] = note  # only the note changed: the phones say so
    await _keep_alive(tx, config, found.session, datetime.now(UTC))
    await table_changed(
        tx, config, found.table.id, found.table.site_id, kind,
        {**change, "member": found.member.name, "member_id": found.member.id},
        pos=False, header=found.header, version=version,
    )


