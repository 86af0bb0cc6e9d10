"""What a company may pick: its currency (ISO 4217, in use today), time zone (IANA) and
language; lists from Babel's CLDR data and the system's time-zone database."""

from __future__ import annotations

import zoneinfo
from datetime import date
from functools import cache

from babel import Locale
from babel.numbers import get_currency_name, get_territory_currencies

from web.i18n import LOCALES

LANGUAGES = LOCALES  # the languages the screens are translated into
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}  # each in its own language
# Offered first: the currencies of the places Comptoir is sold in today.
COMMON_CURRENCIES = ("EUR", "CHF", "GBP", "USD", "CAD")


@cache
def currencies() -> frozenset[str]:
    """The ISO 4217 codes legal tender in some territory today (no French franc)."""
    territories = [code for code in Locale("en").territories
                   if isinstance(code, str) and code.isalpha()]
    found: set[str] = set()
    for territory in territories:
        found.update(get_territory_currencies(territory, date.today()))
    return frozenset(found)


@cache
def timezones() -> frozenset[str]:
    """Region/City names (no bare aliases such as "UTC" or "posixrules")."""
    return frozenset(
        name for name in zoneinfo.available_timezones()
        if "/" in name and not name.startswith(("Etc/", "posix/", "right/", "SystemV/"))
    )


def currency_options(locale: str) -> list[tuple[str, str]]:
    """(code, label) for a form's list: the common ones first, then all by code."""
    rest = sorted(currencies() - set(COMMON_CURRENCIES))
    return [(code, f"{code} — {get_currency_name(code, locale=locale)}")
            for code in (*COMMON_CURRENCIES, *rest)]


def timezone_options() -> list[str]:
    return sorted(timezones())
