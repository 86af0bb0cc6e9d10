"""Staff roles and what each may do."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    VALIDATE = "validate"  # validate, edit or refuse a round
    PRODUCE = "produce"  # move production tickets
    SETTLE = "settle"  # take payment
    FREE = "free"  # free a settled table
    FORCE_FREE = "force_free"  # free a table with money still due
    SOLD_OUT = "sold_out"  # mark products sold out and back
    PRINT = "print"  # print table QR codes
    CONFIGURE = "configure"  # set table and site modes
    # See consumers' accounts: names, e-mails, balances and ledgers (the `user:{id}` topic,
    # the people on the machines' and groups' pages). Changing them is MANAGE_PEOPLE.
    PEOPLE = "people"
    # Read the mail outbox (without SMTP): it holds confirmation links, so whoever reads it
    # could confirm anyone's address. The company's administrators only.
    READ_MAIL = "read_mail"
    LIFT_PIN_LIMIT = "lift_pin_limit"  # let a table slowed by wrong PINs take tries again
    AUDIT = "audit"  # read the audit log (who changed what): the administrators only
    # The till (pos/)
    SELL = "sell"  # counter sales at a till
    CLOCK = "clock"  # clock in and out
    DRAWER = "drawer"  # open the cash drawer outside a sale
    DISCOUNT = "discount"  # a discount above the site's limit (or approve one)
    VOID = "void"  # void a ticket (or approve it)
    REFUND = "refund"  # refund a ticket or lines (or approve it)
    REPORT = "report"  # read X reports, the statistics pages and one's own dashboard
    CLOSE = "close"  # the day's Z, monthly and yearly closings, archives
    HOURS = "hours"  # see the hours clocked per person and week
    TILLS = "tills"  # create, pair and revoke tills
    TRAINING = "training"  # supervise a till's training mode (its tickets count nowhere)
    # The café floor: see a site's POS, its stations and its tables' live state (the
    # machines' roles have no business there).
    FLOOR = "floor"
    # The coffee machines (machines/), split so that their roles each get their part:
    MACHINES = "machines"  # see the machines, their brews and statistics, print their QR
    RUN_MACHINES = "run_machines"  # add, set up, move, delete machines; their mode, secret, groups
    PRODUCTS = "products"  # the machines' selections, drinks and prices
    # Change consumers' accounts: approve, edit, invite, delete; groups and their members,
    # recharges and credit, the amounts consumers may top up. Needs PEOPLE to see them.
    MANAGE_PEOPLE = "manage_people"
    # Loyalty (loyalty/), the back office's sections a member may be limited to
    # (accounts/sections.py; the statistics' section is REPORT):
    CUSTOMERS = "customers"  # the loyalty customers: search, add, edit, delete, hand visits, export
    CAMPAIGNS = "campaigns"  # segments and e-mail, SMS and coupon campaigns
    LOYALTY = "loyalty"  # loyalty's settings: rules, rewards, coupon triggers, sign-up fields


# The machines' permissions that change something, which the café's floor roles do not have.
_MACHINE_ROOM = frozenset({Permission.RUN_MACHINES, Permission.PRODUCTS,
                           Permission.MANAGE_PEOPLE})

ROLES: dict[str, frozenset[Permission]] = {
    # The floor's roles see the machines (read only, without the people) as before.
    "kitchen": frozenset({Permission.PRODUCE, Permission.SOLD_OUT, Permission.CLOCK,
                          Permission.FLOOR, Permission.MACHINES}),
    "cashier": frozenset(
        {Permission.VALIDATE, Permission.PRODUCE, Permission.SETTLE, Permission.FREE,
         Permission.SOLD_OUT, Permission.LIFT_PIN_LIMIT, Permission.SELL, Permission.CLOCK,
         Permission.FLOOR, Permission.MACHINES}
    ),
    "supervisor": frozenset(Permission) - _MACHINE_ROOM
    - {Permission.PRINT, Permission.CONFIGURE, Permission.PEOPLE, Permission.READ_MAIL,
       Permission.AUDIT, Permission.HOURS, Permission.TILLS, Permission.CAMPAIGNS,
       Permission.LOYALTY},
    "manager": frozenset(Permission) - {Permission.READ_MAIL, Permission.AUDIT, Permission.TILLS},
    "admin": frozenset(Permission),
    # The coffee machines' roles (machines/): none of them works on the café's floor.
    "product_manager": frozenset({Permission.MACHINES, Permission.PRODUCTS}),
    "user_manager": frozenset({Permission.PEOPLE, Permission.MANAGE_PEOPLE}),
    "machine_owner": frozenset({Permission.MACHINES, Permission.RUN_MACHINES}),
    # The statistics and dashboards, and nothing else (the machines' figures are there).
    "reporter": frozenset({Permission.REPORT}),
}
def can(role: str | None, permission: Permission) -> bool:
    """What a role holds, before any member's limits: for the table of roles itself (the
    role's help, the tests). A member's permission is asked of them (`StaffIdentity.may`,
    `require`; a socket's viewer: `accounts.sections.holds`), which also leaves out the
    sections they are not given."""
    return permission in ROLES.get(role or "", frozenset())
