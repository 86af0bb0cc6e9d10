"""Locales, translations from the Babel catalogs, and money and date formatting."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path

from babel.dates import format_datetime, format_time, get_timezone
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, get_currency_precision
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
def when(value: str | datetime, locale: str, tz: str = "Europe/Paris") -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return format_datetime(moment, "short", tzinfo=get_timezone(tz), locale=locale)


@lru_cache(maxsize=4096)
def clock(value: str | datetime, locale: str, tz: str = "Europe/Paris") -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return format_time(moment, "short", tzinfo=get_timezone(tz), locale=locale)
