"""What staff do with machines: add them, set modes, groups, selections, credit, delete."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select

from accounts.models import Company, Site
from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import guard, on_site, owned, site_for
from customers import credit
from customers.ledger import Kind, manual_key
from customers.models import Consumer, ConsumerPolicy, GroupMember, UserGroup
from db.base import is_id
from domain import audit
from errors import N_, NotFound
from machines.access import Mode
from machines.commands import AddMachine, GroupSettings, ManualCredit, SetPolicy
from machines.device_channel import secret_replaced
from machines.device_service import issue_secret
from machines.errors import ConfirmDeletion, GroupNameTaken, SerialTaken, WrongModel
from machines.models import Machine, MachineGroup, Selection, SelectionProduct
from machines.publishing import machine_changed
from machines.selection_service import selection_for
from realtime.events import Tx
from web.i18n import gettext

# A new selection starts with these drinks (name, type, price, recipe).
DEFAULT_DRINKS: list[tuple[str, str, int, dict[str, int]]] = [
    ("Espresso", "espresso", 80, {"strength": 4, "volume_ml": 40, "temperature_c": 92}),
    ("Café long", "lungo", 100, {"strength": 3, "volume_ml": 120, "temperature_c": 92}),
    ("Cappuccino", "cappuccino", 150, {"strength": 3, "volume_ml": 180, "milk_ml": 100}),
    ("Latte macchiato", "latte", 170, {"strength": 2, "volume_ml": 250, "milk_ml": 180}),
    ("Chocolat chaud", "hot_chocolate", 150, {"volume_ml": 200, "milk_ml": 150}),
    ("Eau chaude", "hot_water", 0, {"volume_ml": 250, "temperature_c": 85}),
]


def _target(machine: Machine) -> str:
    """How the audit log names a machine."""
    return f"{machine.name} (#{machine.id})"


def new_pin(length: int = 6) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(length))


async def machine_for(tx: Tx, staff: StaffIdentity, machine_id: object) -> Machine:
    return await on_site(tx.session, staff, Machine, machine_id)


async def company_of_site(tx: Tx, site_id: int) -> int:
    site = await tx.session.get(Site, site_id)
    assert site is not None
    return site.company_id


# What a new machine's selection and group are called, in the company's language: they are
# data the staff then see and may rename.
SELECTION_NAME = N_("%(model)s drinks")
GROUP_NAME = N_("%(machine)s users")


async def _named(tx: Tx, company_id: int, message: str, **params: str) -> str:
    company = await tx.session.get(Company, company_id)
    locale = company.locale if company else "fr"
    return gettext(locale, message) % params


async def default_selection(tx: Tx, company_id: int, model: str) -> Selection:
    """The company's selection for this machine model, made with default drinks if none."""
    found = await tx.session.scalar(
        select(Selection)
        .where(Selection.company_id == company_id, Selection.model == model)
        .order_by(Selection.id)
    )
    if found is not None:
        return found
    selection = Selection(
        company_id=company_id, model=model,
        name=await _named(tx, company_id, SELECTION_NAME, model=model),
        share_token=secrets.token_urlsafe(16),
    )
    tx.session.add(selection)
    await tx.session.flush()
    for position, (name, kind, price, recipe) in enumerate(DEFAULT_DRINKS):
        tx.session.add(
            SelectionProduct(selection_id=selection.id, name=name, type=kind, price=price,
                             recipe=recipe, position=position)
        )
    await tx.session.flush()
    return selection


async def default_group(tx: Tx, machine: Machine, company_id: int) -> UserGroup:
    """The machine's group, made (and attached) when the mode needs one and it has none."""
    attached = await tx.session.scalar(
        select(UserGroup)
        .join(MachineGroup, MachineGroup.group_id == UserGroup.id)
        .where(MachineGroup.machine_id == machine.id)
        .order_by(UserGroup.id)
    )
    if attached is not None:
        return attached
    name = await _named(tx, company_id, GROUP_NAME, machine=machine.name)
    group = await tx.session.scalar(
        select(UserGroup).where(UserGroup.company_id == company_id, UserGroup.name == name)
    )
    if group is None:
        group = UserGroup(company_id=company_id, name=name)
        tx.session.add(group)
        await tx.session.flush()
    tx.session.add(MachineGroup(machine_id=machine.id, group_id=group.id))
    await tx.session.flush()
    return group


async def ensure_for_mode(tx: Tx, machine: Machine, mode: Mode) -> None:
    """Choosing a mode creates the selection and group it needs when they are missing."""
    company_id = await company_of_site(tx, machine.site_id)
    if machine.selection_id is None:
        machine.selection_id = (await default_selection(tx, company_id, machine.model)).id
    if mode in (Mode.PREPAID, Mode.AUTHORISED, Mode.CUSTOM):
        await default_group(tx, machine, company_id)
    await tx.session.flush()


@dataclass(frozen=True)
class Added:
    machine: Machine
    secret: str  # shown once, to be entered in the machine


async def add_machine(tx: Tx, staff: StaffIdentity, new: AddMachine) -> Added:
    staff.require(Permission.RUN_MACHINES)
    site = await site_for(tx.session, staff, new.site_id)
    if site.archived_at is not None:  # an archived site keeps its history, takes nothing new
        raise NotFound()
    serial = new.serial.strip()[:60]
    if await tx.session.scalar(select(Machine.id).where(Machine.serial == serial)):
        taken = SerialTaken()
        taken.field = "serial"
        raise taken
    machine = Machine(
        site_id=site.id, name=new.name.strip()[:120] or new.serial, model=new.model.strip()[:60],
        serial=serial, mode=new.mode.value, token=secrets.token_urlsafe(16),
        settings_pin=new_pin(), maintenance_pin=new_pin(), alerts=[],
    )
    tx.session.add(machine)
    await tx.session.flush()
    await ensure_for_mode(tx, machine, new.mode)
    secret = await issue_secret(tx.session, machine)
    await audit.record(tx, staff.id, staff.company_id, "machine.added", _target(machine),
                       {"serial": serial, "model": machine.model, "site": site.name,
                        "mode": machine.mode})
    await machine_changed(tx, machine.id, "machine.added", {})
    return Added(machine, secret)


async def rotate_secret(tx: Tx, staff: StaffIdentity, machine_id: int) -> str:
    staff.require(Permission.RUN_MACHINES)
    machine = await machine_for(tx, staff, machine_id)
    secret = await issue_secret(tx.session, machine)
    await secret_replaced(tx, machine)  # sockets opened with the old one close, everywhere
    await audit.record(tx, staff.id, staff.company_id, "machine.secret", _target(machine),
                       {"secret": "replaced"})  # never the secret itself
    return secret


async def set_mode(tx: Tx, staff: StaffIdentity, machine_id: int, mode: Mode) -> Machine:
    staff.require(Permission.RUN_MACHINES)
    machine = await machine_for(tx, staff, machine_id)
    if machine.mode != mode.value:
        await audit.record(tx, staff.id, staff.company_id, "machine.mode", _target(machine),
                           {"mode": [machine.mode, mode.value]})
    machine.mode = mode.value
    await ensure_for_mode(tx, machine, mode)
    await machine_changed(tx, machine.id, "machine.mode", {"mode": mode.value})
    return machine


async def delete_machine(tx: Tx, staff: StaffIdentity, machine_id: int, confirm: str) -> None:
    """Deleting a machine deletes its usage data: the caller must type its name."""
    staff.require(Permission.RUN_MACHINES)
    machine = await machine_for(tx, staff, machine_id)
    if confirm != machine.name:
        raise ConfirmDeletion()
    await audit.record(tx, staff.id, staff.company_id, "machine.deleted", _target(machine),
                       {"serial": machine.serial, "model": machine.model})
    await tx.session.execute(delete(Machine).where(Machine.id == machine.id))


async def manual_credit(
    tx: Tx, staff: StaffIdentity, consumer_id: int, given: ManualCredit
) -> credit.Posted:
    staff.require(Permission.MANAGE_PEOPLE)
    consumer = await owned(tx.session, staff, Consumer, consumer_id)
    text = given.note.strip()[:150]
    return await credit.post(
        tx, consumer.id, given.amount, Kind.MANUAL, manual_key(given.idempotency_key),
        note=f"{staff.name}: {text}" if text else staff.name,
    )


async def create_group(tx: Tx, staff: StaffIdentity, settings: GroupSettings) -> UserGroup:
    staff.require(Permission.MANAGE_PEOPLE)
    group = UserGroup(company_id=staff.company_id)
    await _name_free(tx, staff, settings.name)
    _apply(group, settings)
    tx.session.add(group)
    await tx.session.flush()
    return group


def _apply(group: UserGroup, settings: GroupSettings) -> None:
    """Its name and regular recharge: an amount every day, week or month; or none."""
    group.name = settings.name
    group.recharge_every = settings.recharge_every
    group.recharge_amount = (settings.recharge_amount or 0) if settings.recharge_every else 0
    group.recharge_at = settings.recharge_at


async def update_group(
    tx: Tx, staff: StaffIdentity, group_id: int, settings: GroupSettings
) -> UserGroup:
    staff.require(Permission.MANAGE_PEOPLE)
    group = await _group(tx, staff, group_id)
    await _name_free(tx, staff, settings.name, group.id)
    before = _settings_of(group)
    _apply(group, settings)
    changes = audit.diff(before, _settings_of(group))
    if changes:
        await audit.record(tx, staff.id, staff.company_id, "group.updated",
                           f"{group.name} (#{group.id})", changes)
    await tx.session.flush()
    return group


def _settings_of(group: UserGroup) -> dict[str, object]:
    return {"name": group.name, "recharge_every": group.recharge_every,
            "recharge_amount": group.recharge_amount, "recharge_at": group.recharge_at}


async def _name_free(tx: Tx, staff: StaffIdentity, name: str, group_id: int = 0) -> None:
    """Group names are unique in a company (a race is left to the unique constraint)."""
    taken = await tx.session.scalar(select(UserGroup.id).where(
        UserGroup.company_id == staff.company_id, UserGroup.name == name,
        UserGroup.id != group_id))
    if taken is not None:
        raise GroupNameTaken()


async def _group(tx: Tx, staff: StaffIdentity, group_id: object) -> UserGroup:
    return await owned(tx.session, staff, UserGroup, group_id)


async def group_for(tx: Tx, staff: StaffIdentity, group_id: object) -> UserGroup:
    """A group of the staff member's company; another company's answers as missing."""
    return await _group(tx, staff, group_id)


async def add_member(tx: Tx, staff: StaffIdentity, group_id: int, consumer_id: int) -> None:
    staff.require(Permission.MANAGE_PEOPLE)
    group = await _group(tx, staff, group_id)
    consumer = await owned(tx.session, staff, Consumer, consumer_id)
    if await tx.session.get(GroupMember, (group.id, consumer.id)) is None:
        tx.session.add(GroupMember(group_id=group.id, consumer_id=consumer.id))
        await tx.session.flush()


async def remove_member(tx: Tx, staff: StaffIdentity, group_id: int, consumer_id: int) -> None:
    """Take a consumer out of a group: their credit stays theirs."""
    staff.require(Permission.MANAGE_PEOPLE)
    group = await _group(tx, staff, group_id)
    found = is_id(consumer_id)
    member = await tx.session.get(GroupMember, (group.id, consumer_id)) if found else None
    if member is None:
        raise NotFound()
    consumer = await tx.session.get(Consumer, member.consumer_id)
    await audit.record(tx, staff.id, staff.company_id, "group.member_removed",
                       f"consumer:{member.consumer_id}",
                       {"group": group.name, "name": consumer.name if consumer else None})
    await tx.session.delete(member)
    await tx.session.flush()


async def attach_group(
    tx: Tx, staff: StaffIdentity, machine_id: int, group_id: int, selection_id: int | None = None
) -> None:
    """Let a group use a machine; in custom mode, with a selection of its own."""
    staff.require(Permission.RUN_MACHINES)
    machine = await machine_for(tx, staff, machine_id)
    group = await _group(tx, staff, group_id)
    selection = await tx.session.get(Selection, selection_id) if is_id(selection_id) else None
    if selection is not None:  # none found: the group uses the machine's own selection
        guard(staff, selection.company_id)
    link = await tx.session.get(MachineGroup, (machine.id, group.id))
    if link is None:
        link = MachineGroup(machine_id=machine.id, group_id=group.id)
        tx.session.add(link)
    link.selection_id = selection.id if selection else None
    await tx.session.flush()
    await machine_changed(tx, machine.id, "machine.groups", {"group_id": group.id})


async def detach_group(tx: Tx, staff: StaffIdentity, machine_id: int, group_id: int) -> None:
    staff.require(Permission.RUN_MACHINES)
    machine = await machine_for(tx, staff, machine_id)
    group = await _group(tx, staff, group_id)
    link = await tx.session.get(MachineGroup, (machine.id, group.id))
    if link is None:
        raise NotFound()
    await audit.record(tx, staff.id, staff.company_id, "group.detached", _target(machine),
                       {"group": group.name})
    await tx.session.delete(link)
    await tx.session.flush()
    await machine_changed(tx, machine.id, "machine.groups", {"group_id": group.id})


async def set_selection(
    tx: Tx, staff: StaffIdentity, machine_id: int, selection_id: int
) -> Machine:
    """The selection a machine offers by default; it must be for the machine's model."""
    staff.require(Permission.RUN_MACHINES)
    machine = await machine_for(tx, staff, machine_id)
    selection = await selection_for(tx, staff, selection_id)
    if selection.model != machine.model:
        raise WrongModel()
    machine.selection_id = selection.id
    await tx.session.flush()
    await machine_changed(tx, machine.id, "machine.selection", {"selection_id": selection.id})
    return machine


async def set_policy(tx: Tx, staff: StaffIdentity, change: SetPolicy) -> ConsumerPolicy:
    """Whether new consumers wait for an administrator, and the amounts they may top up;
    what the change leaves out stays as it was."""
    staff.require(Permission.MANAGE_PEOPLE)
    found = await tx.session.get(ConsumerPolicy, staff.company_id)
    if found is None:
        found = ConsumerPolicy(company_id=staff.company_id, require_approval=False,
                               topup_amounts=[500, 1000, 2000])
        tx.session.add(found)
    if change.require_approval is not None:
        found.require_approval = change.require_approval
    if change.topup_amounts is not None:
        amounts = sorted(set(change.topup_amounts))
        if amounts != list(found.topup_amounts or []):
            await audit.record(tx, staff.id, staff.company_id, "consumers.topups", "top-ups",
                               {"topup_amounts": [list(found.topup_amounts or []), amounts]})
        found.topup_amounts = amounts
    await tx.session.flush()
    return found
