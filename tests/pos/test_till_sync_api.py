"""The till's sync through HTTP: the catalog and its version, uploads answered once, the
Z refused naming the tills not synced since it was asked, then closed once one synced and
the other was declared out of service; a refund numbered by the till; the till's topic."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from starlette.applications import Starlette

from demo.seed import DemoVenue
from pos.models import JournalEntry, Till
from pos.till_topic import TillTopic
from realtime.topics import Viewer
from tests.backoffice.conftest import ADMIN, sign_in
from tests.conftest import Database, client_for
from tests.pos.test_till_device import _add_till, _code
from tests.pos.test_till_screens import AtTill, at_till  # noqa: F401  (its fixture)


def a_sale(product: dict[str, Any], staff_id: int, sequence: int) -> dict[str, Any]:
    return {"uuid": str(uuid.uuid4()), "sequence": sequence, "staff_id": staff_id,
            "device_at": "2026-12-07T10:00:05Z",
            "lines": [{"product_id": product["id"], "label": product["name"], "quantity": 2,
                       "unit_price": product["price"], "vat_rate": product["vat_rate"]}],
            "payments": [{"method": "cash", "amount": 2 * product["price"],
                          "tendered": 2 * product["price"] + 100}]}


async def test_a_till_syncs_and_the_z_waits_for_every_till(
    app: Starlette, at_till: AtTill, db: Database, venue: DemoVenue  # noqa: F811
) -> None:
    device = at_till.device
    catalog = await device.get("/api/v1/till/catalog")
    assert catalog.status_code == 200, catalog.text
    assert isinstance(catalog.json()["version"], int) and catalog.json()["products"]
    product = catalog.json()["products"][0]
    sale = a_sale(product, at_till.cashier, 1)
    body = {"sales": [sale], "catalog_version": catalog.json()["version"]}
    first = await device.post("/api/v1/till/sync", json=body)
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["results"] == [{"uuid": sale["uuid"], "status": "recorded",
                                  "number": "T1-000001", "ticket_id": answer["results"][0][
                                      "ticket_id"], "flags": [], "error": None}]
    assert (answer["acked_sequence"], answer["highest_sequence"]) == (1, 1)
    assert answer["catalog_changed"] is False and answer["topic"].startswith("till:")
    again = (await device.post("/api/v1/till/sync", json=body)).json()
    assert again["results"][0]["status"] == "duplicate"
    # The till's topic: its page may watch it, nobody else.
    async with db.sessionmaker() as session:
        topic = TillTopic()
        args = answer["topic"].split(":")[1:]
        assert await topic.authorize(session, args, Viewer())
        assert not await topic.authorize(session, [args[0], "0" * 32], Viewer())
    # A second till of the site syncs once, then goes silent.
    async with client_for(app) as admin, client_for(app) as other:
        await sign_in(admin, ADMIN)
        t2 = await _add_till(admin, venue, "T2")
        paired = await other.post("/api/v1/till/pair", json={"code": await _code(admin, t2)})
        assert paired.status_code == 200, paired.text
        assert (await other.post("/api/v1/till/sync", json={"sales": []})).status_code == 200
    z = {"uuid": str(uuid.uuid4()), "counted_cash": 0, "approval": at_till.approval()}
    refused = await device.post("/api/v1/till/reports/z", json=z)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "sales_waiting"
    assert "T1, T2" in refused.json()["error"]["message"]
    page = await device.get("/till/reports")
    assert "/api/v1/till/reports/out-of-service" in page.text and "T2" in page.text
    # T1 syncs as soon as it is asked; T2 is declared out of service by a supervisor.
    assert (await device.post("/api/v1/till/sync", json={"sales": []})).status_code == 200
    still = await device.post("/api/v1/till/reports/z", json=z)
    assert still.status_code == 409 and "T2" in still.json()["error"]["message"]
    assert "T1" not in still.json()["error"]["message"]
    out = {"till_id": t2.id, "reason": "Tablette en panne"}
    assert (await device.post("/api/v1/till/reports/out-of-service",
                              json=out)).status_code == 409  # a cashier: approval needed
    declared = await device.post("/api/v1/till/reports/out-of-service",
                                 json={**out, "approval": at_till.approval()})
    assert declared.status_code == 200, declared.text
    closed = await device.post("/api/v1/till/reports/z", json=z)
    assert closed.status_code == 200, closed.text
    assert closed.json()["body"]["report"]["tickets"] == 1
    async with db.sessionmaker() as session:
        kinds = (await session.scalars(select(JournalEntry.kind))).all()
    assert "till_out_of_service" in kinds


async def test_a_refund_takes_the_tills_own_number(at_till: AtTill) -> None:  # noqa: F811
    device = at_till.device
    product = (await device.get("/api/v1/till/catalog")).json()["products"][0]
    sold, other = (await device.post("/api/v1/till/sync", json={
        "sales": [a_sale(product, at_till.cashier, 1), a_sale(product, at_till.cashier, 2)]}
    )).json()["results"]
    refund = await device.post(f"/api/v1/till/tickets/{sold['ticket_id']}/refund", json={
        "uuid": str(uuid.uuid4()), "whole": True, "reason": "Erreur", "method": "cash",
        "sequence": 7, "approval": at_till.approval()})
    assert refund.status_code == 200, refund.text
    assert refund.json()["ticket"]["number"] == "T1-000007"
    taken = await device.post(f"/api/v1/till/tickets/{other['ticket_id']}/void", json={
        "uuid": str(uuid.uuid4()), "reason": "Erreur", "sequence": 7,
        "approval": at_till.approval()})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "sequence_taken"
    synced = (await device.post("/api/v1/till/sync", json={"sales": []})).json()
    assert (synced["acked_sequence"], synced["highest_sequence"]) == (2, 7)


async def test_only_a_paired_till_syncs(app: Starlette, db: Database) -> None:
    async with client_for(app) as stranger:
        assert (await stranger.post("/api/v1/till/sync", json={"sales": []})).status_code == 403
        assert (await stranger.get("/api/v1/till/catalog")).status_code == 403
    async with db.sessionmaker() as session:
        assert (await session.scalars(select(Till))).all() == []


async def test_a_sale_at_another_price_is_flagged_on_the_records_page(
    app: Starlette, at_till: AtTill  # noqa: F811
) -> None:
    device = at_till.device
    product = (await device.get("/api/v1/till/catalog")).json()["products"][0]
    cheaper = {**product, "price": product["price"] - 10}
    answer = (await device.post("/api/v1/till/sync", json={
        "sales": [a_sale(cheaper, at_till.cashier, 1)]})).json()
    assert answer["results"][0]["status"] == "recorded"
    assert answer["results"][0]["flags"] == ["price_changed"]
    async with client_for(app) as admin:
        admin.headers["accept-language"] = "en"
        await sign_in(admin, ADMIN)
        records = await admin.get("/backoffice/records")
    assert records.status_code == 200
    assert "T1-000001" in records.text
    assert "Sold at another price than the catalog&#39;s" in records.text \
        or "Sold at another price than the catalog's" in records.text


async def test_a_till_heard_of_long_ago_syncs(at_till: AtTill, db: Database) -> None:  # noqa: F811
    """Its last contact is noted again (it was once a 500: the read had begun the session's
    transaction)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    async with db.sessionmaker() as session, session.begin():
        await session.execute(update(Till).where(Till.id == at_till.till.id)
                              .values(last_seen_at=long_ago))
    answer = await at_till.device.post("/api/v1/till/sync", json={"sales": []})
    assert answer.status_code == 200, answer.text
    async with db.sessionmaker() as session:
        till = await session.get(Till, at_till.till.id)
    assert till is not None and till.last_seen_at is not None
    assert till.last_seen_at.replace(tzinfo=UTC) > long_ago + timedelta(minutes=4)


async def test_an_approval_checked_online_travels_as_a_token_never_as_the_pin(
    app: Starlette, at_till: AtTill, db: Database, venue: DemoVenue  # noqa: F811
) -> None:
    device = at_till.device
    product = (await device.get("/api/v1/till/catalog")).json()["products"][0]

    def discounted(sequence: int, approval: dict[str, Any] | None) -> dict[str, Any]:
        sold = a_sale(product, at_till.cashier, sequence)
        sold["lines"][0]["discount"] = product["price"]  # half of two: above the limit
        sold["payments"] = [{"method": "card", "amount": product["price"]}]
        sold["reason"] = "Geste commercial"
        return {**sold, "approval": approval}

    first = discounted(1, None)
    wrong = await device.post("/api/v1/till/approval", json={
        "permission": "discount", "uuid": first["uuid"],
        "approval": at_till.approval(pin="0000")})
    assert wrong.status_code == 403
    checked = await device.post("/api/v1/till/approval", json={
        "permission": "discount", "uuid": first["uuid"], "approval": at_till.approval()})
    assert checked.status_code == 200, checked.text
    token = checked.json()["token"]
    assert checked.json()["staff_id"] == at_till.supervisor and "2002" not in token
    first["approval"] = {"staff_id": at_till.supervisor, "token": token}
    # The same token on another sale, or typed offline (who, no proof): kept, flagged.
    second = discounted(2, {"staff_id": at_till.supervisor, "token": token})
    third = discounted(3, {"staff_id": at_till.supervisor})
    answer = (await device.post("/api/v1/till/sync",
                                json={"sales": [first, second, third]})).json()
    assert [(r["status"], r["flags"]) for r in answer["results"]] == [
        ("recorded", []), ("recorded", ["unverified_discount"]),
        ("recorded", ["unverified_discount"])]


async def test_a_manager_marks_a_flagged_sale_dealt_with(
    app: Starlette, at_till: AtTill, db: Database, venue: DemoVenue  # noqa: F811
) -> None:
    from pos.models import SyncIssue
    from tests.backoffice.helpers import CASHIER, audit_entries, signed_in

    device = at_till.device
    product = (await device.get("/api/v1/till/catalog")).json()["products"][0]
    sold = a_sale(product, at_till.cashier, 1)
    sold["lines"][0]["unit_price"] = product["price"] + 10  # sold at another price
    sold["payments"] = [{"method": "card", "amount": 2 * product["price"] + 20}]
    answer = (await device.post("/api/v1/till/sync", json={"sales": [sold]})).json()
    assert answer["results"][0]["flags"] == ["price_changed"]
    async with db.sessionmaker() as session:
        issue = await session.scalar(select(SyncIssue))
    assert issue is not None and issue.dealt_at is None
    url = f"/backoffice/records/issues/{issue.id}/dealt"
    async with client_for(app) as admin_client, client_for(app) as cashier_client:
        admin = await signed_in(admin_client, ADMIN)
        cashier = await signed_in(cashier_client, CASHIER)
        assert (await cashier.post(url, {"note": "Vu"})).status_code == 403
        assert (await admin.post(url, {"note": "x" * 201})).status_code == 422
        done = await admin.post(url, {"note": "Prix corrigé au menu"})
        assert done.status_code == 200 and done.headers["hx-redirect"] == "/backoffice/records"
        page = (await admin.get("/backoffice/records")).text
        assert "Traité le" in page and "Prix corrigé au menu" in page
    async with db.sessionmaker() as session:
        dealt = await session.get(SyncIssue, issue.id)
    assert dealt is not None and dealt.dealt_at is not None
    assert dealt.dealt_note == "Prix corrigé au menu"
    assert [e.changes for e in await audit_entries(db, "sync_issue.dealt")] == [
        {"kind": "price_changed", "note": "Prix corrigé au menu"}]


async def test_a_long_upload_is_recorded_a_few_sales_a_transaction_each_once(
    app: Starlette, at_till: AtTill, db: Database, venue: DemoVenue  # noqa: F811
) -> None:
    from pos.sync_api import CHUNK

    device = at_till.device
    product = (await device.get("/api/v1/till/catalog")).json()["products"][0]
    sales = [a_sale(product, at_till.cashier, n) for n in range(2 * CHUNK + 5, 0, -1)]
    answer = (await device.post("/api/v1/till/sync", json={"sales": sales})).json()
    assert [r["number"] for r in answer["results"]] == [
        f"T1-{n:06d}" for n in range(1, 2 * CHUNK + 6)]  # in the order of their numbers
    assert {r["status"] for r in answer["results"]} == {"recorded"}
    assert answer["acked_sequence"] == answer["highest_sequence"] == 2 * CHUNK + 5
    again = (await device.post("/api/v1/till/sync", json={"sales": sales})).json()
    assert {r["status"] for r in again["results"]} == {"duplicate"}
