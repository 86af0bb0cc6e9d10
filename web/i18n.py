"""Locales, translations from the Babel catalogs, and money and date formatting."""

from __future__ import annotations

import io
import re
from datetime import datetime
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path

from babel.dates import format_date, format_datetime, format_time, get_timezone
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import (
    format_currency,
    format_decimal,
    get_currency_precision,
    get_decimal_symbol,
)
from babel.support import Translations

CATALOGS = Path(__file__).resolve().parent.parent / "i18n"
LOCALES = ("fr", "en")
DEFAULT_LOCALE = "fr"


@cache
def translations(locale: str) -> Translations:
    """The locale's catalog, compiled in memory from its .po file (English is the source)."""
    po = CATALOGS / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return Translations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def gettext(locale: str, message: str) -> str:
    return translations(locale).gettext(message)


def pick_locale(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LOCALES:
        return cookie
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LOCALES:
            return tag
    return DEFAULT_LOCALE


# Babel takes tens of microseconds per call and a live fragment shows dozens of amounts
# and times; the same few values come back all the time, so they are kept.
@lru_cache(maxsize=8192)
def money(amount: int, currency: str, locale: str) -> str:
    """Integer minor units, shown the locale's way (1 250 → "12,50 €" in French)."""
    major = Decimal(amount).scaleb(-get_currency_precision(currency))
    return format_currency(major, currency, locale=locale)


@lru_cache(maxsize=4096)
def typed_amount(amount: int, currency: str, locale: str) -> str:
    """Minor units as a person types them in a field, without symbol or grouping: 1550 →
    "15,50" in French, "15.50" in English (read back by `parse_money`)."""
    digits = get_currency_precision(currency)
    pattern = "0." + "0" * digits if digits else "0"
    return format_decimal(Decimal(amount).scaleb(-digits), pattern, locale=locale)


@lru_cache(maxsize=256)
def typed_decimal(text: str, locale: str) -> str:
    """A decimal written with a point ("3.50", "5.5"), as a person of the locale types it:
    "3,50" and "5,5" in French (read back by the forms' parsers, which take either)."""
    return text.replace(".", get_decimal_symbol(locale))


# Spaces people and locales put between thousands ("1 250,00"), and the currency they add.
_MONEY_NOISE = str.maketrans("", "", " \u00a0\u202f€")


def parse_money(text: str, decimals: int = 2) -> int | None:
    """An amount as people type it, in minor units: "50", "50,00" (French), "50.00"
    (English), "1 250,5" → 5000, 5000, 5000, 125050 with 2 decimals; None for anything else
    (letters, a negative, several separators, more decimals than the currency has). The
    one parser of typed money: forms' `Money` fields and the menu's prices use it."""
    cleaned = text.strip().translate(_MONEY_NOISE).replace(",", ".")
    fraction = rf"(\.\d{{1,{decimals}}})?" if decimals else ""
    if not re.fullmatch(rf"\d{{1,15}}{fraction}", cleaned, re.ASCII):
        return None
    whole, _, minor = cleaned.partition(".")
    return int(whole + minor.ljust(decimals, "0"))


@lru_cache(maxsize=4096)
def when(value: str | datetime, locale: str, tz: str = "Europe/Paris") -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return format_datetime(moment, "short", tzinfo=get_timezone(tz), locale=locale)


@lru_cache(maxsize=4096)
def clock(value: str | datetime, locale: str, tz: str = "Europe/Paris") -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return format_time(moment, "short", tzinfo=get_timezone(tz), locale=locale)


@lru_cache(maxsize=4096)
def moment(value: str | datetime, locale: str, tz: str = "Europe/Paris") -> str:
    """A date and a time to the second, as legal documents (receipts) show them:
    "07/12/2026 11:02:03" in French."""
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    zone = get_timezone(tz)
    return (f"{format_date(instant.astimezone(zone), 'short', locale=locale)} "
            f"{format_time(instant, 'medium', tzinfo=zone, locale=locale)}")
