"""What each ordering topic shows, read from the database in one go."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Company, Site
from ordering import pin
from ordering.config import OrderingConfig
from ordering.models import (
    Category,
    DiningTable,
    OrderLine,
    Product,
    Round,
    TableSession,
    Ticket,
)
from ordering.pos_tables import pos_tables
from ordering.round_state import IN_KITCHEN, RoundStatus, TicketStatus
from web import ratelimit


def station_of_product() -> ColumnElement[str]:
    """Where a product is made: its own station, else its category's (join both)."""
    return func.coalesce(Product.station, Category.station)


def photo_url(key: str | None) -> str | None:
    return f"/media/products/{key}" if key else None


def table_topic(table_id: int) -> str:
    return f"table:{table_id}"


def pos_topic(site_id: int) -> str:
    return f"site:{site_id}:pos"


def station_topic(site_id: int, station: str) -> str:
    return f"site:{site_id}:station:{station}"


def menu_topic(site_id: int) -> str:
    return f"menu:{site_id}"


async def active_session(session: AsyncSession, table_id: int) -> TableSession | None:
    return await session.scalar(
        select(TableSession).where(
            TableSession.table_id == table_id, TableSession.closed_at.is_(None)
        )
    )


async def company_of_site(session: AsyncSession, site_id: int) -> Company:
    company = await session.scalar(
        select(Company).join(Site, Site.company_id == Company.id).where(Site.id == site_id)
    )
    assert company is not None
    return company


async def menu_view(session: AsyncSession, site_id: int) -> dict[str, Any]:
    company = await company_of_site(session, site_id)
    categories = (
        await session.scalars(
            select(Category)
            .where(Category.site_id == site_id, Category.archived_at.is_(None))
            .order_by(Category.position, Category.id)
        )
    ).all()
    products = (
        await session.scalars(
            select(Product)
            .where(Product.site_id == site_id, Product.archived_at.is_(None))
            .order_by(Product.position, Product.id)
        )
    ).all()
    return {
        "site_id": site_id,
        "currency": company.currency,
        "categories": [
            {
                "id": c.id,
                "name": c.name,
                "station": c.station,
                "products": [
                    {
                        "id": p.id,
                        "name": p.name,
                        "description": p.description,
                        "price": p.price,
                        "available": p.available,
                        "allergens": p.allergens.split(",") if p.allergens else [],
                        "photo": photo_url(p.photo),
                    }
                    for p in products
                    if p.category_id == c.id
                ],
            }
            for c in categories
        ],
    }


async def pos_view(
    session: AsyncSession, site_id: int, config: OrderingConfig | None = None
) -> dict[str, Any]:
    company = await company_of_site(session, site_id)
    tables = await pos_tables(session, site_id)
    queue = []
    kitchen = []
    for table in tables:
        for rnd in table.rounds:
            entry = {**rnd, "table_id": table.tile["id"], "table": table.tile["label"]}
            if rnd["status"] == RoundStatus.TO_VALIDATE:
                queue.append(entry)
            elif rnd["status"] in IN_KITCHEN:
                kitchen.append(entry)
    queue.sort(key=lambda r: r["submitted_at"])
    kitchen.sort(key=lambda r: r["submitted_at"])
    labels = {str(table.tile["id"]): table.tile["label"] for table in tables}
    slowed = await ratelimit.over_limit(session, pin.table_rule(config or OrderingConfig()),
                                        list(labels))
    alerts = [
        {"table_id": int(one.subject), "table": labels[one.subject], "kind": "pin_slowed",
         "failures": one.hits, "until": one.expires_at.isoformat()}
        for one in slowed
    ]
    products = (
        await session.execute(
            select(Product.id, Product.name)
            .where(Product.site_id == site_id, Product.available.is_(True))
            .order_by(Product.category_id, Product.position)
        )
    ).all()
    return {
        "site_id": site_id,
        "currency": company.currency,
        "timezone": company.timezone,
        "now": datetime.now(UTC).isoformat(),
        "products": [{"id": pid, "name": name} for pid, name in products],
        "tables": [table.tile for table in tables],
        "queue": queue,
        "in_production": kitchen,
        "alerts": alerts,
    }


async def station_view(session: AsyncSession, site_id: int, station: str) -> dict[str, Any]:
    """A display's tickets not yet served, oldest arrival first, with the server's clock and
    the site's thresholds: the display counts each one's waiting time itself."""
    rows = (
        await session.execute(
            select(Ticket, Round, DiningTable)
            .join(Round, Round.id == Ticket.round_id)
            .join(TableSession, TableSession.id == Round.session_id)
            .join(DiningTable, DiningTable.id == TableSession.table_id)
            .where(
                Ticket.site_id == site_id,
                Ticket.station == station,
                Ticket.status != TicketStatus.SERVED,
            )
            .order_by(Ticket.reached_at, Ticket.id)
        )
    ).all()
    tickets = []
    for ticket, rnd, table in rows:
        lines = (
            await session.execute(
                select(OrderLine, Product)
                .join(Product, Product.id == OrderLine.product_id)
                .join(Category, Category.id == Product.category_id)
                .where(
                    OrderLine.round_id == rnd.id,
                    station_of_product() == station,
                    OrderLine.quantity > 0,
                )
                .order_by(OrderLine.id)
            )
        ).all()
        tickets.append(
            {
                "id": ticket.id,
                "round_id": rnd.id,
                "round": rnd.number,
                "table": table.label,
                "status": ticket.status,
                "submitted_at": rnd.submitted_at.isoformat(),
                "reached_at": ticket.reached_at.isoformat(),
                "lines": [
                    {"name": p.name, "quantity": ln.quantity, "note": ln.note} for ln, p in lines
                ],
            }
        )
    company = await company_of_site(session, site_id)
    site = await session.get(Site, site_id)
    assert site is not None
    return {
        "site_id": site_id,
        "station": station,
        "timezone": company.timezone,
        "now": datetime.now(UTC).isoformat(),
        "amber_after_min": site.ticket_amber_min,
        "red_after_min": site.ticket_red_min,
        "tickets": tickets,
    }
