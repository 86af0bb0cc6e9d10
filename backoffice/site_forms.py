"""The company's and the sites' forms: their typed shapes (read, every field's error at
once, by backoffice/forms.py)."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from babel.numbers import list_currencies
from pydantic import AfterValidator, Field

from errors import N_, InvalidInput
from ordering.table_modes import MODES
from web.commands import Collapsed, Command, FormValue, Integer, Invalid, Text
from web.i18n import LOCALES


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def _known(values: Any, kind: str) -> Any:
    def check(value: str) -> str:
        if value not in values():
            raise ValueError(f"unknown {kind}")
        return value
    return AfterValidator(check)


def _blank_is_none(value: str) -> str | None:
    return value.strip() or None


Currency = Annotated[Text, _known(lambda: list_currencies(), "currency"),
                     Invalid(InvalidInput, N_("Choose a currency from the list."))]
TimeZone = Annotated[Text, _known(_timezones, "time zone"),
                     Invalid(InvalidInput, N_("Choose a time zone from the list."))]
Language = Annotated[Text, _known(lambda: LOCALES, "language"),
                     Invalid(InvalidInput, N_("Choose a language from the list."))]
Mode = Annotated[Text, _known(lambda: MODES, "mode"),
                 Invalid(InvalidInput, N_("Choose an ordering mode."))]


# Minutes a ticket waits on a kitchen or bar display before it turns amber, then red.
MAX_WAIT_MIN = 240
# Left out (None), a site keeps its thresholds; the error is the field's either way.
WaitMinutes = Annotated[Annotated[Integer, Field(ge=1, le=MAX_WAIT_MIN)] | None,
                        Invalid(InvalidInput, N_("Give a whole number of minutes from 1 to "
                                                 "%(high)s."), high=MAX_WAIT_MIN)]


# A till's settings of the site: the discount a cashier gives alone, the hours offline
# before the till warns. Left out (None), the site keeps them.
Percent = Annotated[Annotated[Integer, Field(ge=0, le=100)] | None,
                    Invalid(InvalidInput, N_("Give a whole percentage from 0 to 100."))]
MAX_OFFLINE_HOURS = 720
OfflineHours = Annotated[Annotated[Integer, Field(ge=1, le=MAX_OFFLINE_HOURS)] | None,
                         Invalid(InvalidInput, N_("Give a whole number of hours from 1 to "
                                                  "%(high)s."), high=MAX_OFFLINE_HOURS)]


class CompanyForm(Command):
    name: Annotated[Collapsed, Field(min_length=1, max_length=120),
                    Invalid(InvalidInput, N_("Give a name of 1 to 120 characters."))]
    currency: Currency
    timezone: TimeZone
    locale: Language
    launch_on: Annotated[date | None, FormValue(_blank_is_none),
                         Invalid(InvalidInput, N_("Give a date, or leave it empty."))] = None


class SiteForm(Command):
    name: Annotated[Collapsed, Field(min_length=1, max_length=120),
                    Invalid(InvalidInput, N_("Give the brand name the diners see (1 to 120 "
                                             "characters)."))]
    address: Annotated[Collapsed, Field(min_length=1, max_length=300),
                       Invalid(InvalidInput, N_("Give the address (1 to 300 characters)."))]
    opening_hours: Annotated[Text, Field(max_length=1000),
                             Invalid(InvalidInput, N_("At most 1,000 characters."))] = ""
    table_mode: Mode
    # Left out, a site keeps its thresholds (a new one starts at 10 and 20 minutes).
    ticket_amber_min: WaitMinutes = None
    ticket_red_min: WaitMinutes = None
    discount_limit_percent: Percent = None
    offline_warn_hours: OfflineHours = None
