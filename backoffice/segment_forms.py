"""The segment editor's form, flat as a browser sends it, and a segment's definition.

A criterion's row `i` sends `c{i}_kind` and its fields (`c{i}_days`, `c{i}_amount`…); all
or any is `match`; the best N are `best_on`, `best_n`, `best_by`, `best_months`. The
definition is loyalty's (loyalty/segments.py): a refusal there names its place
("criteria.1.days"), shown here at the row's field ("c1_days").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from errors import N_
from web.i18n import parse_money, typed_amount

MAX_ROWS = 20
FIELDS = {
    "birthday_between": ("start", "end"),
    "birthday_soon": ("days",),
    "spent": ("amount", "months"),
    "visits": ("at_least", "at_most", "months"),
    "last_visit": ("when", "days"),
    "site": ("site_id", "months"),
    "reward_taken": ("reward_id", "months"),
    "consent": ("channel",),
}
# What a new row of each kind starts with.
STARTS: dict[str, dict[str, str]] = {
    "birthday_between": {"start": "01-01", "end": "01-31"},
    "birthday_soon": {"days": "7"},
    "spent": {"amount": "50", "months": "3"},
    "visits": {"at_least": "3", "months": "3"},
    "last_visit": {"when": "before", "days": "60"},
    "site": {"months": "0"},
    "reward_taken": {"months": "12"},
    "consent": {"channel": "email"},
}
KIND_NAMES = {
    "birthday_between": N_("Birthday between"),
    "birthday_soon": N_("Birthday in the next days"),
    "spent": N_("Spent more than"),
    "visits": N_("Number of visits"),
    "last_visit": N_("Last visit"),
    "site": N_("Visited a site"),
    "reward_taken": N_("Took a reward"),
    "consent": N_("Consent given"),
}


def _row_count(typed: Mapping[str, str]) -> int:
    rows = 0
    while rows < MAX_ROWS and f"c{rows}_kind" in typed:
        rows += 1
    return rows


def rows_of(typed: Mapping[str, str]) -> list[dict[str, str]]:
    """The criteria rows as typed, each with its kind."""
    rows = []
    for i in range(_row_count(typed)):
        kind = typed.get(f"c{i}_kind", "")
        row = {"kind": kind}
        for name in {n for names in FIELDS.values() for n in names}:
            row[name] = typed.get(f"c{i}_{name}", "")
        rows.append(row)
    return rows


def _value(name: str, text: str, currency_decimals: int = 2) -> Any:
    text = text.strip()
    if name == "amount":
        amount = parse_money(text, currency_decimals)
        return text if amount is None else amount
    if name in ("start", "end", "when", "channel"):
        return text
    return int(text) if text.isdecimal() and len(text) < 10 else text


def definition_of(typed: Mapping[str, str]) -> dict[str, Any]:
    """The form as a definition's JSON, for loyalty to check: what was typed, the blanks
    left out (a number not a number is kept for loyalty to refuse)."""
    criteria = []
    for row in rows_of(typed):
        rule: dict[str, Any] = {"kind": row["kind"]}
        for name in FIELDS.get(row["kind"], ()):
            if row[name].strip():
                rule[name] = _value(name, row[name])
        criteria.append(rule)
    data: dict[str, Any] = {"match": typed.get("match", "all"), "criteria": criteria}
    if typed.get("best_on"):
        data["best"] = {name: _value(name, typed.get(f"best_{name}", ""))
                        for name in ("n", "by", "months")}
    return data


def typed_of(name: str, definition: Mapping[str, Any], currency: str, locale: str
             ) -> dict[str, str]:
    """A stored definition as the form shows it."""
    typed = {"name": name, "match": str(definition.get("match", "all"))}
    for i, rule in enumerate(definition.get("criteria", [])):
        typed[f"c{i}_kind"] = str(rule.get("kind", ""))
        for key, value in rule.items():
            if key == "amount":
                typed[f"c{i}_amount"] = typed_amount(int(value), currency, locale)
            elif key != "kind":
                typed[f"c{i}_{key}"] = str(value)
    best = definition.get("best")
    if best:
        typed["best_on"] = "1"
        typed.update({f"best_{key}": str(value) for key, value in best.items()})
    return typed


def with_row(typed: Mapping[str, str], kind: str) -> dict[str, str]:
    """The form with a new row of `kind` at the end."""
    changed = dict(typed)
    i = _row_count(typed)
    if i < MAX_ROWS and kind in FIELDS:
        changed[f"c{i}_kind"] = kind
        changed.update({f"c{i}_{k}": v for k, v in STARTS[kind].items()})
    return changed


def without_row(typed: Mapping[str, str], index: int) -> dict[str, str]:
    """The form without row `index`, the rows after it moved up."""
    kept = {k: v for k, v in typed.items() if not (k.startswith("c") and "_" in k
                                                   and k[1:k.index("_")].isdecimal())}
    rows = [i for i in range(_row_count(typed)) if i != index]
    for new, old in enumerate(rows):
        prefix = f"c{old}_"
        kept.update({f"c{new}_{k[len(prefix):]}": v for k, v in typed.items()
                     if k.startswith(prefix)})
    return kept


def retyped(typed: Mapping[str, str], index: int, kind: str) -> dict[str, str]:
    """Row `index` changed to `kind`, with that kind's starting values."""
    changed = dict(typed)
    if kind in FIELDS and 0 <= index < _row_count(typed):
        for name in {n for names in FIELDS.values() for n in names}:
            changed.pop(f"c{index}_{name}", None)
        changed[f"c{index}_kind"] = kind
        changed.update({f"c{index}_{k}": v for k, v in STARTS[kind].items()})
    return changed


def field_of(place: str) -> str:
    """Loyalty's place of a refused field as the form's field: "criteria.1.days" is
    "c1_days", "best.n" is "best_n"."""
    parts = place.split(".")
    if parts[0] == "criteria" and len(parts) == 3:
        return f"c{parts[1]}_{parts[2]}"
    return "_".join(parts)
