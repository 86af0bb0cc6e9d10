"""Table labels typed as a range ("T1–T20", "Terrasse 1-8"), read by a pure function."""

from __future__ import annotations

import re

from errors import N_, InvalidInput

MAX_TABLES = 200  # in one range: more is a typo (T1–T2000), not a floor
MAX_LABEL = 40  # dining_table.label

# A prefix, a first number, a dash (hyphen, en or em dash), the prefix again or not, a last
# number: "T1-T20", "T1–20", "Salle 1 - Salle 12", "1-8".
_RANGE = re.compile(r"^(?P<prefix>.*?)(?P<first>\d+)\s*[-\u2013\u2014]\s*(?P<again>.*?)"
                    r"(?P<last>\d+)$")


class BadRange(InvalidInput):
    """The range of tables is not "prefix first–last" with first ≤ last, at most 200 tables
    (e.g. "T1–T20")."""

    code = "bad_range"
    message = N_('Write a range such as "T1–T20": a prefix, the first and last number '
                 '(at most %(most)s tables).')


def table_range(text: str) -> list[str]:
    """The labels of a range, in order: "T1–T3" is ["T1", "T2", "T3"]; "T08-T10" keeps the
    zeros ("T08", "T09", "T10"). Anything else raises BadRange (field `range`)."""
    found = _RANGE.match(" ".join(text.split()))
    if found is None:
        raise _bad()
    prefix, again = found["prefix"], found["again"].strip()
    if again and again != prefix.strip():
        raise _bad()
    first, last = int(found["first"]), int(found["last"])
    if first > last or last - first + 1 > MAX_TABLES:
        raise _bad()
    width = len(found["first"]) if found["first"].startswith("0") else 0
    labels = [f"{prefix}{number:0{width}d}" for number in range(first, last + 1)]
    if any(len(label) > MAX_LABEL for label in labels) or not labels[0].strip():
        raise _bad()
    return labels


def _bad() -> BadRange:
    error = BadRange(most=MAX_TABLES)
    error.field = "range"
    return error
