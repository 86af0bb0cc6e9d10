"""The statistics' tables, one shape for the page, CSV and Excel: typed columns of raw values
(money in minor units, durations in seconds), formatted by the locale only where shown. Pure.

A CSV or a workbook keeps numbers as numbers (money in major units, "12.50"), so that a
spreadsheet adds them up; the page shows them the locale's way ("12,50 €").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from babel.dates import format_date, format_datetime, format_interval
from babel.numbers import format_decimal, format_percent, get_currency_precision
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from errors import N_
from web.i18n import gettext, money

Kind = Literal["text", "money", "count", "seconds", "percent"]
Cell = str | int | float


@dataclass(frozen=True)
class Column:
    title: str
    kind: Kind = "count"


@dataclass(frozen=True)
class Table:
    """A table of the statistics: its title (the sheet's name), columns and raw rows."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Formats:
    """How a locale shows values: money of the company's currency, counts, durations."""

    locale: str
    currency: str

    def value(self, value: Cell, kind: Kind) -> str:
        if isinstance(value, str):
            return value
        if kind == "money":
            return money(round(value), self.currency, self.locale)
        if kind == "seconds":
            return format_decimal(round(value / 60, 1), "#,##0.#", locale=self.locale) + " min"
        if kind == "percent":
            # The locale's own pattern ("75 %" in French), to a tenth of a percent.
            return format_percent(round(value, 3), locale=self.locale,
                                  decimal_quantization=False)
        return format_decimal(value, "#,##0.##", locale=self.locale)

    def of(self, kind: Kind) -> Callable[[float], str]:
        return lambda value: self.value(value, kind)


# A page shows this many rows at most (a year of 20,000 consumers is for the export).
PAGE_ROWS = 500


def shown(table: Table, formats: Formats) -> list[list[str]]:
    """The rows as the page shows them: the first PAGE_ROWS (the exports hold them all)."""
    return [[formats.value(cell, column.kind) for cell, column in
             zip(row, table.columns, strict=True)] for row in table.rows[:PAGE_ROWS]]


def _raw(value: Cell, kind: Kind, currency: str) -> Cell | Decimal:
    if isinstance(value, str):
        return safe_cell(value)
    if kind == "money":
        return Decimal(round(value)).scaleb(-get_currency_precision(currency))
    if kind == "seconds":
        return round(value / 60, 2)  # minutes, as the page shows them
    return value


def safe_cell(value: str) -> str:
    """A spreadsheet does not run a name that starts like a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _headers(table: Table, currency: str) -> list[str]:
    return [f"{c.title} ({currency})" if c.kind == "money" else
            f"{c.title} (min)" if c.kind == "seconds" else c.title for c in table.columns]


def as_csv(table: Table, currency: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_headers(table, currency))
    for row in table.rows:
        writer.writerow([_raw(cell, column.kind, currency) for cell, column in
                         zip(row, table.columns, strict=True)])
    return ("\ufeff" + out.getvalue()).encode()  # the BOM: Excel then reads UTF-8


_NUMBER_FORMATS = {"money": "#,##0.00", "count": "#,##0", "seconds": "#,##0.0",
                   "percent": "0.0%"}


def as_xlsx(table: Table, currency: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    # A sheet's name: at most 31 characters, none of []:*?/\
    sheet.title = "".join(c for c in table.title if c not in "[]:*?/\\")[:31] or "Stats"
    sheet.append(_headers(table, currency))
    for row in table.rows:
        sheet.append([_raw(cell, column.kind, currency) for cell, column in
                      zip(row, table.columns, strict=True)])
    for index, column in enumerate(table.columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(12, min(40, len(column.title) + 4))
        if column.kind in _NUMBER_FORMATS:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = _NUMBER_FORMATS[column.kind]
    sheet.freeze_panes = "B2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


WEEK = N_("week %(number)s, %(year)s")


def bucket_label(key: str, locale: str, granularity: str | None = None) -> str:
    """A bucket's key as people read it: "2026-10-25T14" (an hour), "2026-10-25" (a day, or
    with `granularity` "week" the week of that Monday), "2026-10" (a month); anything else
    as it is."""
    try:
        if granularity == "week" and len(key) == 10:
            year, week, _ = date.fromisoformat(key).isocalendar()
            return gettext(locale, WEEK) % {"number": week, "year": year}
        if len(key) == 13 and key[10] == "T":
            return format_datetime(datetime.strptime(key, "%Y-%m-%dT%H"), "d MMM HH:mm",
                                   locale=locale)
        if len(key) == 10:
            return format_date(date.fromisoformat(key), "EEE d MMM", locale=locale)
        if len(key) == 7:
            return format_date(date.fromisoformat(key + "-01"), "MMM y", locale=locale)
    except ValueError:
        return key
    return key


def sorted_keys(*series: Sequence[str]) -> list[str]:
    """Every bucket of several series, in time order (their keys sort so)."""
    return sorted({key for keys in series for key in keys})


def dates_label(start: date, end: date, locale: str) -> str:
    """A span of days as people read it: "7 déc. 2026", "7 – 13 déc. 2026"."""
    if start == end:
        return format_date(start, "medium", locale=locale)
    return format_interval(start, end, "yMMMd", locale=locale)
