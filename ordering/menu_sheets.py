"""The menu as a spreadsheet: reading a CSV or Excel upload into rows, writing the template
and exports. No database here: ordering/menu_import.py decides what the rows mean.

Cells that a spreadsheet program would run (a CSV value starting with = + - @, an Excel
formula cell) are reported, never evaluated nor written back as formulas.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell

from ordering.menu_errors import TooManyRows, UnreadableFile, WrongColumns
from ordering.menu_rules import looks_like_formula

COLUMNS = ("reference", "category", "name", "description", "price", "vat_rate", "allergens",
           "station", "available")
# Columns a file may leave out (a file made before they existed still imports).
OPTIONAL = ("vat_rate_takeaway",)
WRITTEN = COLUMNS + OPTIONAL
MAX_ROWS = 5000
MAX_UNZIPPED = 50 * 1024 * 1024  # an .xlsx is a zip: refuse one that inflates past this
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXAMPLE = [
    ("ESP", "Cafés", "Espresso", "Arabica, torréfaction locale", "1.80", "10", "", "bar", "yes",
     ""),
    ("CRO", "Petit-déjeuner", "Croissant", "Pur beurre", "1.50", "10", "gluten,milk,eggs",
     "", "yes", "5.5"),
]


@dataclass(frozen=True)
class Row:
    """One line of the file (`line`: as the spreadsheet numbers it), its cells by column,
    and the columns whose cell is a formula."""

    line: int
    values: dict[str, str]
    formulas: tuple[str, ...] = ()
    extra: bool = False  # cells beyond the named columns


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return format(value, "f").rstrip("0").rstrip(".") if value != int(value) else str(
            int(value))
    return str(value)


def _header(cells: Sequence[str]) -> list[str]:
    names = [c.strip().lower() for c in cells]
    while names and not names[-1]:
        names.pop()
    missing = [c for c in COLUMNS if c not in names]
    unknown = [c for c in names if c not in WRITTEN]
    if missing or unknown or len(set(names)) != len(names):
        raise WrongColumns(columns=", ".join(COLUMNS), missing=", ".join(missing) or "—",
                           unknown=", ".join(unknown) or "—")
    return names


def _rows(raw: Iterable[tuple[int, list[str], tuple[str, ...]]]) -> list[Row]:
    """Raw lines (number, cells, formula columns) → rows; the first is the header."""
    lines = iter(raw)
    first = next(lines, None)
    if first is None:
        raise WrongColumns(columns=", ".join(COLUMNS), missing=", ".join(COLUMNS), unknown="—")
    names = _header(first[1])
    rows: list[Row] = []
    for line, cells, formula_indexes in lines:
        if not any(c.strip() for c in cells):
            continue  # blank lines between blocks
        if len(rows) >= MAX_ROWS:
            raise TooManyRows(limit=MAX_ROWS)
        values = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(names)}
        extra = [c for c in cells[len(names):] if c.strip()]
        formulas = tuple(names[int(i)] for i in formula_indexes if int(i) < len(names))
        rows.append(Row(line, values, formulas, bool(extra)))
    return rows


def read_csv(data: bytes) -> list[Row]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFile() from error
    if "\x00" in text:
        raise UnreadableFile()
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        raw = []
        for cells in reader:
            formula = tuple(str(i) for i, c in enumerate(cells) if looks_like_formula(c))
            raw.append((reader.line_num, cells, formula))
    except csv.Error as error:
        raise UnreadableFile() from error
    return _rows(raw)


def _inflated_size(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sum(info.file_size for info in archive.infolist())


def read_xlsx(data: bytes) -> list[Row]:
    try:
        if _inflated_size(data) > MAX_UNZIPPED:
            raise UnreadableFile()
        # data_only=False: a formula cell keeps its formula, so it can be refused.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except UnreadableFile:
        raise
    except Exception as error:  # openpyxl raises many kinds on a file that is not a workbook
        raise UnreadableFile() from error
    try:
        sheet = book.worksheets[0]
        raw = []
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            texts = [_cell_text(c.value) for c in cells]
            formula = tuple(str(i) for i, c in enumerate(cells)
                            if getattr(c, "data_type", None) == "f")
            raw.append((number, texts, formula))
            if number > MAX_ROWS + 1:
                break
    except Exception as error:
        raise UnreadableFile() from error
    finally:
        book.close()
    return _rows(raw)


def read_upload(filename: str, data: bytes) -> list[Row]:
    """The rows of an uploaded CSV or .xlsx, whichever its bytes say it is."""
    if data.startswith(b"PK\x03\x04"):
        return read_xlsx(data)
    if filename.lower().endswith((".xlsx", ".xlsm", ".xls")):
        raise UnreadableFile()
    return read_csv(data)


def _safe_csv(text: str) -> str:
    """A value a spreadsheet would run is written so that it shows as text instead."""
    return "'" + text if looks_like_formula(text) else text


def write_csv(rows: Iterable[Sequence[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(WRITTEN)
    for row in rows:
        writer.writerow([_safe_csv(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode()  # the BOM: Excel then reads UTF-8


def write_xlsx(rows: Iterable[Sequence[str]], title: str = "Menu") -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(WRITTEN))
    for row in rows:
        cells = []
        for value in row:
            cell = Cell(sheet, value=value)
            cell.data_type = "s"  # text, even when it starts with "=": never a formula
            cells.append(cell)
        sheet.append(cells)
    for letter, width in zip("ABCDEFGHIJ", (12, 20, 28, 40, 8, 8, 24, 12, 10, 10),
                             strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
