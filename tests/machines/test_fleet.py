"""The machines at a glance (machines/fleet.py): online, brewing while their latest brew is
under way, and their alerts, for the sites asked only."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from demo.seed import DemoVenue
from machines.brew_state import BrewStatus
from machines.fleet import fleet
from machines.models import Brew, Machine
from tests.api.test_bad_input import key
from tests.conftest import Database


async def test_a_machine_brews_while_its_latest_brew_is_under_way(
    db: Database, venue: DemoVenue
) -> None:
    async with db.sessionmaker() as session, session.begin():
        machines = (await session.scalars(select(Machine).order_by(Machine.id))).all()
        first = machines[0]
        await session.execute(update(Machine).values(online=True, alerts=[]))
        first.alerts = ["milk"]
        session.add(Brew(machine_id=first.id, product_name="Espresso", product_type="espresso",
                         idempotency_key=key(), status=BrewStatus.DONE,
                         finished_at=datetime.now(UTC)))
        await session.flush()
        session.add(Brew(machine_id=first.id, product_name="Espresso", product_type="espresso",
                         idempotency_key=key(), status=BrewStatus.BREWING))
    async with db.sessionmaker() as session:
        seen = {m.id: m for m in await fleet(session, [venue.site_id])}
        assert await fleet(session, [venue.site_id + 1000]) == []
    assert set(seen) == {m.id for m in machines}
    assert seen[first.id].brewing and seen[first.id].alerts == ["milk"]
    assert seen[first.id].missing == ["milk"]
    assert not any(m.brewing for m in seen.values() if m.id != first.id)

    async with db.sessionmaker() as session, session.begin():
        await session.execute(update(Brew).where(Brew.finished_at.is_(None)).values(
            status=BrewStatus.DONE, finished_at=datetime.now(UTC)))
        session.add(Brew(machine_id=first.id, product_name="Thé", product_type="tea",
                         idempotency_key=key(), status=BrewStatus.FAILED,
                         finished_at=datetime.now(UTC)))
    async with db.sessionmaker() as session:
        (again,) = [m for m in await fleet(session, [venue.site_id]) if m.id == first.id]
    assert not again.brewing  # its brew ended, and the next one failed at once
