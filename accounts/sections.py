"""The back office's sections a manager may be limited to, and the permission each opens.

A member of staff with `all_sections` has every permission of their role; one without has,
of the permissions below, only those of the sections listed for them (`staff_section`),
and the rest of their role as it is.
"""

from __future__ import annotations

from enum import StrEnum

from accounts.roles import Permission


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
