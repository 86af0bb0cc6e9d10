"""What a menu's product may hold, as pure rules: prices, VAT rates, allergens, references.

The back office's forms and the spreadsheet import read the same text fields through
`check_product`, so a value refused by one is refused by the other, for the same reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as default
from decimal import Decimal, InvalidOperation

from errors import N_
from web.i18n import parse_money

# VAT rates a product may carry, per country, in hundredths of a percent (550 = 5.5 %).
# Companies do not record a country yet: every one is French (the rates a café uses).
VAT_RATES: dict[str, tuple[int, ...]] = {"FR": (2000, 1000, 550, 210)}
COUNTRY = "FR"

# The 14 allergens EU regulation 1169/2011 (annex II) requires a menu to declare.
ALLERGENS: dict[str, str] = {
    "gluten": N_("Cereals containing gluten"),
    "crustaceans": N_("Crustaceans"),
    "eggs": N_("Eggs"),
    "fish": N_("Fish"),
    "peanuts": N_("Peanuts"),
    "soybeans": N_("Soybeans"),
    "milk": N_("Milk"),
    "nuts": N_("Nuts"),
    "celery": N_("Celery"),
    "mustard": N_("Mustard"),
    "sesame": N_("Sesame seeds"),
    "sulphites": N_("Sulphur dioxide and sulphites"),
    "lupin": N_("Lupin"),
    "molluscs": N_("Molluscs"),
}

REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
MAX_PRICE_MAJOR = 100_000  # a product dearer than this is a typing mistake
LIMITS = {"name": 120, "description": 300, "station": 40, "category": 120}
# What a spreadsheet program would run as a formula when the cell is opened (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
YES = {"1", "yes", "y", "true", "oui", "o", "vrai", "x"}
NO = {"0", "no", "n", "false", "non", "faux"}


@dataclass(frozen=True)
class Problem:
    """One field's fault: a message to translate, and its parameters."""

    field: str
    message: str
    params: Mapping[str, str] = default(default_factory=dict)


@dataclass(frozen=True)
class ProductFields:
    """A product as the back office writes it (money in minor units, VAT in 1/100 %)."""

    reference: str
    category_id: int
    name: str
    description: str
    price: int
    vat_rate: int
    allergens: tuple[str, ...]
    station: str | None
    available: bool
    vat_rate_takeaway: int | None = None  # to take away; None: as eaten in


def vat_rates(country: str = COUNTRY) -> tuple[int, ...]:
    return VAT_RATES[country]


def format_vat(rate: int) -> str:
    """1000 → "10", 550 → "5.5"."""
    return format(Decimal(rate).scaleb(-2).normalize(), "f")


def format_price(amount: int, decimals: int) -> str:
    """Minor units as the import reads them back: 350 → "3.50"."""
    return f"{Decimal(amount).scaleb(-decimals):.{decimals}f}"


def _number(text: str) -> Decimal | None:
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    cleaned = cleaned.removesuffix("%").removesuffix("€")
    if not re.fullmatch(r"\d{1,9}(\.\d{1,6})?", cleaned):
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def parse_price(text: str, decimals: int) -> int | None:
    """"3.50", "3,5", "12" → minor units; None for anything else (negative, too precise)."""
    price = parse_money(text, decimals)
    if price is None or price > MAX_PRICE_MAJOR * 10**decimals:
        return None
    return price


def parse_vat(text: str, country: str = COUNTRY) -> int | None:
    """"5.5", "5,5 %", "20" → 550, 2000; None unless it is one of the country's rates."""
    value = _number(text)
    if value is None:
        return None
    rate = value * 100
    if rate != rate.to_integral_value() or int(rate) not in vat_rates(country):
        return None
    return int(rate)


def parse_allergens(text: str) -> tuple[str, ...] | None:
    """Codes separated by commas, semicolons or spaces, in any case; None if one is unknown."""
    codes = {part.strip().lower() for part in re.split(r"[,;|\s]+", text) if part.strip()}
    if not codes <= ALLERGENS.keys():
        return None
    return tuple(code for code in ALLERGENS if code in codes)


def parse_flag(text: str, default: bool = True) -> bool | None:
    word = text.strip().lower()
    if not word:
        return default
    if word in YES:
        return True
    if word in NO:
        return False
    return None


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_START)


def _clean(text: str) -> str:
    return " ".join(text.split())


def check_product(
    values: Mapping[str, str],
    category_id: int | None,
    decimals: int,
    country: str = COUNTRY,
) -> tuple[ProductFields | None, list[Problem]]:
    """Read a product's text fields; `category_id`: the category they named, None if none.

    Gives the product, or every problem found (one per field at most)."""
    problems: list[Problem] = []
    text = {key: str(values.get(key) or "") for key in (
        "reference", "name", "description", "price", "vat_rate", "allergens", "station",
        "available", "category", "vat_rate_takeaway")}
    reference = text["reference"].strip()
    if not reference:
        problems.append(Problem("reference", N_("A reference is required.")))
    elif not REFERENCE.fullmatch(reference):
        problems.append(Problem("reference", N_(
            "A reference is 1 to 40 letters, digits, dots, dashes or underscores.")))
    name = _clean(text["name"])
    if not name:
        problems.append(Problem("name", N_("A name is required.")))
    for key in ("name", "description", "station"):
        if len(_clean(text[key])) > LIMITS[key]:
            problems.append(Problem(key, N_("At most %(limit)s characters."),
                                    {"limit": str(LIMITS[key])}))
    if category_id is None:
        problems.append(Problem("category", N_("Unknown category %(category)s: create it first."),
                                {"category": text["category"].strip() or "—"}))
    price = parse_price(text["price"], decimals)
    if price is None:
        problems.append(Problem("price", N_("Not a price: write it like 3.50."),
                                {"value": text["price"]}))
    vat = parse_vat(text["vat_rate"], country)
    if vat is None:
        problems.append(Problem("vat_rate", N_("Unknown VAT rate %(value)s: use one of %(rates)s."),
                                {"value": text["vat_rate"].strip() or "—",
                                 "rates": ", ".join(format_vat(r) for r in vat_rates(country))}))
    takeaway = parse_vat(text["vat_rate_takeaway"], country) \
        if text["vat_rate_takeaway"].strip() else None
    if text["vat_rate_takeaway"].strip() and takeaway is None:
        problems.append(Problem("vat_rate_takeaway",
                                N_("Unknown VAT rate %(value)s: use one of %(rates)s."),
                                {"value": text["vat_rate_takeaway"].strip(),
                                 "rates": ", ".join(format_vat(r) for r in vat_rates(country))}))
    allergens = parse_allergens(text["allergens"])
    if allergens is None:
        problems.append(Problem("allergens", N_("Unknown allergen: use the codes %(codes)s."),
                                {"codes": ", ".join(ALLERGENS)}))
    available = parse_flag(text["available"])
    if available is None:
        problems.append(Problem("available", N_("Write yes or no.")))
    if problems:
        return None, problems
    assert category_id is not None and price is not None and vat is not None
    assert allergens is not None and available is not None
    return ProductFields(
        reference=reference, category_id=category_id, name=name,
        description=_clean(text["description"]), price=price, vat_rate=vat,
        allergens=allergens, station=_clean(text["station"]) or None, available=available,
        vat_rate_takeaway=takeaway,
    ), []


def check_category(values: Mapping[str, str]) -> tuple[tuple[str, str] | None, list[Problem]]:
    """A category's name and production station."""
    name = _clean(str(values.get("name") or ""))
    station = _clean(str(values.get("station") or ""))
    problems = []
    if not name:
        problems.append(Problem("name", N_("A name is required.")))
    elif len(name) > LIMITS["category"]:
        problems.append(Problem("name", N_("At most %(limit)s characters."),
                                {"limit": str(LIMITS["category"])}))
    if not station:
        problems.append(Problem("station", N_("A production station is required (bar, kitchen…).")))
    elif len(station) > LIMITS["station"]:
        problems.append(Problem("station", N_("At most %(limit)s characters."),
                                {"limit": str(LIMITS["station"])}))
    return (None, problems) if problems else ((name, station), [])
