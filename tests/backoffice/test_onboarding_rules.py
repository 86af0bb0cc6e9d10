"""The onboarding checklist's rules, on plain facts: no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from backoffice.onboarding import (
    Facts,
    SiteFacts,
    StaffFacts,
    StepCode,
    checklist,
    done,
    launched,
    progress,
    site_missing,
)

TODAY = date(2026, 3, 2)
SITE = SiteFacts(id=1, name="Café de la Gare", address="1 place de la Gare", tables=12,
                 products=25, mode_chosen=True, qr_printed=True)
READY = Facts(
    sites=(SITE,),
    staff=(StaffFacts("admin", True), StaffFacts("supervisor", True),
           StaffFacts("cashier", True)),
    payment_connected=True, launch_on=date(2026, 3, 9), today=TODAY,
)
EMPTY = Facts(sites=(), staff=(StaffFacts("admin", False),), payment_connected=False,
              launch_on=None, today=TODAY)


def test_a_venue_with_everything_has_every_step_done_and_may_sell() -> None:
    assert all(done(READY).values())
    assert progress(checklist(READY)).complete
    assert site_missing(READY, 1) == []


def test_a_new_company_has_nothing_done_and_four_steps_block_selling() -> None:
    steps = checklist(EMPTY)
    assert [s.code for s in steps] == list(StepCode)
    assert not any(s.done for s in steps)
    assert {s.code for s in steps if s.blocking} == {
        StepCode.SITE, StepCode.MENU, StepCode.SUPERVISOR, StepCode.PINS}
    assert progress(steps).blocking_left == 4
    assert len(site_missing(EMPTY, 1)) == 4


def test_a_site_needs_its_brand_name_and_address() -> None:
    bare = replace(READY, sites=(replace(SITE, address="  "),))
    assert not done(bare)[StepCode.SITE]
    assert site_missing(bare, 1) == ["a site with its brand name and address"]


def test_a_menu_needs_a_product_on_the_site_that_sells() -> None:
    annex = replace(SITE, id=2, name="Annexe", products=0)
    two = replace(READY, sites=(SITE, annex))
    assert not done(two)[StepCode.MENU]  # every open site has a menu
    assert site_missing(two, 1) == []  # the first may sell
    assert site_missing(two, 2) == ["a menu with at least one product"]


def test_a_supervisor_is_needed_an_admin_is_not_one() -> None:
    owner_only = replace(READY, staff=(StaffFacts("admin", True), StaffFacts("cashier", True)))
    assert not done(owner_only)[StepCode.SUPERVISOR]
    assert site_missing(owner_only, 1) == ["a supervisor"]


def test_every_member_of_staff_needs_a_pin() -> None:
    one_without = replace(READY, staff=(*READY.staff, StaffFacts("kitchen", False)))
    assert not done(one_without)[StepCode.PINS]
    assert site_missing(one_without, 1) == ["a PIN for every member of staff"]


def test_an_unknown_or_archived_site_may_not_sell() -> None:
    assert "a site with its brand name and address" in site_missing(READY, 99)


def test_the_other_steps_show_but_do_not_block() -> None:
    later = replace(READY, sites=(replace(SITE, tables=0, mode_chosen=False, qr_printed=False),),
                    payment_connected=False, launch_on=None)
    state = done(later)
    for code in (StepCode.TABLES, StepCode.MODES, StepCode.QR_CODES, StepCode.PAYMENT,
                 StepCode.LAUNCH):
        assert not state[code], code
    assert site_missing(later, 1) == []
    assert progress(checklist(later)).blocking_left == 0


def test_the_checklist_stays_in_reach_until_launch_day() -> None:
    assert not launched(READY)
    assert not launched(EMPTY)
    assert launched(replace(READY, today=date(2026, 3, 9)))
