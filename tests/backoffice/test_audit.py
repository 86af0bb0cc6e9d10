"""The audit log: each change that matters is written with who, when, what and what
changed, in the change's own transaction; administrators read it, nobody else."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from accounts.models import Company, Staff
from accounts.service import StaffIdentity
from backoffice.audit_pages import ACTIONS
from customers.models import GroupMember
from demo.seed import DemoVenue
from domain import audit
from errors import Conflict
from machines import admin_service, selection_service
from machines.commands import CreateSelection, EditDrink
from machines.models import Machine, MachineGroup, SelectionProduct
from ordering.models import Product
from realtime.bus import make_bus
from realtime.events import Tx, run
from tests.api.test_bad_input import key
from tests.api.test_tenant import nothing_changes
from tests.backoffice.helpers import ADMIN, CASHIER, audit_entries, signed_in
from tests.conftest import Database, client_for

MANAGER = ("gerant@cafe-de-la-gare.fr", "gerant-demo")


def test_diff_keeps_only_what_changed() -> None:
    assert audit.diff({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": None}) == {"b": [2, 3]}


async def test_an_entry_goes_with_its_transaction(db: Database, venue: DemoVenue) -> None:
    async with db.sessionmaker() as session:
        company_id = await session.scalar(select(Company.id))
        admin = await session.scalar(select(Staff.id).where(Staff.role == "admin"))
    assert company_id is not None
    bus = make_bus(None)

    async def kept(tx: Tx) -> None:
        await audit.record(tx, admin, company_id, "price.changed", "Espresso",
                           {"price": [180, 200]})

    async def undone(tx: Tx) -> None:
        await audit.record(tx, admin, company_id, "price.changed", "Croissant", {})
        raise Conflict()

    await run(db.sessionmaker, bus, kept)
    with pytest.raises(Conflict):
        await run(db.sessionmaker, bus, undone)
    await bus.close()
    [entry] = await audit_entries(db)
    assert (entry.company_id, entry.actor_staff_id, entry.action, entry.target) == (
        company_id, admin, "price.changed", "Espresso")
    assert entry.changes == {"price": [180, 200]}
    assert entry.at is not None


async def test_freeing_a_table_is_recorded(app: Starlette, db: Database,
                                           venue: DemoVenue) -> None:
    token = venue.table_tokens[0][1]
    async with client_for(app) as lea, client_for(app) as till:
        started = await lea.post(f"/api/v1/tables/{token}/start", json={"name": "Léa"})
        assert started.is_success, started.text
        table_id = (await lea.get(f"/api/v1/tables/{token}")).json()["table"]["table"]["id"]
        cashier = await signed_in(till, CASHIER)
        freed = await till.post(f"/api/v1/staff/tables/{table_id}/free", json={})
        assert freed.status_code == 200, freed.text
        again = await till.post(f"/api/v1/staff/tables/{table_id}/free", json={})
        assert again.status_code == 200  # nothing left to free: nothing recorded
        assert cashier.csrf
    [entry] = await audit_entries(db, "table.freed")
    assert entry.target.startswith("Table 1")
    async with db.sessionmaker() as session:
        who = await session.get(Staff, entry.actor_staff_id)
    assert who is not None and who.email == CASHIER[0]


async def test_machine_secret_mode_and_deletion_are_recorded_without_the_secret(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with db.sessionmaker() as session:
        machine = await session.scalar(select(Machine).order_by(Machine.id))
    assert machine is not None
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        headers = {"x-csrf-token": admin.csrf}
        secret = await client.post(f"/api/v1/staff/machines/{machine.id}/secret", headers=headers)
        assert secret.status_code == 200, secret.text
        mode = "open" if machine.mode != "open" else "prepaid"
        changed = await client.post(f"/api/v1/staff/machines/{machine.id}/mode",
                                    json={"mode": mode})
        assert changed.status_code == 200, changed.text
        deleted = await client.request("DELETE", f"/api/v1/staff/machines/{machine.id}",
                                       json={"confirm": machine.name})
        assert deleted.status_code == 200, deleted.text
    entries = await audit_entries(db)
    assert [e.action for e in entries] == ["machine.secret", "machine.mode", "machine.deleted"]
    assert secret.json()["secret"] not in json.dumps(entries[0].changes)
    assert entries[1].changes == {"mode": [machine.mode, mode]}


async def test_payment_settings_are_recorded_without_the_keys(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as client:
        await signed_in(client, ADMIN)
        saved = await client.post("/api/v1/staff/payment-settings", json={
            "provider": "stripe", "stripe_secret_key": "sk_test_" + key(),
            "stripe_webhook_secret": "whsec_" + key()})
        assert saved.status_code == 200, saved.text
    [entry] = await audit_entries(db, "payments.settings")
    changes = entry.changes
    assert changes["stripe_secret_key"] == "replaced"
    assert "sk_test_" not in json.dumps(entry.changes) and "whsec_" not in json.dumps(entry.changes)


async def _manager(db: Database) -> None:
    from accounts.passwords import hash_password

    async with db.sessionmaker() as session, session.begin():
        company_id = await session.scalar(select(Company.id))
        assert company_id is not None
        session.add(Staff(company_id=company_id, email=MANAGER[0], name="Gérant",
                          role="manager", password_hash=hash_password(MANAGER[1])))


async def test_the_audit_page_is_for_administrators_paginated_and_filtered(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with db.sessionmaker() as session:
        company_id = await session.scalar(select(Company.id))
    assert company_id is not None
    bus = make_bus(None)

    async def many(tx: Tx) -> None:
        for n in range(60):
            await audit.record(tx, None, company_id, "price.changed", f"Produit {n}",
                               {"price": [n, n + 1]})
        await audit.record(tx, None, company_id, "table.freed", "Table 7 (#7)", {})

    await run(db.sessionmaker, bus, many)
    await bus.close()
    await _manager(db)
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        first = await admin.get("/backoffice/audit")
        assert first.status_code == 200, first.text
        assert first.text.count('<tr data-action="') == 50
        assert "Table libérée" in first.text  # the newest first, translated
        assert "61 modifications enregistrées." in first.text
        second = await admin.get("/backoffice/audit?page=2")
        assert second.text.count('<tr data-action="') == 11
        only = await admin.get("/backoffice/audit?action=table.freed")
        assert only.text.count('<tr data-action="') == 1
        assert "1 modification enregistrée." in only.text
        async with nothing_changes(db):
            for bad in ("page=0", "page=abc", "page=" + "9" * 30, "action=" + "x" * 61):
                assert (await admin.get(f"/backoffice/audit?{bad}")).status_code == 422, bad
    for who in (CASHIER, MANAGER):
        async with client_for(app) as client:
            await signed_in(client, who)
            assert (await client.get("/backoffice/audit")).status_code == 403, who
            assert "/backoffice/audit" not in (await client.get("/staff/machines")).text


async def test_an_administrator_sees_only_their_companys_log(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    from tests.realtime.phones import another_company_admin

    async with db.sessionmaker() as session:
        company_id = await session.scalar(select(Company.id))
    assert company_id is not None
    bus = make_bus(None)

    async def ours(tx: Tx) -> None:
        await audit.record(tx, None, company_id, "table.freed", "Table secrète", {})

    await run(db.sessionmaker, bus, ours)
    await bus.close()
    other = await another_company_admin(db)
    async with client_for(app) as client:
        await signed_in(client, other)
        page = await client.get("/backoffice/audit")
    assert page.status_code == 200
    assert "Table secrète" not in page.text


# Actions computed at their call (an f-string or a variable), by the file that records them.
COMPUTED_ACTIONS = {
    "ordering/menu_admin.py": {"category.archived", "product.archived"},
    "backoffice/records_pages.py": {"month.close", "year.close"},
    "pos/till_tickets.py": {"ticket.refund", "ticket.void"},
    "accounts/staff_admin.py": {"staff.role", "staff.sites", "staff.sections"},
}


def _recorded_actions() -> tuple[set[str], list[str]]:
    """Every action the sources pass to `audit.record`, and the calls whose action is
    computed in a file `COMPUTED_ACTIONS` does not list."""
    root = Path(__file__).resolve().parents[2]
    found: set[str] = set()
    unknown: list[str] = []
    for path in root.rglob("*.py"):
        relative = path.relative_to(root).as_posix()
        if relative.startswith((".venv/", "tests/", "bench/", "build/")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "record" and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "audit" and len(node.args) >= 4):
                continue
            action = node.args[3]
            branches = [action.body, action.orelse] if isinstance(action, ast.IfExp) else [action]
            for branch in branches:
                if isinstance(branch, ast.Constant) and isinstance(branch.value, str):
                    found.add(branch.value)
                elif relative in COMPUTED_ACTIONS:
                    found |= COMPUTED_ACTIONS[relative]
                else:
                    unknown.append(f"{relative}:{node.lineno}")
    return found, unknown


def test_every_action_recorded_has_a_name_on_the_page() -> None:
    """The log names each action in the reader's language, never by its code."""
    found, unknown = _recorded_actions()
    assert not unknown, f"an action computed where COMPUTED_ACTIONS does not say: {unknown}"
    assert {"table.freed", "staff.pin_reset", "consumer.delete", "machine.deleted"} <= found
    assert not found - ACTIONS.keys(), sorted(found - ACTIONS.keys())


async def test_an_action_is_named_in_french_on_the_page(app: Starlette, db: Database,
                                                          venue: DemoVenue) -> None:
    async with db.sessionmaker() as session:
        admin = await session.scalar(select(Staff).where(Staff.email == ADMIN[0]))
        assert admin is not None
    bus = make_bus(None)
    await run(db.sessionmaker, bus, lambda tx: audit.record(
        tx, admin.id, admin.company_id, "staff.pin_reset", "staff:1", {}))
    await bus.close()
    async with client_for(app) as client:
        await signed_in(client, ADMIN)
        page = await client.get("/backoffice/audit")
    assert page.status_code == 200
    assert "Code PIN d’un membre de l’équipe réinitialisé" in page.text
    assert ">staff.pin_reset<" not in page.text


async def test_deleting_a_selection_or_a_drink_detaching_a_group_and_a_drink_price_are_audited(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with db.sessionmaker() as session:
        admin_row = await session.scalar(select(Staff).where(Staff.email == ADMIN[0]))
        assert admin_row is not None
        machine = await session.scalar(
            select(Machine).join(MachineGroup, MachineGroup.machine_id == Machine.id)
            .where(Machine.site_id == venue.site_id).order_by(Machine.id))
        assert machine is not None and machine.selection_id is not None
        group_id = await session.scalar(select(MachineGroup.group_id)
                                        .where(MachineGroup.machine_id == machine.id))
        assert group_id is not None
        drinks = (await session.scalars(select(SelectionProduct).where(
            SelectionProduct.selection_id == machine.selection_id)
            .order_by(SelectionProduct.id))).all()
    admin = StaffIdentity(admin_row.id, admin_row.company_id, admin_row.role, admin_row.name)
    bus = make_bus(None)

    async def act(job: Any) -> Any:
        return await run(db.sessionmaker, bus, job)

    spare = await act(lambda tx: selection_service.create_selection(
        tx, admin, CreateSelection.model_validate({"name": "Été", "model": machine.model})))
    await act(lambda tx: selection_service.edit_drink(
        tx, admin, drinks[0].id, EditDrink.model_validate({"price": drinks[0].price + 10})))
    await act(lambda tx: selection_service.edit_drink(
        tx, admin, drinks[0].id, EditDrink.model_validate({"name": "Serré"})))  # same price: none
    await act(lambda tx: selection_service.delete_drink(tx, admin, drinks[1].id))
    await act(lambda tx: selection_service.delete_selection(tx, admin, spare.id))
    await act(lambda tx: admin_service.detach_group(tx, admin, machine.id, group_id))
    async with db.sessionmaker() as session:
        member = await session.scalar(select(GroupMember).order_by(GroupMember.consumer_id))
        assert member is not None
    await act(lambda tx: admin_service.remove_member(tx, admin, member.group_id,
                                                     member.consumer_id))
    entries = await audit_entries(db)
    actions = [entry.action for entry in entries]
    assert actions == ["drink.price", "drink.removed", "selection.deleted", "group.detached",
                       "group.member_removed"]
    assert entries[4].target == f"consumer:{member.consumer_id}"
    assert entries[0].changes == {"price": [drinks[0].price, drinks[0].price + 10]}
    assert entries[0].actor_staff_id == admin.id and drinks[1].name in entries[1].target
    assert "Été" in entries[2].target and machine.name in entries[3].target
    await bus.close()


async def test_changes_are_shown_by_their_names_as_money_and_rates_in_french(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with db.sessionmaker() as session:
        admin = await session.scalar(select(Staff).where(Staff.email == ADMIN[0]))
        assert admin is not None
    bus = make_bus(None)

    async def changes(tx: Tx) -> None:
        await audit.record(tx, admin.id, admin.company_id, "product.price", "product:1",
                           {"price": [350, 360], "vat_rate": [1000, 550], "name": "Espresso"})
        await audit.record(tx, admin.id, admin.company_id, "staff.role", "staff:2", {
            "before": {"role": "cashier", "all_sites": True, "sites": []},
            "after": {"role": "supervisor", "all_sites": True, "sites": []}})

    await run(db.sessionmaker, bus, changes)
    await bus.close()
    async with client_for(app) as client:
        await signed_in(client, ADMIN)
        page = (await client.get("/backoffice/audit")).text.replace("\u202f", " ").replace(
            "\xa0", " ")
    assert "<strong>Prix</strong>: 3,50 € → 3,60 €" in page
    assert "<strong>Taux de TVA</strong>: 10 % → 5,5 %" in page
    assert "<strong>Rôle</strong>: Caisse → Superviseur" in page
    for raw in ("before", "after", "cashier", "vat_rate", "{"):
        assert raw not in page.split('id="audit"')[1], raw


async def test_what_was_changed_is_named_not_coded(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with db.sessionmaker() as session:
        admin = await session.scalar(select(Staff).where(Staff.email == ADMIN[0]))
        assert admin is not None
        product = await session.scalar(select(Product).order_by(Product.id))
        assert product is not None
    bus = make_bus(None)

    async def changes(tx: Tx) -> None:
        for target in (f"product:{product.id}", f"staff:{admin.id}", "ticket:987",
                       "top-ups", "Machine du hall (#1)"):
            await audit.record(tx, admin.id, admin.company_id, "product.price", target, {})

    await run(db.sessionmaker, bus, changes)
    await bus.close()
    async with client_for(app) as client:
        await signed_in(client, ADMIN)
        page = (await client.get("/backoffice/audit")).text.replace("&#39;", "'")
    whats = re.findall(r'<td data-label="Quoi">([^<]*)</td>', page)
    assert sorted(whats) == sorted([
        f"Produit : {product.name}", f"Membre de l’équipe : {admin.name}", "Ticket n° 987",
        "Montants de recharge", "Machine du hall (#1)"]), whats
