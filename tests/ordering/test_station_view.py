"""What a kitchen or bar display is given: its tickets by arrival at the station, when each
arrived, the server's clock and the site's thresholds (the display counts the wait itself)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from accounts.models import Site
from ordering import views
from ordering.models import Ticket
from tests.ordering.conftest import Cafe, Table


async def _sent(cafe: Cafe, table: Table, who: str, product: str) -> int:
    await cafe.party(table, who)
    await cafe.add(table, f"device-{who.lower()}", product, 1)
    sent = await cafe.submit(table, f"device-{who.lower()}", uuid.uuid4().hex)
    return sent.round.id


async def test_tickets_come_in_the_order_they_reached_the_station(cafe: Cafe) -> None:
    first, second = cafe.tables[0], cafe.tables[1]
    sent_first = await _sent(cafe, first, "Lea", "Croissant")
    sent_second = await _sent(cafe, second, "Tom", "Croissant")
    cashier = await cafe.staff("cashier")
    before = datetime.now(UTC)
    # Validated the other way round: the kitchen got the second table's croissant first.
    await cafe.validate(cashier, sent_second)
    await cafe.validate(cashier, sent_first)
    async with cafe.db.sessionmaker() as session:
        view = await views.station_view(session, cafe.venue.site_id, "kitchen")
    assert [t["round_id"] for t in view["tickets"]] == [sent_second, sent_first]
    reached = [datetime.fromisoformat(t["reached_at"]) for t in view["tickets"]]
    assert before <= reached[0] <= reached[1] <= datetime.fromisoformat(view["now"])
    assert (view["amber_after_min"], view["red_after_min"]) == (10, 20)  # a site's defaults


async def test_an_older_arrival_goes_first_and_the_sites_thresholds_come_with_the_view(
    cafe: Cafe
) -> None:
    early, late = cafe.tables[0], cafe.tables[1]
    cashier = await cafe.staff("cashier")
    late_round = await _sent(cafe, late, "Tom", "Croissant")
    early_round = await _sent(cafe, early, "Lea", "Croissant")
    await cafe.validate(cashier, late_round)
    await cafe.validate(cashier, early_round)
    async with cafe.db.sessionmaker() as session, session.begin():
        # A ticket that reached the kitchen before the display was last read (an older one).
        await session.execute(
            update(Ticket).where(Ticket.round_id == early_round)
            .values(reached_at=datetime.now(UTC) - timedelta(minutes=25))
        )
        await session.execute(update(Site).where(Site.id == cafe.venue.site_id)
                              .values(ticket_amber_min=3, ticket_red_min=7))
    async with cafe.db.sessionmaker() as session:
        view = await views.station_view(session, cafe.venue.site_id, "kitchen")
    assert [t["round_id"] for t in view["tickets"]] == [early_round, late_round]
    assert (view["amber_after_min"], view["red_after_min"]) == (3, 7)
