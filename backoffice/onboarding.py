"""The onboarding checklist: what a new venue has done and what is left, from its data.

Pure rules on plain facts (backoffice/onboarding_facts.py reads them): nothing is ticked by
hand. Four steps block selling: a site with its brand name and address, a menu with at
least one product, a supervisor, and a PIN for every member of staff; a site's POS
validates no order until they are done (ordering/readiness.py asks `site_missing`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from errors import N_

# Those who run the floor when the owner is away (accounts/roles.py).
SUPERVISOR_ROLES = frozenset({"supervisor"})


class StepCode(StrEnum):
    SITE = "site"
    TABLES = "tables"
    MENU = "menu"
    SUPERVISOR = "supervisor"
    PINS = "pins"
    PAYMENT = "payment"
    MODES = "modes"
    QR_CODES = "qr_codes"
    LAUNCH = "launch"


@dataclass(frozen=True)
class SiteFacts:
    id: int
    name: str
    address: str
    tables: int
    products: int
    mode_chosen: bool
    qr_printed: bool

    @property
    def described(self) -> bool:
        return bool(self.name.strip() and self.address.strip())


@dataclass(frozen=True)
class StaffFacts:
    role: str
    has_pin: bool


@dataclass(frozen=True)
class Facts:
    """What the checklist reads of a company: its open sites and active staff."""

    sites: tuple[SiteFacts, ...]
    staff: tuple[StaffFacts, ...]
    payment_connected: bool
    launch_on: date | None
    today: date  # in the company's time zone


@dataclass(frozen=True)
class Step:
    code: StepCode
    label: str  # marked with N_, translated where shown
    done: bool
    blocking: bool
    href: str


# Each step: its label, what a refusal to sell calls it when missing, whether it blocks, and
# where it is done.
STEPS: dict[StepCode, tuple[str, str, bool, str]] = {
    StepCode.SITE: (N_("Add a site with its brand name and address"),
                    N_("a site with its brand name and address"), True, "/backoffice/company"),
    StepCode.TABLES: (N_("Add tables"), N_("tables"), False, "/backoffice/tables"),
    StepCode.MENU: (N_("Build the menu (at least one product)"),
                    N_("a menu with at least one product"), True, "/backoffice/menu"),
    StepCode.SUPERVISOR: (N_("Add at least one supervisor"), N_("a supervisor"), True,
                          "/backoffice/staff"),
    StepCode.PINS: (N_("Give every member of staff a personal PIN"),
                    N_("a PIN for every member of staff"), True, "/backoffice/staff"),
    StepCode.PAYMENT: (N_("Connect the payment provider"), N_("a payment provider"), False,
                       "/staff/machines/payments"),
    StepCode.MODES: (N_("Choose each site's ordering mode"), N_("an ordering mode"), False,
                     "/backoffice/company"),
    StepCode.QR_CODES: (N_("Print the tables' QR codes"), N_("printed QR codes"), False,
                        "/backoffice/tables"),
    StepCode.LAUNCH: (N_("Pick the launch date (at least five days ahead)"),
                      N_("a launch date"), False, "/backoffice/company"),
}


def _staff_ready(facts: Facts) -> dict[StepCode, bool]:
    return {
        StepCode.SUPERVISOR: any(s.role in SUPERVISOR_ROLES for s in facts.staff),
        StepCode.PINS: bool(facts.staff) and all(s.has_pin for s in facts.staff),
    }


def _every_site(facts: Facts, rule: bool) -> bool:
    return bool(facts.sites) and rule


def done(facts: Facts) -> dict[StepCode, bool]:
    """Each step, done or not."""
    sites = facts.sites
    return {
        StepCode.SITE: any(site.described for site in sites),
        StepCode.TABLES: _every_site(facts, all(site.tables > 0 for site in sites)),
        StepCode.MENU: _every_site(facts, all(site.products > 0 for site in sites)),
        **_staff_ready(facts),
        StepCode.PAYMENT: facts.payment_connected,
        StepCode.MODES: _every_site(facts, all(site.mode_chosen for site in sites)),
        StepCode.QR_CODES: _every_site(facts, all(site.qr_printed for site in sites)),
        StepCode.LAUNCH: facts.launch_on is not None,
    }


def checklist(facts: Facts) -> list[Step]:
    """The steps in the order a venue takes them."""
    state = done(facts)
    return [
        Step(code, label, state[code], blocking, href)
        for code, (label, _missing, blocking, href) in STEPS.items()
    ]


def site_missing(facts: Facts, site_id: int) -> list[str]:
    """The blocking steps that keep this open site from selling, as their missing names;
    [] when it may sell. A site not among the open ones misses being a site."""
    site = next((s for s in facts.sites if s.id == site_id), None)
    staff = _staff_ready(facts)
    ready = {
        StepCode.SITE: site is not None and site.described,
        StepCode.MENU: site is not None and site.products > 0,
        **staff,
    }
    return [STEPS[code][1] for code, ok in ready.items() if not ok]


def launched(facts: Facts) -> bool:
    """Launch day has come: the checklist leaves the pages' reach."""
    return facts.launch_on is not None and facts.today >= facts.launch_on


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    blocking_left: int

    @property
    def complete(self) -> bool:
        return self.done == self.total


def progress(steps: list[Step]) -> Progress:
    return Progress(
        done=sum(step.done for step in steps),
        total=len(steps),
        blocking_left=sum(step.blocking and not step.done for step in steps),
    )
