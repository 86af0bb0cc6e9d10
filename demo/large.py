"""`comptoir seed --large`: a company of 20 sites over a year, written in bulk.

At scale 1: about 2 million ticket lines (counter tickets at the tills and table bills),
500,000 brews and 20,000 consumers. What each fact leaves is written as the rooms write it
(the till's tickets chained record by record, the tables' sessions, rounds, lines and
payments, the brews, top-ups and the credit ledger) together with the domain event the
room would have recorded, delivered, in `outbox_event`; the rollups are then rebuilt from
those events (backoffice/rollups.py). What it makes and what it leaves out:
docs/performance.md, "Statistics on a year of a 20-site company". The same seed, last day
and moment give the same company.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import Company
from demo.bulk import Bulk
from demo.large_day import Day, Place, Venue
from demo.large_shapes import (
    BREW_DAY_WEIGHT,
    CITIES,
    DAY_WEIGHT,
    DRINKS,
    GROUPS,
    HOURS_TEXT,
    MENU,
    MONTH_WEIGHT,
)
from demo.seed import demo_hash

NAME = "Groupe Comptoir (démo large)"
ZONE = "Europe/Paris"
PASSWORD = "large-demo"
TILLS_PER_SITE = 2
TABLES_PER_SITE = 15
MACHINES_PER_SITE = 3
COUNTER_SHARE = 0.5  # of the ticket lines: the rest are table bills'
LINES_PER_TICKET = 1.95  # what a counter ticket averages (large_day.py draws it)
LINES_PER_TABLE = 6.3  # and a table's bill


@dataclass(frozen=True)
class Size:
    """How much to make; `scaled` multiplies the volumes, never the sites nor the days."""

    sites: int = 20
    days: int = 365
    ticket_lines: int = 2_000_000
    brews: int = 500_000
    consumers: int = 20_000

    def scaled(self, scale: float) -> Size:
        return Size(self.sites, self.days, round(self.ticket_lines * scale),
                    round(self.brews * scale), max(10, round(self.consumers * scale)))


@dataclass
class Seeded:
    company_id: int
    first_day: date
    last_day: date
    rows: dict[str, int] = field(default_factory=dict)  # per table
    events: dict[str, int] = field(default_factory=dict)  # per event name
    seconds: float = 0.0  # to write it
    rebuild_seconds: float = 0.0  # to rebuild the rollups from its events


class AlreadySeeded(Exception):
    pass


async def make_large(
    maker: async_sessionmaker[AsyncSession], *, scale: float = 1.0, seed: int = 17,
    size: Size | None = None, last_day: date | None = None, now: datetime | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> Seeded:
    """The company written and committed, then the rollups rebuilt from its events."""
    from backoffice.rollups import rebuild

    async with maker() as session, session.begin():
        seeded = await seed_large(session, scale=scale, seed=seed, size=size,
                                  last_day=last_day, now=now, progress=progress)
    progress(f"written in {seeded.seconds:.0f} s: "
             + ", ".join(f"{n:,} {name}" for name, n in sorted(seeded.rows.items())
                         if n >= 1000))
    started = time.monotonic()
    async with maker() as session, session.begin():
        await rebuild(session, seeded.company_id)
    seeded.rebuild_seconds = time.monotonic() - started
    progress(f"rollups rebuilt from {sum(seeded.events.values()):,} events in "
             f"{seeded.rebuild_seconds:.0f} s")
    engine = maker.kw["bind"]
    if engine.dialect.name == "postgresql":
        # The rebuild's upserts leave a dead version of each row they added to again, and
        # nothing is analysed yet: without this, a year's figures read 8 times the pages.
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM (ANALYZE) stat_rollup"))
            await autocommit.execute(text("ANALYZE"))
        progress("vacuumed and analysed")
    return seeded


async def seed_large(
    session: AsyncSession, *, scale: float = 1.0, seed: int = 17, size: Size | None = None,
    last_day: date | None = None, now: datetime | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> Seeded:
    """Write the company and its year into the session's transaction (the caller commits).
    `last_day`: the company's local today by default; nothing after `now` is made."""
    started = time.monotonic()
    if await session.scalar(select(Company.id).where(Company.name == NAME)) is not None:
        raise AlreadySeeded(NAME)
    wanted = (size or Size()).scaled(scale)
    zone = ZoneInfo(ZONE)
    now = now or datetime.now(UTC)
    last_day = last_day or now.astimezone(zone).date()
    first_day = last_day - timedelta(days=wanted.days - 1)
    rng = random.Random(seed)
    bulk = Bulk(session)
    venue = await _setup(bulk, rng, wanted, first_day, zone)
    progress(f"company {venue.company_id}: {wanted.sites} sites, {len(venue.consumers)} "
             f"consumers; {first_day} to {last_day}")
    day = Day(bulk, rng, venue, zone, now)
    rates = _rates(wanted, first_day, venue)
    current = first_day
    while current <= last_day:
        wd, month_w = current.isoweekday(), MONTH_WEIGHT[current.month]
        for place in venue.places:
            await day.counter(place, current, rates[0] * place.weight * DAY_WEIGHT[wd] * month_w)
            await day.tables(place, current, rates[1] * place.weight * DAY_WEIGHT[wd] * month_w)
            await day.brews(place, current, rates[2] * BREW_DAY_WEIGHT[wd] * month_w)
        if (current + timedelta(days=1)).day == 1 or current == last_day:
            progress(f"{current:%Y-%m}: {day.lines:,} ticket lines, {day.brewed:,} brews, "
                     f"{day.recorded:,} events ({time.monotonic() - started:.0f} s)")
        current += timedelta(days=1)
    await day.balances()
    await bulk.close()
    return Seeded(venue.company_id, first_day, last_day, dict(bulk.written),
                  dict(day.events), time.monotonic() - started)


def _rates(size: Size, first_day: date, venue: Venue) -> tuple[float, float, float]:
    """Counter tickets and table bills per unit of a site's weight and of a day's, and
    brews per site and unit of a day's: so that the year adds up to the size asked."""
    days = [first_day + timedelta(days=n) for n in range(size.days)]
    sites = sum(place.weight for place in venue.places)
    busy = sum(DAY_WEIGHT[d.isoweekday()] * MONTH_WEIGHT[d.month] for d in days) * sites
    brewing = sum(BREW_DAY_WEIGHT[d.isoweekday()] * MONTH_WEIGHT[d.month] for d in days)
    counter = size.ticket_lines * COUNTER_SHARE / LINES_PER_TICKET / busy
    tables = size.ticket_lines * (1 - COUNTER_SHARE) / LINES_PER_TABLE / busy
    return counter, tables, size.brews / brewing / len(venue.places)


async def _setup(bulk: Bulk, rng: random.Random, size: Size, first_day: date,
                 zone: ZoneInfo) -> Venue:
    """The company, its sites with their menus, tables, tills, staff and machines, its
    groups and consumers."""
    opened = datetime.combine(first_day - timedelta(days=30), datetime.min.time(),
                              zone).astimezone(UTC)
    password = demo_hash(PASSWORD)
    company_id = await bulk.next_id("company")
    await bulk.add("company", {"id": company_id, "name": NAME, "currency": "EUR",
                               "timezone": ZONE, "locale": "fr"})
    ids = {name: await bulk.next_id(name) for name in (
        "site", "staff", "till", "dining_table", "category", "product", "machine",
        "machine_selection", "machine_product", "user_group", "consumer")}

    def take(name: str) -> int:
        ids[name] += 1
        return ids[name] - 1

    admin = take("staff")
    await bulk.add("staff", {"id": admin, "company_id": company_id, "name": "Alix Admin",
                             "email": f"admin-{company_id}@groupe-comptoir.fr",
                             "password_hash": password, "role": "admin", "active": True,
                             "all_sites": True})
    selection = take("machine_selection")
    await bulk.add("machine_selection", {
        "id": selection, "company_id": company_id, "model": "Jura X8", "name": "Carte maison",
        "share_token": f"large-{company_id}-{rng.getrandbits(64):016x}", "created_at": opened})
    drinks = []
    for position, (name, kind, price, weight) in enumerate(DRINKS):
        drink_id = take("machine_product")
        await bulk.add("machine_product", {
            "id": drink_id, "selection_id": selection, "name": name, "price": price,
            "type": kind, "recipe": {}, "position": position, "enabled": True})
        drinks.append((drink_id, name, kind, price, weight))
    groups = []
    for group in GROUPS:
        group_id = take("user_group")
        await bulk.add("user_group", {"id": group_id, "company_id": company_id,
                                      "name": group.name, "recharge_amount": 0,
                                      "recharge_at": "07:00", "created_at": opened})
        groups.append((group_id, group))
    places: list[Place] = []
    for number in range(1, size.sites + 1):
        site_id = take("site")
        city = CITIES[(number - 1) % len(CITIES)]
        await bulk.add("site", {
            "id": site_id, "company_id": company_id, "name": f"Comptoir {city} {number}",
            "address": f"{number} place de la République, {city}",
            "opening_hours": HOURS_TEXT, "table_mode": "order", "mode_chosen_at": opened,
            "qr_printed_at": opened})
        staff = []
        for role, who in (("manager", "gerant"), ("cashier", "caisse"), ("waiter", "salle")):
            staff_id = take("staff")
            await bulk.add("staff", {
                "id": staff_id, "company_id": company_id, "name": f"{who.title()} {number}",
                "email": f"{who}{number}-{company_id}@groupe-comptoir.fr",
                "password_hash": password, "role": role, "active": True,
                "all_sites": False})
            await bulk.add("staff_site", {"staff_id": staff_id, "site_id": site_id})
            staff.append(staff_id)
        tills, prefixes = [], {}
        for n in range(1, TILLS_PER_SITE + 1):
            till_id = take("till")
            await bulk.add("till", {"id": till_id, "company_id": company_id,
                                    "site_id": site_id, "prefix": f"S{number}T{n}",
                                    "name": f"Caisse {n}", "created_at": opened,
                                    "acked_sequence": 0})
            tills.append(till_id)
            prefixes[till_id] = f"S{number}T{n}"
        tables = []
        for n in range(1, TABLES_PER_SITE + 1):
            table_id = take("dining_table")
            await bulk.add("dining_table", {
                "id": table_id, "site_id": site_id, "label": f"Table {n}",
                "token": f"large-{table_id}-{rng.getrandbits(64):016x}", "position": n})
            tables.append(table_id)
        menu: dict[str, list[tuple[int, int, str, int, int, str, int]]] = {}
        for position, (category, station, rate, products) in enumerate(MENU):
            category_id = take("category")
            await bulk.add("category", {"id": category_id, "site_id": site_id,
                                        "name": category, "station": station,
                                        "position": position})
            items = menu.setdefault(category, [])
            for rank, (name, price, weight) in enumerate(products):
                product_id = take("product")
                vat = 2000 if name in ("Bière pression", "Verre de vin", "Vin chaud") else rate
                await bulk.add("product", {
                    "id": product_id, "site_id": site_id, "category_id": category_id,
                    "reference": f"P{position + 1}{rank + 1:02d}", "name": name,
                    "price": price, "vat_rate": vat, "available": True, "position": rank})
                items.append((product_id, category_id, name, price, vat, station, weight))
        machines = []
        for n in range(1, MACHINES_PER_SITE + 1):
            machine_id = take("machine")
            await bulk.add("machine", {
                "id": machine_id, "site_id": site_id, "model": "Jura X8",
                "serial": f"LARGE-{company_id}-{machine_id}", "name": f"Machine {n}",
                "mode": "custom", "token": f"large-{machine_id}-{rng.getrandbits(64):016x}",
                "selection_id": selection, "settings_pin": f"{rng.randrange(10**6):06d}",
                "maintenance_pin": f"{rng.randrange(10**6):06d}", "online": False,
                "alerts": [], "created_at": opened})
            for group_id, _ in groups:
                await bulk.add("machine_group", {"machine_id": machine_id, "group_id": group_id,
                                                 "selection_id": selection})
            machines.append(machine_id)
        places.append(Place(site_id, rng.uniform(0.6, 1.5), tuple(staff), tuple(tills),
                            tuple(tables), menu, tuple(machines), prefixes=prefixes))
    consumers = []
    shares = [group.share for _, group in groups]
    for n in range(size.consumers):
        consumer_id = take("consumer")
        group_id, group = rng.choices(groups, weights=shares)[0]
        place = places[n % len(places)]
        await bulk.add("consumer", {
            "id": consumer_id, "company_id": company_id,
            "email": f"client{n + 1}@exemple.fr", "name": f"Client {n + 1}",
            "password_hash": password, "email_confirmed": True, "verified": True,
            "role": "consumer", "created_at": opened})
        await bulk.add("user_group_member", {"group_id": group_id, "consumer_id": consumer_id})
        consumers.append((consumer_id, group_id, group.charge, place.site_id,
                          rng.paretovariate(1.2)))
    for place in places:
        mine = [c for c in consumers if c[3] == place.site_id]
        place.consumers = [(c[0], c[1], c[2]) for c in mine]
        place.consumer_weights = _cumulative([c[4] for c in mine])
    return Venue(company_id, "EUR", selection, tuple(drinks), tuple(places), consumers)


def _cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for weight in weights:
        total += weight
        out.append(total)
    return out
