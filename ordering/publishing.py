"""The events an ordering change emits, each with its topic's fresh view."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from sqlalchemy import select

from ordering.config import OrderingConfig
from ordering.models import OrderLine, TableSession
from ordering.table_view import TableHeader, table_view
from ordering.views import (
    menu_topic,
    menu_view,
    pos_topic,
    pos_view,
    station_topic,
    station_view,
    table_topic,
)
from realtime.events import Tx


async def table_changed(
    tx: Tx,
    config: OrderingConfig,
    table_id: int,
    site_id: int,
    type: str,
    change: dict[str, Any],
    *,
    pos: bool = True,
    stations: Iterable[str] = (),
    header: TableHeader | None = None,
    version: int | None = None,
) -> None:
    """`header`: what the change read of the table, when nothing it did changed it;
    `version`: the table topic's, when the change's statement bumped it itself."""
    session = tx.session
    await tx.emit(
        table_topic(table_id), type, change, lambda: table_view(session, table_id, header),
        version=version,
    )
    if pos:
        await pos_changed(tx, config, site_id, type, {**change, "table_id": table_id})
    for station in sorted(set(stations)):
        await tx.emit(
            station_topic(site_id, station),
            type,
            change,
            partial(station_view, session, site_id, station),
        )


async def pos_changed(
    tx: Tx, config: OrderingConfig, site_id: int, type: str, change: dict[str, Any]
) -> None:
    session = tx.session
    await tx.emit(
        pos_topic(site_id),
        type,
        change,
        lambda: pos_view(session, site_id, config),
    )


async def menu_changed(
    tx: Tx, site_id: int, change: dict[str, Any], products: Iterable[int] = ()
) -> None:
    """Every open menu of the site follows; so does every open cart holding one of
    `products` (changed in price, name or availability): its table's view prices and marks
    its lines from the menu as it is now."""
    session = tx.session
    await tx.emit(menu_topic(site_id), "menu.changed", change, lambda: menu_view(session, site_id))
    wanted = sorted(set(products))
    if not wanted:
        return
    tables = (await session.scalars(
        select(TableSession.table_id).distinct()
        .join(OrderLine, OrderLine.session_id == TableSession.id)
        .where(TableSession.closed_at.is_(None), OrderLine.round_id.is_(None),
               OrderLine.product_id.in_(wanted))
        .order_by(TableSession.table_id)
    )).all()
    for table_id in tables:
        await tx.emit(
            table_topic(table_id), "menu.changed", change,
            partial(table_view, session, table_id),
        )
