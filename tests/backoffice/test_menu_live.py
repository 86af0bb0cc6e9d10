"""A change made in the back office reaches the open menus at once (`menu:{site_id}`)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from demo.seed import DemoVenue
from ordering.models import Product
from tests.backoffice.conftest import ADMIN, csv_file
from tests.conftest import Database, Server
from tests.realtime.phones import Phone, receive, subscribe


async def test_a_price_change_and_an_import_reach_a_diner_watching_the_menu(
    db: Database, venue: DemoVenue, server_factory: type[Server], tmp_path: Path
) -> None:
    server = server_factory({"DATABASE_URL": db.url, "REDIS_URL": "",
                             "MEDIA_DIR": str(tmp_path)})
    topic = f"menu:{venue.site_id}"
    async with db.sessionmaker() as session:
        espresso = await session.scalar(select(Product).where(Product.reference == "P101"))
    assert espresso is not None
    async with Phone(server.url) as diner, Phone(server.url) as manager:
        await diner.scan(venue.table_tokens[0][1])
        login = await manager.http.post("/api/v1/staff/login",
                                        json={"email": ADMIN[0], "password": ADMIN[1]})
        csrf = login.json()["csrf_token"]
        headers = {"x-csrf-token": csrf, "hx-request": "true"}
        async with diner.socket(fmt="html") as ws:
            snapshot = await subscribe(ws, topic)
            assert "1,80" in snapshot["html"]["menu-live"]
            edited = await manager.http.post(
                f"/backoffice/menu/products/{espresso.id}", headers=headers,
                data={"reference": "P101", "category_id": str(espresso.category_id),
                      "name": "Espresso serré", "description": "", "price": "2.10",
                      "vat_rate": "10", "station": "", "available": "yes"})
            assert edited.status_code == 200, edited.text
            event = await receive(ws)
            assert (event["type"], event["event"], event["version"]) == (
                "event", "menu.changed", snapshot["version"] + 1)
            html = event["html"]["menu-live"]
            assert "Espresso serré" in html and "2,10" in html

            imported = await manager.http.post(
                f"/backoffice/menu/{venue.site_id}/import/apply", headers=headers,
                files={"file": ("menu.csv", csv_file(
                    "LAT,Cafés,Latte,,4.20,10,milk,,yes"), "text/csv")})
            assert imported.status_code == 200, imported.text
            event = await receive(ws)
            assert event["version"] == snapshot["version"] + 2
            assert "Latte" in event["html"]["menu-live"]
            assert "Allergènes : Lait" in event["html"]["menu-live"]  # French first
