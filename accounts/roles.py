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


ROLES: dict[str, frozenset[Permission]] = {
    "kitchen": frozenset({Permission.PRODUCE, Permission.SOLD_OUT}),
    "cashier": frozenset(
        {Permission.VALIDATE, Permission.PRODUCE, Permission.SETTLE, Permission.FREE,
         Permission.SOLD_OUT, Permission.LIFT_PIN_LIMIT}
    ),
    "supervisor": frozenset(Permission)
    - {Permission.PRINT, Permission.CONFIGURE, Permission.PEOPLE, Permission.READ_MAIL,
       Permission.AUDIT},
    "manager": frozenset(Permission) - {Permission.READ_MAIL, Permission.AUDIT},
    "admin": frozenset(Permission),
}


def can(role: str | None, permission: Permission) -> bool:
    return permission in ROLES.get(role or "", frozenset())


def require(role: str | None, permission: Permission) -> None:
    if not can(role, permission):
        raise Forbidden()
