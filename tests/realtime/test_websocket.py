"""The websocket protocol against a real `comptoir serve`, on both databases and buses."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select
from websockets.exceptions import InvalidStatus

from accounts.models import Site, Staff, StaffSite
from demo.seed import DemoVenue
from machines.models import Machine
from ordering import scanned_tables
from realtime.models import TopicVersion
from tests.conftest import Database, Server
from tests.realtime.phones import Phone, another_company_admin, receive, send, subscribe
from web import session_store
from web.models import BrowserSession


@dataclass
class Table:
    server: Server
    token: str
    id: int
    topic: str
    espresso: int
    lea: Phone  # opened the table
    tom: Phone  # joined with the PIN
    pin: str


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[tuple[str, str], Server]]:
    """One server per database and bus for the module: starting one takes seconds.

    The server keeps what it read for a subscription for a second, by topic and version
    (realtime/hub.py `Snapshots`): versions only grow in a real database, but emptying it
    between tests starts them again, so each test's table starts at versions of its own.
    """
    started: dict[tuple[str, str], Server] = {}
    yield started
    for server in started.values():
        server.stop()


_versions = itertools.count(1000, 1000)


@pytest_asyncio.fixture
async def table(
    db: Database, venue: DemoVenue, bus_url: str | None, servers: dict[tuple[str, str], Server]
) -> AsyncIterator[Table]:
    key = (db.url, bus_url or "")
    if key not in servers:
        servers[key] = Server({"DATABASE_URL": db.url, "REDIS_URL": bus_url or ""})
    server = servers[key]
    token = venue.table_tokens[0][1]
    async with Phone(server.url) as lea, Phone(server.url) as tom:
        state = await lea.scan(token)
        await tom.scan(token)
        table_id = state["table"]["table"]["id"]
        async with db.sessionmaker() as session, session.begin():
            session.add(TopicVersion(topic=f"table:{table_id}", version=next(_versions)))
        pin = await lea.start(token, "Léa")
        await tom.join(token, "Tom", pin)
        espresso = state["menu"]["categories"][0]["products"][0]["id"]
        yield Table(server, token, table_id, f"table:{table_id}", espresso, lea, tom, pin)


async def test_snapshot_then_the_change_another_phone_makes(table: Table) -> None:
    origin = table.server.url  # the page's own origin is welcome
    async with table.lea.socket(origin=origin) as ws:
        snapshot = await subscribe(ws, table.topic)
        version = snapshot["version"]
        assert version >= 2  # the table was opened, then Tom joined
        assert snapshot["data"]["version"] == version
        session = snapshot["data"]["session"]
        assert [m["name"] for m in session["members"]] == ["Léa", "Tom"]
        assert session["pin"] == table.pin and session["cart"] == []

        await table.tom.add(table.token, table.espresso, 2)

        event = await receive(ws)
        assert (event["type"], event["topic"], event["event"]) == (
            "event", table.topic, "cart.added"
        )
        assert event["version"] == version + 1
        view = event["data"]["view"]
        assert view["version"] == version + 1
        assert [(ln["member"], ln["quantity"]) for ln in view["session"]["cart"]] == [("Tom", 2)]
        assert event["data"]["change"]["member"] == "Tom"
        assert event["data"]["change"]["quantity"] == 2


async def test_html_format_carries_fragments_and_a_notification(table: Table) -> None:
    async with table.lea.socket("html") as ws:
        snapshot = await subscribe(ws, table.topic)
        assert "data" not in snapshot
        assert "Tom" in snapshot["html"]["table-live"]

        await table.tom.add(table.token, table.espresso)

        event = await receive(ws)
        assert (event["type"], event["version"]) == ("event", snapshot["version"] + 1)
        assert "Espresso" in event["html"]["table-live"]
        assert "Tom" in event["notify"]["text"]  # the toast other phones show


async def test_refused_and_unknown_topics_get_errors(table: Table, venue: DemoVenue) -> None:
    async with table.lea.socket() as ws:
        pos = f"site:{venue.site_id}:pos"
        await send(ws, "subscribe", pos)
        assert await receive(ws) == {
            "type": "error", "code": "forbidden", "topic": pos,
            "message": "You may not watch this topic.",
        }
        await send(ws, "subscribe", "weather:paris")
        error = await receive(ws)
        assert (error["type"], error["code"], error["topic"]) == (
            "error", "unknown_topic", "weather:paris"
        )
        await send(ws, "subscribe", "table:999999")
        assert (await receive(ws))["code"] == "forbidden"

        # The socket is still usable after errors.
        snapshot = await subscribe(ws, table.topic)
        assert snapshot["data"]["session"]["pin"] == table.pin


async def test_a_foreign_origin_is_refused(table: Table) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with table.lea.socket(origin="https://evil.example"):
            pass
    assert refused.value.response.status_code == 403


async def test_a_stranger_sees_only_the_public_cut(table: Table) -> None:
    async with Phone(table.server.url) as stranger:
        await stranger.scan(table.token)
        async with stranger.socket() as ws:
            snapshot = await subscribe(ws, table.topic)
            assert snapshot["data"]["session"] == {"status": "open"}
            assert table.pin not in str(snapshot)

            await table.tom.add(table.token, table.espresso)

            event = await receive(ws)
            assert event["version"] == snapshot["version"] + 1
            assert event["data"]["change"] is None  # not even who did what
            assert event["data"]["view"]["session"] == {"status": "open"}
            assert set(event["data"]["view"]) == {"table", "currency", "session", "version"}
            assert table.pin not in str(event)


async def test_resync_returns_a_fresh_snapshot_and_unsubscribe_stops_events(
    table: Table,
) -> None:
    async with table.lea.socket() as ws, table.tom.socket() as witness:
        first = await subscribe(ws, table.topic)
        await subscribe(witness, table.topic)
        await table.tom.add(table.token, table.espresso)
        assert (await receive(ws))["version"] == first["version"] + 1
        await receive(witness)

        await send(ws, "resync", table.topic)
        fresh = await receive(ws)
        assert fresh["type"] == "snapshot" and fresh["version"] == first["version"] + 1
        assert len(fresh["data"]["session"]["cart"]) == 1

        await send(ws, "unsubscribe", table.topic)
        await send(ws, "ping")
        assert await receive(ws) == {"type": "pong"}  # the unsubscribe was handled
        await table.tom.add(table.token, table.espresso)
        assert (await receive(witness))["version"] == first["version"] + 2
        # The hub hands an event to all its sockets at once: had `ws` still been
        # watching, the event would be queued before this pong.
        await send(ws, "ping")
        assert await receive(ws) == {"type": "pong"}


async def test_topics_of_one_socket_are_independent(table: Table, venue: DemoVenue) -> None:
    async with table.lea.socket() as ws:
        await send(ws, "subscribe", table.topic, f"menu:{venue.site_id}")
        snapshots: dict[str, Any] = {}
        for _ in range(2):
            message = await receive(ws)
            snapshots[message["topic"]] = message
        assert set(snapshots) == {table.topic, f"menu:{venue.site_id}"}
        assert snapshots[f"menu:{venue.site_id}"]["data"]["categories"]
        await table.tom.add(table.token, table.espresso)
        event = await receive(ws)
        assert (event["topic"], event["version"]) == (
            table.topic, snapshots[table.topic]["version"] + 1
        )


def forbidden(topic: str) -> dict[str, str]:
    return {"type": "error", "code": "forbidden", "topic": topic,
            "message": "You may not watch this topic."}


async def forget_scans(db: Database, cookie: str) -> None:
    """The same browser once it has forgotten the tables it scanned (it keeps the last few
    only): its session, kept on the server, loses them."""
    key = session_store.key_of(cookie)
    async with db.sessionmaker() as session, session.begin():
        row = await session.get(BrowserSession, key)
        assert row is not None
        data = json.loads(row.data)
        assert data.pop(scanned_tables.KEY)
        row.data = json.dumps(data)


async def test_only_a_browser_that_scanned_the_table_watches_it(table: Table) -> None:
    """Table ids are sequential: a cookie alone must not reveal every table's state."""
    async with Phone(table.server.url) as visitor, Phone(table.server.url) as program:
        for phone in (visitor, program):
            assert (await phone.http.get("/")).status_code == 200  # a cookie, no table
            async with phone.socket() as ws:
                await send(ws, "subscribe", table.topic)
                assert await receive(ws) == forbidden(table.topic)

        assert (await visitor.http.get(f"/t/{table.token}")).status_code == 200  # the QR code
        state = await program.http.get(f"/api/v1/tables/{table.token}")  # the same, by API
        assert state.status_code == 200

        neighbour = f"table:{table.id + 1}"  # a table of the same venue, not scanned
        for phone in (visitor, program):
            async with phone.socket() as ws:
                snapshot = await subscribe(ws, table.topic)
                assert snapshot["data"]["session"] == {"status": "open"}  # the public cut
                await send(ws, "subscribe", neighbour)
                assert await receive(ws) == forbidden(neighbour)


async def test_a_member_watches_even_once_the_cookie_forgot_the_scan(
    table: Table, db: Database
) -> None:
    await forget_scans(db, table.tom.http.cookies["comptoir"])
    async with table.tom.socket() as ws:
        snapshot = await subscribe(ws, table.topic)
        assert snapshot["data"]["session"]["pin"] == table.pin  # the full view


async def test_staff_watch_the_tables_of_their_own_company_only(
    table: Table, venue: DemoVenue, db: Database
) -> None:
    other_email, other_password = await another_company_admin(db)
    cashier_email, cashier_password, _ = venue.staff[2]
    async with Phone(table.server.url) as cashier, Phone(table.server.url) as other:
        await cashier.sign_in(cashier_email, cashier_password)
        await other.sign_in(other_email, other_password)
        async with cashier.socket() as ws:
            snapshot = await subscribe(ws, table.topic)
            assert snapshot["data"]["session"]["pin"] == table.pin  # the full view
        async with other.socket() as ws:
            await send(ws, "subscribe", table.topic)
            assert await receive(ws) == forbidden(table.topic)


async def test_staff_given_other_sites_watch_nothing_of_this_one(
    table: Table, venue: DemoVenue, db: Database
) -> None:
    """A member of staff limited to some sites (their `staff_site` rows) may not watch the
    tables, POS, stations or machines of another site of their own company; their own
    site's, yes."""
    cashier_email, cashier_password, _ = venue.staff[2]
    async with db.sessionmaker() as session, session.begin():
        cashier = await session.scalar(select(Staff).where(Staff.email == cashier_email))
        assert cashier is not None
        elsewhere = Site(company_id=cashier.company_id, name="Le Kiosque")
        session.add(elsewhere)
        await session.flush()
        cashier.all_sites = False
        session.add(StaffSite(staff_id=cashier.id, site_id=elsewhere.id))
        machine = await session.scalar(
            select(Machine.id).where(Machine.token == venue.machines[0].token))
    theirs = [table.topic, f"site:{venue.site_id}:pos", f"site:{venue.site_id}:station:kitchen",
              f"machine:{machine}"]
    async with Phone(table.server.url) as phone:
        await phone.sign_in(cashier_email, cashier_password)
        async with phone.socket() as ws:
            for topic in theirs:
                await send(ws, "subscribe", topic)
                assert await receive(ws) == forbidden(topic)
            own = await subscribe(ws, f"site:{elsewhere.id}:pos")
            assert own["data"]["site_id"] == elsewhere.id
