"""Setting machines up (machines/machine_setup.py and the additions to admin_service): the
models offered, serials, open sites, a machine renamed or moved, the list by site; every
change audited, every refusal changing nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from accounts.models import Site
from accounts.service import StaffIdentity
from customers.models import ConsumerPolicy, UserGroup
from domain.models import AuditEntry
from errors import Forbidden, NotFound
from machines import admin_service, machine_setup
from machines.access import Mode
from machines.commands import AddMachine, GroupSettings, SetPolicy
from machines.errors import SerialTaken
from machines.models import Machine
from tests.machines.conftest import Coffee, given


async def _site(coffee: Coffee, name: str, archived: bool = False) -> int:
    async with coffee.db.sessionmaker() as session, session.begin():
        site = Site(company_id=coffee.company_id, name=name, address="Quai 2",
                    archived_at=datetime.now(UTC) if archived else None)
        session.add(site)
        await session.flush()
        return site.id


async def _audit(coffee: Coffee) -> list[tuple[str, dict[str, object]]]:
    async with coffee.db.sessionmaker() as session:
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    return [(row.action, dict(row.changes)) for row in rows]


async def _fresh(coffee: Coffee, machine_id: int) -> Machine:
    async with coffee.db.sessionmaker() as session:
        found = await session.get(Machine, machine_id)
    assert found is not None
    return found


async def test_the_models_offered_are_the_known_ones_and_the_companys_own(
    coffee: Coffee
) -> None:
    async with coffee.db.sessionmaker() as session:
        before = await machine_setup.models_offered(session, coffee.admin)
    assert before == ["Jura X8", "Simulator"]
    await coffee.run(lambda tx: admin_service.add_machine(tx, coffee.admin, given(
        AddMachine, site_id=coffee.venue.site_id, model="Azkoyen Vitro", serial="AZK-1")))
    async with coffee.db.sessionmaker() as session:
        after = await machine_setup.models_offered(session, coffee.admin)
        stranger = StaffIdentity(coffee.admin.id, coffee.company_id + 1000, "admin", "Ailleurs")
        theirs = await machine_setup.models_offered(session, stranger)
    assert after == ["Azkoyen Vitro", "Jura X8", "Simulator"]
    assert theirs == ["Jura X8", "Simulator"]  # another company's models stay theirs


async def test_serials_are_shaped_and_taken_once(coffee: Coffee) -> None:
    assert machine_setup.serial_shaped("JX8-0042") and machine_setup.serial_shaped("A1/B.2_c")
    for bad in ("", "x", "JX8 0042", "-lead", "é123", "x" * 61):
        assert not machine_setup.serial_shaped(bad), bad
    async with coffee.db.sessionmaker() as session:
        with pytest.raises(SerialTaken) as taken:
            await machine_setup.serial_free(session, "DEMO-HALL-1")
        assert taken.value.field == "serial"
        await machine_setup.serial_free(session, "JX8-0042")


async def test_no_machine_goes_to_an_archived_site(coffee: Coffee) -> None:
    archived = await _site(coffee, "Ancien kiosque", archived=True)
    async with coffee.db.sessionmaker() as session:
        offered = [s.id for s in await machine_setup.open_sites(session, coffee.admin)]
    assert coffee.venue.site_id in offered and archived not in offered
    with pytest.raises(NotFound):
        await coffee.run(lambda tx: admin_service.add_machine(tx, coffee.admin, given(
            AddMachine, site_id=archived, model="Jura X8", serial="JX8-9")))
    machine = await coffee.machine()
    with pytest.raises(NotFound):
        await coffee.run(lambda tx: machine_setup.move_machine(
            tx, coffee.admin, machine.id, archived))
    assert (await _fresh(coffee, machine.id)).site_id == coffee.venue.site_id


async def test_adding_renaming_and_moving_are_audited(coffee: Coffee) -> None:
    kiosk = await _site(coffee, "Le Kiosque")
    machine = await coffee.machine("open")
    await coffee.run(lambda tx: machine_setup.edit_machine(
        tx, coffee.admin, machine.id, "Hall", Mode.PREPAID))
    await coffee.run(lambda tx: machine_setup.edit_machine(
        tx, coffee.admin, machine.id, "Hall", Mode.PREPAID))  # the same again: nothing
    await coffee.run(lambda tx: machine_setup.move_machine(tx, coffee.admin, machine.id, kiosk))
    await coffee.run(lambda tx: machine_setup.move_machine(tx, coffee.admin, machine.id, kiosk))
    moved = await _fresh(coffee, machine.id)
    assert (moved.name, moved.mode, moved.site_id) == ("Hall", "prepaid", kiosk)
    assert [action for action, _ in await _audit(coffee)] == [
        "machine.added", "machine.renamed", "machine.mode", "machine.moved"]
    assert (await _audit(coffee))[-1][1] == {"site": ["Café de la Gare", "Le Kiosque"]}
    added = (await _audit(coffee))[0][1]
    assert "secret" not in str(added) and added["serial"] == machine.serial


async def test_only_the_companys_managers_edit_or_move(coffee: Coffee) -> None:
    kiosk = await _site(coffee, "Le Kiosque")
    machine = await coffee.machine()
    cashier = StaffIdentity(coffee.admin.id, coffee.company_id, "cashier", "Caisse")
    stranger = StaffIdentity(coffee.admin.id, coffee.company_id + 1000, "admin", "Ailleurs")
    elsewhere = StaffIdentity(coffee.admin.id, coffee.company_id, "admin", "Kiosque",
                              frozenset({kiosk}))
    for who, error in ((cashier, Forbidden), (stranger, NotFound), (elsewhere, NotFound)):
        with pytest.raises(error):
            await coffee.run(lambda tx, w=who: machine_setup.edit_machine(
                tx, w, machine.id, "À moi", Mode.OPEN))
        with pytest.raises(error):
            await coffee.run(lambda tx, w=who: machine_setup.move_machine(
                tx, w, machine.id, kiosk))
    assert (await _fresh(coffee, machine.id)).name == machine.name
    assert [action for action, _ in await _audit(coffee)] == ["machine.added"]


async def test_the_list_shows_the_sites_staff_may_use_a_page_at_a_time(coffee: Coffee) -> None:
    kiosk = await _site(coffee, "Le Kiosque")
    async with coffee.db.sessionmaker() as session, session.begin():
        for n in range(machine_setup.PAGE_SIZE + 1):
            session.add(Machine(site_id=kiosk, name=f"K{n:02}", model="Simulator",
                                serial=f"K-{n:02}", mode="open", token=f"k-{n:02}",
                                settings_pin="1", maintenance_pin="2", alerts=[]))
    elsewhere = StaffIdentity(coffee.admin.id, coffee.company_id, "admin", "Kiosque",
                              frozenset({kiosk}))
    async with coffee.db.sessionmaker() as session:
        every = await machine_setup.listing(session, coffee.admin)
        first = await machine_setup.listing(session, coffee.admin, kiosk)
        last = await machine_setup.listing(session, coffee.admin, kiosk, 99)
        theirs = await machine_setup.listing(session, elsewhere)
        with pytest.raises(NotFound):
            await machine_setup.listing(session, elsewhere, coffee.venue.site_id)
    assert every.total == machine_setup.PAGE_SIZE + 3  # the demo's two, and the kiosk's
    assert (first.total, first.pages, len(first.rows)) == (21, 2, 20)
    assert (last.page, [m.name for m in last.rows]) == (2, ["K20"])
    assert theirs.total == 21 and all(m.site_id == kiosk for m in theirs.rows)


async def test_the_list_is_searched_by_name_serial_or_model(coffee: Coffee) -> None:
    kiosk = await _site(coffee, "Le Kiosque")
    async with coffee.db.sessionmaker() as session, session.begin():
        for n, (name, model) in enumerate([("Vitrine", "Azkoyen Vitro"), ("Quai 100%", "Jura X8")]):
            session.add(Machine(site_id=kiosk, name=name, model=model, serial=f"SRCH-{n}",
                                mode="open", token=f"s-{n}", settings_pin="1",
                                maintenance_pin="2", alerts=[]))
    async with coffee.db.sessionmaker() as session:
        by_name = await machine_setup.listing(session, coffee.admin, search="vitr")
        by_serial = await machine_setup.listing(session, coffee.admin, search=" srch-1 ")
        by_model = await machine_setup.listing(session, coffee.admin, search="AZKOYEN")
        on_site = await machine_setup.listing(session, coffee.admin, kiosk, search="jura")
        literal = await machine_setup.listing(session, coffee.admin, search="%")
    assert [m.name for m in by_name.rows] == ["Vitrine"]
    assert [m.name for m in by_serial.rows] == ["Quai 100%"]
    assert [m.name for m in by_model.rows] == ["Vitrine"]
    assert [m.name for m in on_site.rows] == ["Quai 100%"]
    assert literal.total == 4  # "%" is no wildcard: the demo's two machines, and these


async def test_group_recharges_and_top_up_amounts_are_audited_when_they_change(
    coffee: Coffee
) -> None:
    async with coffee.db.sessionmaker() as session, session.begin():
        group = UserGroup(company_id=coffee.company_id, name="Compta")
        session.add(group)
        await session.flush()
        group_id = group.id
    settings = given(GroupSettings, name="Compta", recharge_every="week",
                     recharge_amount=250, recharge_at="08:00")
    for _ in range(2):  # the second changes nothing and records nothing
        await coffee.run(lambda tx: admin_service.update_group(
            tx, coffee.admin, group_id, settings))
        await coffee.run(lambda tx: admin_service.set_policy(
            tx, coffee.admin, given(SetPolicy, topup_amounts=[1000, 350])))
    audit = await _audit(coffee)
    assert audit == [
        ("group.updated", {"recharge_every": [None, "week"], "recharge_amount": [0, 250],
                           "recharge_at": ["07:00", "08:00"]}),
        ("consumers.topups", {"topup_amounts": [[500, 1000, 2000], [350, 1000]]}),
    ]
    async with coffee.db.sessionmaker() as session:
        rules = await session.get(ConsumerPolicy, coffee.company_id)
    assert rules is not None and rules.topup_amounts == [350, 1000]
