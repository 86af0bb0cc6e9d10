"""A till is paired once with a code from the back office, keeps its credential, is listed
with its last sync and revocable; staff switch in on it by PIN, limited per till and per
member; a supervisor approves by PIN on a cashier's screen."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette

from accounts.models import Staff
from accounts.roles import Permission
from accounts.service import identity
from demo.seed import PINS, DemoVenue
from pos import approval, device
from pos.errors import ApprovalNeeded, PinRefused
from pos.models import JournalEntry, Till
from tests.backoffice.conftest import ADMIN, CASHIER, audit_actions, sign_in
from tests.conftest import Database, client_for
from web.state import AppState

CODE = re.compile(r'id="pairing-code">([A-Z0-9]{4}-[A-Z0-9]{4})<')


async def _add_till(admin: httpx.AsyncClient, venue: DemoVenue, prefix: str = "T1",
                    **more: str) -> Till:
    answer = await admin.post("/backoffice/tills", data={
        "site_id": str(venue.site_id), "name": "Comptoir", "prefix": prefix, **more})
    assert answer.status_code == 200 and "hx-redirect" in answer.headers, answer.text[:500]
    return await _till(admin, prefix)


async def _till(client: httpx.AsyncClient, prefix: str) -> Till:
    state: AppState = client._transport.app.state.comptoir  # type: ignore[attr-defined]
    async with state.sessionmaker() as session:
        till = await session.scalar(select(Till).where(Till.prefix == prefix))
    assert till is not None
    return till


async def _code(admin: httpx.AsyncClient, till: Till) -> str:
    answer = await admin.post(f"/backoffice/tills/{till.id}/pairing")
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["cache-control"] == "no-store"
    found = CODE.search(answer.text)
    assert found, answer.text[:2000]
    assert f"/till/pair?code={found.group(1)}" in answer.text  # in the QR code's link
    return found.group(1)


async def _staff_id(db: Database, email: str) -> int:
    async with db.sessionmaker() as session:
        found = await session.scalar(select(Staff.id).where(Staff.email == email))
    assert found is not None
    return found


async def _journal(db: Database) -> list[str]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(
            select(JournalEntry.kind).order_by(JournalEntry.position))).all())


@pytest.fixture
def state_of_app(app: Starlette) -> AppState:
    found: AppState = app.state.comptoir
    return found


async def test_a_till_is_paired_once_then_staff_switch_in_by_pin(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as admin, client_for(app) as till_device, \
            client_for(app) as other_device:
        await sign_in(admin, ADMIN)
        till = await _add_till(admin, venue, printer="192.168.1.50")
        assert till.printer == "192.168.1.50" and till.credential_hash is None
        # Not paired yet: the till's pages send it to the pairing page.
        first = await till_device.get("/till")
        assert first.status_code == 303 and first.headers["location"] == "/till/pair"
        assert (await till_device.get("/api/v1/till")).json()["error"]["code"] == \
            "till_not_paired"
        code = await _code(admin, till)
        pair_page = await till_device.get(f"/till/pair?code={code}")
        assert f'value="{code}"' in pair_page.text
        paired = await till_device.post("/api/v1/till/pair", json={"code": code.lower()})
        assert paired.status_code == 200, paired.text
        assert paired.json()["till"]["prefix"] == "T1"
        cookie = paired.headers["set-cookie"]
        assert cookie.startswith(f"{device.COOKIE}=") and "HttpOnly" in cookie
        # A code works once.
        again = await other_device.post("/api/v1/till/pair", json={"code": code})
        assert again.status_code == 403 and again.json()["error"]["code"] == "pairing_refused"
        stored = await _till(admin, "T1")
        assert stored.credential_hash and stored.pairing_hash is None
        assert till_device.cookies[device.COOKIE] not in stored.credential_hash
        # Who may switch in: everyone of the site with a PIN.
        state = (await till_device.get("/api/v1/till")).json()
        assert state["staff"] is None
        names = {m["name"] for m in state["members"]}
        assert {"Chloé Caisse", "Sacha Superviseur"} <= names
        cashier = await _staff_id(db, CASHIER[0])
        wrong = await till_device.post("/api/v1/till/switch",
                                       json={"staff_id": cashier, "pin": "9999"})
        assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "pin_refused"
        right = await till_device.post("/api/v1/till/switch",
                                       json={"staff_id": cashier, "pin": PINS[CASHIER[0]]})
        assert right.status_code == 200, right.text
        home = await till_device.get("/till")
        assert "Chloé Caisse" in home.text and "/api/v1/till/lock" in home.text
        assert (await till_device.get("/api/v1/till")).json()["staff"]["id"] == cashier
        # The session is an ordinary staff session: the POS opens.
        assert (await till_device.get(f"/pos/{venue.site_id}")).status_code == 200
        locked = await till_device.post("/api/v1/till/lock", json={})
        assert locked.status_code == 200
        assert (await till_device.get("/api/v1/till")).json()["staff"] is None
        assert (await till_device.get(f"/pos/{venue.site_id}")).status_code in (302, 303)
        # Listed with its last sync.
        listing = await admin.get("/backoffice/tills")
        assert "Comptoir" in listing.text and "Dernière synchronisation" in listing.text
    assert await _journal(db) == ["config_changed", "config_changed", "config_changed",
                                  "till_paired", "sign_in", "sign_out"]
    assert [a for a, _ in await audit_actions(db)] == ["till.added", "till.pairing"]


async def test_an_old_or_replaced_code_pairs_nothing(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as admin, client_for(app) as tablet:
        await sign_in(admin, ADMIN)
        till = await _add_till(admin, venue)
        old = await _code(admin, till)
        newer = await _code(admin, till)
        refused = await tablet.post("/api/v1/till/pair", json={"code": old})
        assert refused.status_code == 403
        async with db.sessionmaker() as session, session.begin():
            await session.execute(update(Till).where(Till.id == till.id).values(
                pairing_expires_at=device.clock.now() - timedelta(seconds=1)))
        late = await tablet.post("/api/v1/till/pair", json={"code": newer})
        assert late.status_code == 403 and device.COOKIE not in tablet.cookies
        for bad in ("", "x" * 21, "ABCD"):
            answer = await tablet.post("/api/v1/till/pair", json={"code": bad})
            assert answer.status_code in (403, 422) and answer.json()["error"]["message"]


async def test_a_revoked_device_opens_nothing_and_can_be_paired_again(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as admin, client_for(app) as tablet:
        await sign_in(admin, ADMIN)
        till = await _add_till(admin, venue)
        assert (await tablet.post("/api/v1/till/pair",
                                  json={"code": await _code(admin, till)})).status_code == 200
        cashier = await _staff_id(db, CASHIER[0])
        assert (await tablet.post("/api/v1/till/switch", json={
            "staff_id": cashier, "pin": PINS[CASHIER[0]]})).status_code == 200
        unconfirmed = await admin.post(f"/backoffice/tills/{till.id}/revoke", data={})
        assert unconfirmed.status_code == 422
        revoked = await admin.post(f"/backoffice/tills/{till.id}/revoke",
                                   data={"confirm": "yes"})
        assert revoked.status_code == 200, revoked.text[:300]
        assert (await tablet.get("/api/v1/till")).status_code == 403
        assert (await tablet.get("/till")).headers["location"] == "/till/pair"
        assert (await tablet.post("/api/v1/till/switch", json={
            "staff_id": cashier, "pin": PINS[CASHIER[0]]})).status_code == 403
        # Paired again, with a new code: a new credential.
        assert (await tablet.post("/api/v1/till/pair",
                                  json={"code": await _code(admin, till)})).status_code == 200
        assert (await tablet.get("/api/v1/till")).status_code == 200
    assert "till_revoked" in await _journal(db)


async def test_wrong_pins_are_limited_per_member_and_per_till(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as admin, client_for(app) as tablet:
        await sign_in(admin, ADMIN)
        till = await _add_till(admin, venue)
        assert (await tablet.post("/api/v1/till/pair",
                                  json={"code": await _code(admin, till)})).status_code == 200
        cashier = await _staff_id(db, CASHIER[0])
        for _ in range(device.PIN_TRIES_PER_STAFF.limit):
            wrong = await tablet.post("/api/v1/till/switch",
                                      json={"staff_id": cashier, "pin": "0000"})
            assert wrong.status_code == 403
        # Past the limit, even the right PIN is not checked.
        stopped = await tablet.post("/api/v1/till/switch",
                                    json={"staff_id": cashier, "pin": PINS[CASHIER[0]]})
        assert stopped.status_code == 429 and "retry-after" in stopped.headers
        # Another member may still switch in: the till's own limit is higher.
        supervisor = await _staff_id(db, "superviseur@cafe-de-la-gare.fr")
        ok = await tablet.post("/api/v1/till/switch", json={
            "staff_id": supervisor, "pin": PINS["superviseur@cafe-de-la-gare.fr"]})
        assert ok.status_code == 200, ok.text


async def test_the_tills_page_is_the_administrators_and_their_companys(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as admin, client_for(app) as cashier:
        await sign_in(admin, ADMIN)
        till = await _add_till(admin, venue)
        await sign_in(cashier, CASHIER)
        assert (await cashier.get("/backoffice/tills")).status_code == 403
        assert (await cashier.post(f"/backoffice/tills/{till.id}/pairing")).status_code == 403
        assert (await admin.post("/backoffice/tills/999999/pairing")).status_code == 404
        bad = await admin.post("/backoffice/tills", data={
            "site_id": str(venue.site_id), "name": "", "prefix": "t-1", "printer": "http://x"})
        assert bad.status_code == 422 and bad.text.count('class="bo-error"') >= 3
        taken = await admin.post("/backoffice/tills", data={
            "site_id": str(venue.site_id), "name": "Bar", "prefix": "T1"})
        assert taken.status_code == 422 and "T1" in taken.text
        printer = await admin.post(f"/backoffice/tills/{till.id}/printer",
                                   data={"printer": "imprimante.local:70000"})
        assert printer.status_code == 422
        assert (await admin.post(f"/backoffice/tills/{till.id}/printer",
                                 data={"printer": "imprimante.local:9101"})).status_code == 200
        assert (await _till(admin, "T1")).printer == "imprimante.local:9101"


async def test_a_supervisor_approves_on_a_cashiers_till_by_pin(
    app: Starlette, db: Database, venue: DemoVenue, state_of_app: AppState
) -> None:
    async with client_for(app) as admin:
        await sign_in(admin, ADMIN)
        till = await _add_till(admin, venue)
    cashier_id = await _staff_id(db, CASHIER[0])
    supervisor_id = await _staff_id(db, "superviseur@cafe-de-la-gare.fr")
    async with db.sessionmaker() as session:
        cashier = await identity(session, cashier_id)
        supervisor = await identity(session, supervisor_id)
    assert cashier is not None and supervisor is not None
    with pytest.raises(ApprovalNeeded):
        await approval.approver(state_of_app, till=till, acting=cashier,
                                permission=Permission.REFUND, approval=None)
    with pytest.raises(PinRefused):
        await approval.approver(state_of_app, till=till, acting=cashier,
                                permission=Permission.REFUND,
                                approval=approval.Approval(staff_id=supervisor_id, pin="0000"))
    # A cashier's own PIN approves nothing a cashier may not do.
    with pytest.raises(PinRefused):
        await approval.approver(state_of_app, till=till, acting=cashier,
                                permission=Permission.REFUND,
                                approval=approval.Approval(staff_id=cashier_id,
                                                           pin=PINS[CASHIER[0]]))
    approved = await approval.approver(
        state_of_app, till=till, acting=cashier, permission=Permission.REFUND,
        approval=approval.Approval(staff_id=supervisor_id,
                                   pin=PINS["superviseur@cafe-de-la-gare.fr"]))
    assert approved == supervisor_id
    # A supervisor approves their own action.
    assert await approval.approver(state_of_app, till=till, acting=supervisor,
                                   permission=Permission.REFUND, approval=None) == supervisor_id
