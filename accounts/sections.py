"""The back office's sections a manager may be limited to, and the permission each opens.

A member of staff with `all_sections` has every permission of their role; one without has,
of the permissions below, only those of the sections listed for them (`staff_section`),
and the rest of their role as it is.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Protocol

from accounts.roles import ROLES, Permission
from errors import N_, Forbidden


class Section(StrEnum):
    CUSTOMERS = "customers"
    CAMPAIGNS = "campaigns"
    STATISTICS = "statistics"
    SETTINGS = "settings"


PERMISSION_OF: dict[Section, Permission] = {
    Section.CUSTOMERS: Permission.CUSTOMERS,
    Section.CAMPAIGNS: Permission.CAMPAIGNS,
    Section.STATISTICS: Permission.REPORT,
    Section.SETTINGS: Permission.LOYALTY,
}

SECTIONED = frozenset(PERMISSION_OF.values())

# Each section's name on the staff pages and in the audit log, in this order.
LABELS: dict[Section, str] = {
    Section.CUSTOMERS: N_("Customers"),
    Section.CAMPAIGNS: N_("Campaigns"),
    Section.STATISTICS: N_("Statistics"),
    Section.SETTINGS: N_("Loyalty settings"),
}


def opens_sections(role: str) -> bool:
    """Does this role open any section (else there is nothing to limit it to)?"""
    return bool(ROLES.get(role, frozenset()) & SECTIONED)


class Holder(Protocol):
    """A member of staff, or a live viewer who may be one: a role, and the sections they are
    limited to (None: every section of the role)."""

    @property
    def role(self) -> str | None: ...

    @property
    def sections(self) -> frozenset[str] | None: ...


@cache
def permissions_of(role: str | None, sections: frozenset[str] | None) -> frozenset[Permission]:
    """What a member of this role, limited to `sections` (None: not limited), may do: their
    role's permissions less those of the sections not theirs."""
    granted = ROLES.get(role or "", frozenset())
    if sections is None:
        return granted
    kept = {PERMISSION_OF[s] for s in Section if s.value in sections}
    return granted - (SECTIONED - kept)


def holds(who: Holder | None, permission: str) -> bool:
    """The one check of a permission (a Permission or its value) for whoever it is asked of:
    a member of staff, a till's member switched in, a socket's viewer."""
    return who is not None and permission in permissions_of(who.role, who.sections)


def require(who: Holder | None, permission: Permission) -> None:
    if not holds(who, permission):
        raise Forbidden()


def require_any(who: Holder | None, *permissions: Permission) -> None:
    """At least one of these (a page that some roles read and others change)."""
    if not any(holds(who, permission) for permission in permissions):
        raise Forbidden()
