"""The audit log's page, for administrators: who changed what and when, newest first,
paginated, filtered by action."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.models import Company, Site, Staff
from accounts.roles import Permission
from accounts.tenant import owned_by
from backoffice.audit_changes import shown
from backoffice.forms import member_for
from customers.models import Consumer
from domain.models import AuditEntry
from errors import N_, InvalidInput
from loyalty.models import Campaign, Reward, Segment
from ordering.models import Category, DiningTable, Product
from pos.models import Till
from web.i18n import gettext
from web.state import app_state, locale_of
from web.templating import page

PER_PAGE = 50
MAX_PAGE = 100_000

# What the page calls each action; an action not listed shows as recorded.
ACTIONS = {
    "company.updated": N_("Company changed"),
    "site.added": N_("Site added"),
    "site.updated": N_("Site changed"),
    "site.archived": N_("Site archived"),
    "site.restored": N_("Site brought back"),
    "site.mode": N_("Ordering mode changed"),
    "table.freed": N_("Table freed"),
    "machine.secret": N_("Machine secret replaced"),
    "machine.mode": N_("Machine mode changed"),
    "machine.deleted": N_("Machine deleted"),
    "machine.added": N_("Machine added"),
    "machine.renamed": N_("Machine renamed"),
    "machine.moved": N_("Machine moved to another site"),
    "group.updated": N_("Group or its recharge changed"),
    "consumers.topups": N_("Top-up amounts changed"),
    "payments.settings": N_("Payment settings changed"),
    "till.added": N_("Till added"),
    "sync_issue.dealt": N_("Flagged till sale dealt with"),
    "till.pairing": N_("Till pairing code made"),
    "till.revoked": N_("Till device revoked"),
    "till.printer": N_("Till printer changed"),
    "shift.closed": N_("Forgotten clock-out closed"),
    "table.change": N_("Table renamed or moved"),
    "table.archive": N_("Table archived"),
    "table.token": N_("Table QR code replaced"),
    "category.archived": N_("Category archived"),
    "category.restored": N_("Category brought back"),
    "product.archived": N_("Product archived"),
    "product.restored": N_("Product brought back"),
    "product.price": N_("Product price or VAT changed"),
    "menu.imported": N_("Menu imported"),
    "staff.invite": N_("Staff member invited"),
    "staff.role": N_("Staff role changed"),
    "staff.sites": N_("Staff sites changed"),
    "staff.sections": N_("Staff sections changed"),
    "staff.pin_reset": N_("Staff PIN reset"),
    "staff.activate": N_("Staff member reactivated"),
    "staff.deactivate": N_("Staff member deactivated"),
    "consumer.invite": N_("Consumer invited"),
    "consumer.approve": N_("Consumer approved"),
    "consumer.edit": N_("Consumer changed"),
    "consumer.delete": N_("Consumer deleted"),
    "customer.add": N_("Customer added"),
    "customer.edit": N_("Customer changed"),
    "customer.delete": N_("Customer and their history deleted"),
    "customer.visit": N_("Visit added by hand"),
    "customer.redeem": N_("Redemption added by hand"),
    "selection.deleted": N_("Drink selection deleted"),
    "drink.price": N_("Drink price changed"),
    "drink.removed": N_("Drink removed from its selection"),
    "group.detached": N_("Group detached from a machine"),
    "group.member_removed": N_("Consumer taken out of a group"),
    "till.discount": N_("Discount above the limit approved"),
    "till.drawer": N_("Cash drawer opened"),
    "ticket.refund": N_("Refund recorded"),
    "ticket.void": N_("Ticket voided"),
    "day.close": N_("Day closed (Z report)"),
    "month.close": N_("Month closed"),
    "year.close": N_("Year closed"),
    "records.archive": N_("Records archive made"),
    "records.check": N_("Records checked"),
    "loyalty.rules": N_("Loyalty rules changed"),
    "reward.added": N_("Reward added"),
    "reward.changed": N_("Reward changed"),
    "reward.archived": N_("Reward archived"),
    "reward.restored": N_("Reward brought back"),
    "coupon_trigger.added": N_("Coupon trigger added"),
    "coupon_trigger.changed": N_("Coupon trigger changed"),
    "coupon_trigger.on": N_("Coupon trigger switched on"),
    "coupon_trigger.off": N_("Coupon trigger switched off"),
    "coupon_trigger.duplicated": N_("Coupon trigger duplicated"),
    "coupon_trigger.deleted": N_("Coupon trigger deleted"),
    "sms.settings": N_("SMS settings changed"),
    "sms.retried": N_("Blocked SMS queued again"),
    "sms.report_url": N_("SMS delivery reports URL renewed"),
    "campaign.added": N_("Campaign drafted"),
    "campaign.changed": N_("Campaign changed"),
    "campaign.duplicated": N_("Campaign duplicated"),
    "campaign.deleted": N_("Campaign deleted"),
    "campaign.scheduled": N_("Campaign scheduled"),
    "campaign.cancelled": N_("Campaign's send cancelled"),
    "campaign.sent": N_("Campaign sent"),
    "automatic.added": N_("Automatic send added"),
    "automatic.changed": N_("Automatic send changed"),
    "automatic.switched": N_("Automatic send switched on or off"),
    "automatic.duplicated": N_("Automatic send duplicated"),
    "automatic.deleted": N_("Automatic send deleted"),
    "segment.added": N_("Segment added"),
    "segment.changed": N_("Segment changed"),
    "segment.duplicated": N_("Segment duplicated"),
    "segment.deleted": N_("Segment deleted"),
}


# A target recorded as "kind:id": what the kind is called, and where its name is read.
KINDS = {
    "staff": N_("Staff member"), "product": N_("Product"), "category": N_("Category"),
    "table": N_("Table"), "consumer": N_("Consumer"), "till": N_("Till"), "site": N_("Site"),
    "company": N_("Company"), "ticket": N_("Ticket"), "closing": N_("Closing"),
    "shift": N_("Shift"), "sync_issue": N_("Flagged till sale"), "reward": N_("Reward"),
    "coupon_trigger": N_("Coupon trigger"), "campaign": N_("Campaign"),
    "segment": N_("Segment"),
}
NAMES: dict[str, Any] = {
    "staff": Staff.name, "product": Product.name, "category": Category.name,
    "table": DiningTable.label, "consumer": Consumer.name, "till": Till.name,
    "site": Site.name, "company": Company.name, "reward": Reward.name,
    "campaign": Campaign.name,
    "segment": Segment.name,
}
# A target recorded as a word.
WORDS = {"top-ups": N_("Top-up amounts"), "loyalty": N_("Loyalty rules"),
         "sms": N_("SMS settings")}
TARGET = re.compile(r"^([a-z_]+):(\d{1,18})$")


async def _targets(session: AsyncSession, targets: set[str], locale: str) -> dict[str, str]:
    """Each target as the page shows it: "Product: Espresso", "Ticket no. 12", a word
    translated; one query per kind of thing named."""
    ids: dict[str, set[int]] = {}
    for target in targets:
        if (found := TARGET.match(target)) and found[1] in KINDS:
            ids.setdefault(found[1], set()).add(int(found[2]))
    names: dict[tuple[str, int], str] = {}
    for kind, wanted in ids.items():
        if kind in NAMES:
            column = NAMES[kind]
            table = column.class_
            rows = await session.execute(select(table.id, column).where(table.id.in_(wanted)))
            names |= {(kind, row[0]): str(row[1]) for row in rows}
    shown: dict[str, str] = {}
    for target in targets:
        if target in WORDS:
            shown[target] = gettext(locale, WORDS[target])
        elif (found := TARGET.match(target)) and found[1] in KINDS:
            kind, key = found[1], int(found[2])
            label = gettext(locale, KINDS[kind])
            shown[target] = (gettext(locale, N_("%(kind)s: %(name)s")) % {
                "kind": label, "name": names[(kind, key)]} if (kind, key) in names
                else gettext(locale, N_("%(kind)s no. %(id)s")) % {"kind": label, "id": key})
    return shown


def _page_number(raw: str | None) -> int:
    if raw is None or raw == "":
        return 1
    if not raw.isdecimal() or not 1 <= int(raw) <= MAX_PAGE:
        error = InvalidInput(N_("The page number must be between 1 and %(high)s."),
                             high=MAX_PAGE)
        error.field = "page"
        raise error
    return int(raw)


def _action(raw: str | None) -> str:
    value = (raw or "").strip()
    if len(value) > 60:
        error = InvalidInput(N_("Unknown action."))
        error.field = "action"
        raise error
    return value


async def audit_page(request: Request) -> Response:
    staff = await member_for(request, Permission.AUDIT)
    if isinstance(staff, Response):
        return staff
    number = _page_number(request.query_params.get("page"))
    action = _action(request.query_params.get("action"))
    mine = owned_by(staff, AuditEntry.company_id)
    chosen = [mine, AuditEntry.action == action] if action else [mine]
    async with app_state(request).sessionmaker() as session:
        company = await session.get(Company, staff.company_id)
        assert company is not None
        total = await session.scalar(select(func.count()).select_from(AuditEntry).where(*chosen))
        rows = (await session.execute(
            select(AuditEntry, Staff.name)
            .outerjoin(Staff, Staff.id == AuditEntry.actor_staff_id)
            .where(*chosen)
            .order_by(AuditEntry.id.desc())
            .limit(PER_PAGE).offset((number - 1) * PER_PAGE)
        )).all()
        actions = (await session.scalars(
            select(AuditEntry.action).where(mine).distinct().order_by(AuditEntry.action)
        )).all()
        locale = locale_of(request)
        targets = await _targets(session, {entry.target for entry, _ in rows}, locale)
    entries = [
        {"at": entry.at, "action": entry.action, "label": ACTIONS.get(entry.action),
         "target": targets.get(entry.target, entry.target), "actor": actor,
         "changes": shown(entry.changes, locale, company.currency)}
        for entry, actor in rows
    ]
    pages = max(1, -(-(total or 0) // PER_PAGE))
    return page(request, "backoffice/audit.html", staff=staff, entries=entries,
                actions=[(a, ACTIONS.get(a)) for a in actions], action=action, number=number,
                pages=pages, total=total or 0, tz=company.timezone)


routes = [Route("/backoffice/audit", audit_page)]
