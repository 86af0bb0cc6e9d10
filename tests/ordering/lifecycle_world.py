"""The database side of the lifecycle test: an event loop of its own, the services, the truth.

Hypothesis drives state machines synchronously, so the world runs each unit of work to the
end on a loop of its own (the tests' loop is not running while a plain test runs). Each
change goes through the runner the routes use (`realtime.events.run`: commit, publish,
deliver the domain events) on a bus that keeps what was published. Each example plays in
a corner of its own: a new site with two tables, four products and new device keys, so
that nothing an example did (PIN failures, topic versions) reaches the next one.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from sqlalchemy import select

from accounts.models import Company, Site, Staff
from accounts.service import StaffIdentity
from app import assemble
from db.engine import make_engine, make_sessionmaker
from ordering.config import OrderingConfig
from ordering.models import Category, DiningTable, OrderLine, Product, Ticket
from ordering.table_view import table_view
from ordering.views import menu_topic, pos_topic, pos_view, station_topic, table_topic
from realtime.bus import MemoryBus
from realtime.events import Tx, run
from realtime.models import versions_of
from tests.conftest import _truncate
from tests.ordering import table_model as model

T = TypeVar("T")

MENU = [  # name, price, category, station
    ("Espresso", 180, "Cafés", "bar"),
    ("Jus d'orange", 450, "Cafés", "bar"),
    ("Croissant", 150, "Cuisine", "kitchen"),
    ("Quiche lorraine", 1050, "Cuisine", "kitchen"),
]
STATIONS = ["bar", "kitchen"]


class RecordingBus(MemoryBus):
    """The memory bus, keeping what was published until the test takes it."""

    def __init__(self) -> None:
        super().__init__()
        self._published: list[dict[str, Any]] = []

    async def publish(self, topic: str, payload: str) -> None:
        self._published.append(json.loads(payload))
        await super().publish(topic, payload)

    def take(self) -> list[dict[str, Any]]:
        """The events published since the last take, in order."""
        taken, self._published = self._published, []
        return taken


class World:
    def __init__(self, database_url: str, backend: str) -> None:
        self.config = OrderingConfig()
        assemble(self.config)
        self._loop = asyncio.Runner(loop_factory=asyncio.new_event_loop)
        self.engine = make_engine(database_url)
        self.sessionmaker = make_sessionmaker(self.engine)
        self.bus = RecordingBus()
        self.call(_truncate(self.sessionmaker, backend))
        self.staff, self.stranger = self.call(self._staff())
        self.corners = 0

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self._loop.run(coroutine)

    def close(self) -> None:
        self.call(self.engine.dispose())
        self._loop.close()

    def run(self, op: Callable[[Tx], Awaitable[T]]) -> T:
        """One unit of work through the routes' runner."""
        return self.call(run(self.sessionmaker, self.bus, op))

    async def _staff(self) -> tuple[dict[str, StaffIdentity], StaffIdentity]:
        """A cashier, a cook and an administrator, and another company's administrator."""
        async with self.sessionmaker() as session, session.begin():
            ours, theirs = Company(name="Le Modèle"), Company(name="La Concurrence")
            session.add_all([ours, theirs])
            await session.flush()
            people = {
                role: Staff(company_id=ours.id, email=f"{role}@modele.test", name=role,
                            password_hash="-", pin_hash="-", role=role)
                for role in model.ROLES
            }
            # A supervisor, so that the company's sites may sell (the onboarding checklist's
            # blocking steps: a site with its address, a menu, a supervisor, every PIN).
            session.add(Staff(company_id=ours.id, email="supervisor@modele.test",
                              name="supervisor", password_hash="-", pin_hash="-",
                              role="supervisor"))
            other = Staff(company_id=theirs.id, email="admin@concurrence.test", name="other",
                          password_hash="-", role="admin")
            session.add_all([*people.values(), other])
            await session.flush()
            return (
                {role: StaffIdentity(s.id, s.company_id, s.role, s.name)
                 for role, s in people.items()},
                StaffIdentity(other.id, other.company_id, other.role, other.name),
            )

    def new_corner(self) -> tuple[int, model.Cafe]:
        """A new site of the company, with two free tables and the menu; its model."""
        self.corners += 1
        return self.call(self._corner(self.corners))

    async def _corner(self, number: int) -> tuple[int, model.Cafe]:
        company_id = self.staff["admin"].company_id
        async with self.sessionmaker() as session, session.begin():
            site = Site(company_id=company_id, name=f"Coin {number}", table_mode="order",
                        address=f"{number} rue du Modèle")
            session.add(site)
            await session.flush()
            tables = [
                DiningTable(site_id=site.id, label=f"Table {n}", token=secrets.token_urlsafe(16),
                            position=n)
                for n in (1, 2)
            ]
            categories = {
                name: Category(site_id=site.id, name=name, station=station)
                for _, _, name, station in MENU
            }
            session.add_all([*tables, *categories.values()])
            await session.flush()
            products = [
                Product(site_id=site.id, category_id=categories[category].id, name=name,
                        price=price, position=n)
                for n, (name, price, category, _) in enumerate(MENU)
            ]
            session.add_all(products)
            await session.flush()
            return site.id, model.Cafe(
                [model.TableModel(t.id, t.token) for t in tables],
                [model.Product(p.id, p.name, p.price, station)
                 for p, (*_, station) in zip(products, MENU, strict=True)],
            )

    def topics(self, site_id: int, tables: list[int]) -> list[str]:
        return [
            *(table_topic(t) for t in tables), pos_topic(site_id), menu_topic(site_id),
            *(station_topic(site_id, s) for s in STATIONS),
        ]

    def truth(self, site_id: int, tables: list[int], round_ids: list[int]) -> Truth:
        return self.call(self._truth(site_id, tables, round_ids))

    async def _truth(self, site_id: int, tables: list[int], round_ids: list[int]) -> Truth:
        async with self.sessionmaker() as session:
            views = {t: await table_view(session, t) for t in tables}
            versions = await versions_of(session, self.topics(site_id, tables))
            tickets = (
                await session.scalars(select(Ticket).where(Ticket.round_id.in_(round_ids)))
            ).all()
            pos = await pos_view(session, site_id, self.config)
        return Truth(
            views, versions, {(t.round_id, t.station): (t.id, t.status) for t in tickets}, pos
        )

    def ticket_ids(self, round_id: int) -> dict[str, int]:
        """A round's tickets by station: the ids the model names them by."""

        async def read() -> dict[str, int]:
            async with self.sessionmaker() as session:
                rows = await session.execute(
                    select(Ticket.station, Ticket.id).where(Ticket.round_id == round_id)
                )
                return {station: ticket_id for station, ticket_id in rows.all()}

        return self.call(read())

    def staff_lines(self, round_id: int, known: set[int]) -> list[tuple[int, str]]:
        """The ids and client ids of a round's lines the model does not know yet, in order."""

        async def read() -> list[tuple[int, str]]:
            async with self.sessionmaker() as session:
                rows = await session.execute(
                    select(OrderLine.id, OrderLine.client_id)
                    .where(OrderLine.round_id == round_id)
                    .order_by(OrderLine.id)
                )
                return [(i, c) for i, c in rows.all() if i not in known]

        return self.call(read())


class Truth:
    """What the database says after a step: each table's view, every topic's version, the
    tickets of the model's rounds, the POS view."""

    def __init__(
        self, views: dict[int, dict[str, Any]], versions: dict[str, int],
        tickets: dict[tuple[int, str], tuple[int, str]], pos: dict[str, Any],
    ) -> None:
        self.views = {t: _plain(v) for t, v in views.items()}
        self.versions = versions
        self.tickets = tickets
        self.pos = _plain(pos)


def _plain(view: dict[str, Any]) -> dict[str, Any]:
    """The view as a screen receives it (JSON), to compare with published events."""
    plain: dict[str, Any] = json.loads(json.dumps(view, default=str))
    return plain
