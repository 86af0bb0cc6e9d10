"""Staff roles and what each may do."""

from __future__ import annotations

from enum import StrEnum

from errors import Forbidden


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
    # the people on the machines' and groups' pages). Managing them needs CONFIGURE too.
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
    REPORT = "report"  # read X reports and the till's statistics
    CLOSE = "close"  # the day's Z, monthly and yearly closings, archives
    HOURS = "hours"  # see the hours clocked per person and week
    TILLS = "tills"  # create, pair and revoke tills


ROLES: dict[str, frozenset[Permission]] = {
    "kitchen": frozenset({Permission.PRODUCE, Permission.SOLD_OUT, Permission.CLOCK}),
    "cashier": frozenset(
        {Permission.VALIDATE, Permission.PRODUCE, Permission.SETTLE, Permission.FREE,
         Permission.SOLD_OUT, Permission.LIFT_PIN_LIMIT, Permission.SELL, Permission.CLOCK}
    ),
    "supervisor": frozenset(Permission)
    - {Permission.PRINT, Permission.CONFIGURE, Permission.PEOPLE, Permission.READ_MAIL,
       Permission.AUDIT, Permission.HOURS, Permission.TILLS},
    "manager": frozenset(Permission) - {Permission.READ_MAIL, Permission.AUDIT, Permission.TILLS},
    "admin": frozenset(Permission),
}


def can(role: str | None, permission: Permission) -> bool:
    return permission in ROLES.get(role or "", frozenset())


def require(role: str | None, permission: Permission) -> None:
    if not can(role, permission):
        raise Forbidden()
