"""The demo venue: Café de la Gare, 12 tables, 25 products, four staff accounts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Company, Site, Staff
from accounts.passwords import hash_password
from machines.demo import DemoMachine, seed_machines
from ordering.models import Category, DiningTable, Product

MENU: list[tuple[str, str, list[tuple[str, int, str]]]] = [
    ("Cafés", "bar", [
        ("Espresso", 180, "Arabica, torréfaction locale"), ("Double espresso", 300, ""),
        ("Café allongé", 220, ""), ("Cappuccino", 380, "Lait entier ou avoine"),
        ("Café crème", 350, ""), ("Chocolat chaud", 400, "Chocolat noir 70 %"),
    ]),
    ("Boissons fraîches", "bar", [
        ("Jus d'orange pressé", 450, ""), ("Citronnade maison", 400, ""),
        ("Eau pétillante 50 cl", 350, ""), ("Thé glacé", 380, ""),
        ("Limonade artisanale", 420, ""),
    ]),
    ("Petit-déjeuner", "kitchen", [
        ("Croissant", 150, "Pur beurre"), ("Pain au chocolat", 170, ""),
        ("Tartine beurre confiture", 350, ""), ("Formule petit-déjeuner", 950,
         "Boisson chaude, jus, viennoiserie, tartine"),
    ]),
    ("Plats", "kitchen", [
        ("Croque-monsieur", 950, "Salade verte"), ("Quiche lorraine", 1050, ""),
        ("Salade niçoise", 1250, ""), ("Omelette aux fines herbes", 900, ""),
        ("Soupe du jour", 750, ""),
    ]),
    ("Desserts", "kitchen", [
        ("Tarte Tatin", 650, "Crème fraîche"), ("Mousse au chocolat", 550, ""),
        ("Crème brûlée", 600, ""), ("Moelleux au chocolat", 650, ""),
        ("Café gourmand", 850, ""),
    ]),
]

# The blocking steps of the onboarding checklist are done: a site with its address, a menu,
# a supervisor (below) and every member of staff with a PIN.
ADDRESS = "1 place de la Gare, 69002 Lyon"
HOURS = "Lundi–vendredi 7 h–19 h, samedi 8 h–14 h"

STAFF: list[tuple[str, str, str, str]] = [
    ("admin@cafe-de-la-gare.fr", "Camille Admin", "admin", "admin-demo"),
    ("superviseur@cafe-de-la-gare.fr", "Sacha Superviseur", "supervisor", "super-demo"),
    ("caisse@cafe-de-la-gare.fr", "Chloé Caisse", "cashier", "caisse-demo"),
    ("cuisine@cafe-de-la-gare.fr", "Karim Cuisine", "kitchen", "cuisine-demo"),
]
# Each member's personal PIN (the till's switch of user; the checklist asks one of everyone).
PINS = {
    "admin@cafe-de-la-gare.fr": "1001",
    "superviseur@cafe-de-la-gare.fr": "2002",
    "caisse@cafe-de-la-gare.fr": "3003",
    "cuisine@cafe-de-la-gare.fr": "4004",
}


@cache
def demo_hash(secret: str) -> str:
    """The demo's passwords and PINs hashed once a process (scrypt is slow by design, and
    the tests seed the demo again and again); each is public anyway."""
    return hash_password(secret)


@dataclass(frozen=True)
class DemoVenue:
    site_id: int
    table_tokens: list[tuple[str, str]]
    staff: list[tuple[str, str, str]]  # email, password, role
    machines: list[DemoMachine] = field(default_factory=list)  # coffee machines
    consumers: list[tuple[str, str]] = field(default_factory=list)  # email, password


async def seed(session: AsyncSession, tables: int = 12) -> DemoVenue:
    """Create the demo venue once; seeding again returns what is there."""
    site = await session.scalar(select(Site).where(Site.name == "Café de la Gare"))
    if site is None:
        company = Company(name="Café de la Gare SARL", currency="EUR",
                          timezone="Europe/Paris", locale="fr")
        session.add(company)
        await session.flush()
        site = Site(company_id=company.id, name="Café de la Gare", table_mode="order",
                    address=ADDRESS, opening_hours=HOURS, mode_chosen_at=datetime.now(UTC))
        session.add(site)
        await session.flush()
        for number in range(1, tables + 1):
            session.add(DiningTable(site_id=site.id, label=f"Table {number}",
                                    token=secrets.token_urlsafe(16), position=number))
        for position, (name, station, products) in enumerate(MENU):
            category = Category(site_id=site.id, name=name, station=station, position=position)
            session.add(category)
            await session.flush()
            for rank, (product, price, description) in enumerate(products):
                session.add(Product(site_id=site.id, category_id=category.id, name=product,
                                    reference=f"P{position + 1}{rank + 1:02d}",
                                    price=price, description=description, position=rank))
        for email, name, role, password in STAFF:
            session.add(Staff(company_id=company.id, email=email, name=name, role=role,
                              password_hash=demo_hash(password),
                              pin_hash=demo_hash(PINS[email])))
        await session.flush()
    if not site.address:  # a demo seeded before sites had an address: it may sell again
        site.address, site.opening_hours = ADDRESS, HOURS
        await session.flush()
    for member in (await session.scalars(  # a demo seeded before staff had PINs
        select(Staff).where(Staff.company_id == site.company_id, Staff.pin_hash.is_(None),
                            Staff.email.in_(list(PINS)))
    )).all():
        member.pin_hash = demo_hash(PINS[member.email])
    await session.flush()
    rows = (
        await session.execute(
            select(DiningTable.label, DiningTable.token)
            .where(DiningTable.site_id == site.id)
            .order_by(DiningTable.position)
        )
    ).all()
    machines, consumers = await seed_machines(session, site.id, site.company_id)
    return DemoVenue(
        site.id,
        [(label, token) for label, token in rows],
        [(email, password, role) for email, _, role, password in STAFF],
        machines,
        consumers,
    )
