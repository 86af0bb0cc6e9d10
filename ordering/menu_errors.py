"""What can go wrong when staff edit or import a menu."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from errors import N_, InvalidInput
from ordering.menu_rules import Problem


class MenuInvalid(InvalidInput):
    """A category's or product's field is refused; `field` names the first, and `problems`
    holds every one (the page shows each beside its field)."""

    code = "menu_invalid"
    message = N_("Please correct the fields shown.")

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__()
        self.problems = list(problems)
        self.field = self.problems[0].field if self.problems else None


class NotConfirmed(InvalidInput):
    """A destructive action (archive) needs `confirm=yes`: the page asked first."""

    code = "not_confirmed"
    message = N_("Please confirm this action.")
    field = "confirm"


class BadOrder(InvalidInput):
    """A new order must list each of the items being ordered exactly once."""

    code = "bad_order"
    message = N_("This order does not match the list; reload the page and try again.")
    field = "order"


class ImportRefused(InvalidInput):
    """The file cannot be imported: nothing was written (each invalid row is listed)."""

    code = "import_refused"
    message = N_("Nothing was imported: correct the rows listed and send the file again.")

    def __init__(self, invalid: Sequence[Any] = ()) -> None:
        super().__init__()
        self.invalid = list(invalid)  # ordering.menu_import.RowProblem, for the page
        self.detail = {"invalid_rows": [row.line for row in self.invalid]}


class FileRefused(InvalidInput):
    """The sent file as a whole is refused (the form's `file` field): each kind below."""

    field = "file"


class UnreadableFile(FileRefused):
    """The file is neither a CSV (UTF-8) nor an Excel workbook (.xlsx) of the template."""

    code = "unreadable_file"
    message = N_("This file is neither a CSV file nor an Excel workbook (.xlsx).")


class TooManyRows(FileRefused):
    """An import holds at most 5000 rows."""

    code = "too_many_rows"
    message = N_("The file has more than %(limit)s rows.")


class FileTooLarge(FileRefused):
    """Uploads are limited to 5 MB."""

    code = "file_too_large"
    status = 413
    message = N_("The file is larger than %(limit)s MB.")


class WrongColumns(FileRefused):
    """The first row must name exactly the template's columns."""

    code = "wrong_columns"
    message = N_("The columns must be exactly: %(columns)s (missing: %(missing)s; unknown: "
                 "%(unknown)s).")


class BadPhoto(InvalidInput):
    """A photo must be a JPEG, PNG or WebP image of at most 5 MB."""

    code = "bad_photo"
    message = N_("A photo must be a JPEG, PNG or WebP image of at most 5 MB.")
    field = "photo"
