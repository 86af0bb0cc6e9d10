"""Managing a company's consumers from the back office: the searched list, the approval
queue (the approver gives the approved a role and, if they like, a group), a consumer's name
and groups, and deleting an account (inviting one: customers/invitations.py).

Seeing consumers needs `Permission.PEOPLE`; changing them needs `Permission.MANAGE_PEOPLE` too.
Every change is written to the audit log. Deleting an account removes, through the
database's cascades, the account, its balance, its ledger, its group memberships, its
mail and its password-reset links; brews and payments stay, without a name. An account
that still holds credit is never deleted: its credit is the customer's money, so it is to
be refunded (or adjusted to zero) first, and the deletion refused until then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field
from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Company
from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import owned
from customers.models import Consumer, GroupMember, LedgerEntry, UserGroup
from customers.publishing import user_changed
from customers.views import balance_of
from domain import audit
from errors import N_, DomainError, InvalidInput
from realtime.events import Tx
from web import session_store
from web.commands import Collapsed, Command, Invalid

PAGE_SIZE = 20
MAX_BATCH = 200  # consumers approved at once


class BadConsumerName(InvalidInput):
    code = "bad_consumer_name"
    message = N_("Give a name of 1 to 120 characters.")


class BadGroups(InvalidInput):
    code = "bad_groups"
    message = N_("Choose groups of your company.")


class BadConsumerRole(InvalidInput):
    code = "bad_consumer_role"
    message = N_("Choose one of the roles: customer, staff or guest.")


class BadGroup(InvalidInput):
    code = "bad_group"
    message = N_("Choose a group of your company, or none.")


class NoneChosen(InvalidInput):
    code = "none_chosen"
    message = N_("Tick at least one person to approve.")


class CreditRemains(DomainError):
    """The account still holds credit: refund it first."""

    code = "credit_remains"
    status = 409
    message = N_("This account still holds credit: refund it or adjust it to zero first.")


ConsumerName = Annotated[Collapsed, Field(min_length=1, max_length=120),
                         Invalid(BadConsumerName)]
# What an approved account may be (customers.service.ROLES): machines may price by it.
ConsumerRole = Annotated[Literal["consumer", "staff", "guest"], Invalid(BadConsumerRole)]


class ConsumerEdit(Command):
    name: ConsumerName
    groups: Annotated[list[int], Field(max_length=500), Invalid(BadGroups)] = []


class Approval(Command):
    consumers: Annotated[list[int], Field(min_length=1, max_length=MAX_BATCH),
                         Invalid(NoneChosen)]
    role: ConsumerRole = "consumer"
    group: Annotated[int | None, Field(ge=1, le=2**62), Invalid(BadGroup)] = None


@dataclass(frozen=True)
class PeoplePage:
    rows: Sequence[Consumer]
    total: int
    page: int
    pages: int
    waiting: int  # consumers awaiting approval, whatever the search


@dataclass(frozen=True)
class Removal:
    """What deleting an account takes away, told before it happens."""

    balance: int
    currency: str
    ledger_entries: int
    groups: list[str]


def _viewer(staff: StaffIdentity) -> None:
    staff.require(Permission.PEOPLE)


def manager(staff: StaffIdentity) -> None:
    """May this member of staff change consumers (see them and manage them)?"""
    staff.require(Permission.PEOPLE)
    staff.require(Permission.MANAGE_PEOPLE)


async def listing(
    session: AsyncSession, staff: StaffIdentity, search: str = "", waiting: bool = False,
    page: int = 1,
) -> PeoplePage:
    """The company's consumers matching `search` (name or e-mail), by name, a page at a
    time; `waiting`: only those awaiting approval, oldest first."""
    _viewer(staff)
    query = select(Consumer).where(Consumer.company_id == staff.company_id)
    if waiting:
        query = query.where(Consumer.verified.is_(False))
    words = search.strip()[:100]
    if words:
        like = f"%{words.lower().replace('%', '').replace('_', '')}%"
        query = query.where(or_(func.lower(Consumer.name).like(like),
                                func.lower(Consumer.email).like(like)))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    order = (Consumer.created_at, Consumer.id) if waiting else (Consumer.name, Consumer.id)
    rows = (await session.scalars(
        query.order_by(*order).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))).all()
    waiting_count = await session.scalar(select(func.count()).select_from(Consumer).where(
        Consumer.company_id == staff.company_id, Consumer.verified.is_(False))) or 0
    return PeoplePage(rows, total, page, pages, waiting_count)


async def person(session: AsyncSession, staff: StaffIdentity, consumer_id: object) -> Consumer:
    """A consumer of the staff member's company (another company's answers as missing)."""
    found = await owned(session, staff, Consumer, consumer_id)
    _viewer(staff)
    return found


async def groups(session: AsyncSession, company_id: int) -> list[UserGroup]:
    return list((await session.scalars(select(UserGroup).where(
        UserGroup.company_id == company_id).order_by(UserGroup.name))).all())


async def groups_of(session: AsyncSession, consumer_id: int) -> list[int]:
    return list((await session.scalars(select(GroupMember.group_id).where(
        GroupMember.consumer_id == consumer_id).order_by(GroupMember.group_id))).all())


async def _own_group(session: AsyncSession, staff: StaffIdentity, group_id: int | None) -> None:
    """Refuse a group that is not the staff member's company's (by the field)."""
    if group_id is not None and await session.scalar(select(UserGroup.id).where(
            UserGroup.id == group_id, UserGroup.company_id == staff.company_id)) is None:
        error = BadGroup()
        error.field = "group"
        raise error


async def approve_many(tx: Tx, staff: StaffIdentity, given: Approval) -> list[int]:
    """Approve the ticked consumers still waiting, with the chosen role and, if one is
    chosen, into a group; the ids approved. Another company's id, or an id not waiting, is
    skipped (ticked twice, or approved meanwhile)."""
    manager(staff)
    await _own_group(tx.session, staff, given.group)
    found = (await tx.session.scalars(select(Consumer).where(
        Consumer.company_id == staff.company_id, Consumer.verified.is_(False),
        Consumer.id.in_(sorted(set(given.consumers))),
    ).order_by(Consumer.id))).all()
    for consumer in found:
        consumer.verified = True
        consumer.role = given.role
        if given.group is not None and given.group not in await groups_of(
                tx.session, consumer.id):
            tx.session.add(GroupMember(group_id=given.group, consumer_id=consumer.id))
        await tx.session.flush()
        await user_changed(tx, consumer.id, "account.approved", {"role": consumer.role})
        await audit.record(tx, staff.id, staff.company_id, "consumer.approve",
                           f"consumer:{consumer.id}",
                           {"email": consumer.email, "role": given.role, "group": given.group})
    return [c.id for c in found]


async def edit(tx: Tx, staff: StaffIdentity, consumer_id: int, given: ConsumerEdit) -> Consumer:
    """A consumer's name and groups (the company's groups only)."""
    manager(staff)
    found = await owned(tx.session, staff, Consumer, consumer_id)
    wanted = sorted(set(given.groups))
    known = set((await tx.session.scalars(select(UserGroup.id).where(
        UserGroup.company_id == staff.company_id, UserGroup.id.in_(wanted)))).all())
    if known != set(wanted):
        error = BadGroups()
        error.field = "groups"
        raise error
    before = {"name": found.name, "groups": await groups_of(tx.session, found.id)}
    found.name = given.name
    await tx.session.execute(delete(GroupMember).where(GroupMember.consumer_id == found.id))
    tx.session.add_all(GroupMember(group_id=g, consumer_id=found.id) for g in wanted)
    await tx.session.flush()
    after = {"name": found.name, "groups": wanted}
    changes = audit.diff(before, after)
    if changes:
        await audit.record(tx, staff.id, staff.company_id, "consumer.edit",
                           f"consumer:{found.id}", changes)
        await user_changed(tx, found.id, "account.changed", {"name": found.name})
    return found


async def removal(session: AsyncSession, consumer: Consumer) -> Removal:
    entries = await session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.consumer_id == consumer.id)) or 0
    names = list((await session.scalars(select(UserGroup.name).join(
        GroupMember, GroupMember.group_id == UserGroup.id).where(
        GroupMember.consumer_id == consumer.id).order_by(UserGroup.name))).all())
    currency = await session.scalar(
        select(Company.currency).where(Company.id == consumer.company_id)) or "EUR"
    return Removal(await balance_of(session, consumer.id), currency, entries, names)


async def remove(tx: Tx, staff: StaffIdentity, consumer_id: int) -> None:
    """Delete the account (refused while it holds credit), ending its sessions."""
    manager(staff)
    found = await owned(tx.session, staff, Consumer, consumer_id)
    what = await removal(tx.session, found)
    if what.balance > 0:
        raise CreditRemains()
    await session_store.end_all_of(tx, consumer_id=found.id)
    await audit.record(tx, staff.id, staff.company_id, "consumer.delete",
                       f"consumer:{found.id}",
                       {"email": found.email, "name": found.name,
                        "ledger_entries": what.ledger_entries, "groups": what.groups})
    await tx.session.delete(found)
    await tx.session.flush()
