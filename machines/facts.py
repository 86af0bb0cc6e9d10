"""What machines tell other rooms: a brew that ended, served or failed.

Recorded in the transaction that ended it (domain/outbox.py), with its company, site and
money, so loyalty or a dashboard never has to ask machines back.
"""

from __future__ import annotations

from domain.events import BrewFinished
from domain.outbox import record
from machines.models import Brew, Machine, MachineGroup
from machines.views import company_of_machine
from realtime.events import Tx


async def brew_finished(tx: Tx, brew: Brew) -> None:
    machine = await tx.session.get(Machine, brew.machine_id)
    assert machine is not None
    company = await company_of_machine(tx.session, machine)
    served = brew.status == "done"
    await record(tx, BrewFinished(
        at=brew.finished_at or brew.updated_at, company_id=company.id,
        site_id=machine.site_id, machine_id=machine.id, brew_id=brew.id,
        consumer_id=brew.consumer_id, product_id=brew.product_id,
        product_name=brew.product_name, product_type=brew.product_type, price=brew.price,
        currency=company.currency, charge=brew.charge,
        outcome="served" if served else "failed",
        reason=None if served else brew.reason, refunded=brew.refunded,
        group_id=brew.group_id, selection_id=await _selection_of(tx, machine, brew.group_id),
    ))


async def _selection_of(tx: Tx, machine: Machine, group_id: int | None) -> int | None:
    """The selection the drink was chosen from: in custom mode the group's own at this
    machine, if it has one (machines/access.py), else the machine's."""
    if group_id is not None and machine.mode == "custom":
        own = await tx.session.get(MachineGroup, (machine.id, group_id))
        if own is not None and own.selection_id is not None:
            return own.selection_id
    return machine.selection_id
