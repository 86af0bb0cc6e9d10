"""Drink types, what each needs from the machine, and the alerts that take it away."""

from __future__ import annotations

from dataclasses import dataclass

COFFEE = frozenset({"water", "beans", "grounds"})  # grounds: the bin must have room


@dataclass(frozen=True)
class DrinkType:
    needs: frozenset[str]
    seconds: float  # a typical brew, for the simulator and for timeouts
    icon: str
    grinds: bool


TYPES: dict[str, DrinkType] = {
    "ristretto": DrinkType(COFFEE, 20, "☕", True),
    "espresso": DrinkType(COFFEE, 25, "☕", True),
    "lungo": DrinkType(COFFEE, 35, "☕", True),
    "americano": DrinkType(COFFEE, 40, "☕", True),
    "cappuccino": DrinkType(COFFEE | {"milk"}, 45, "🥛", True),
    "latte": DrinkType(COFFEE | {"milk"}, 50, "🥛", True),
    "flat_white": DrinkType(COFFEE | {"milk"}, 45, "🥛", True),
    "hot_chocolate": DrinkType(frozenset({"water", "milk"}), 35, "🍫", False),
    "tea": DrinkType(frozenset({"water"}), 20, "🍵", False),
    "hot_water": DrinkType(frozenset({"water"}), 15, "💧", False),
    "hot_milk": DrinkType(frozenset({"milk"}), 25, "🥛", False),
}

# What a machine reports. The first four say something is missing or full and stop the
# drinks that need it; the others are reminders that do not stop brewing.
ALERTS: dict[str, str | None] = {
    "water": "water",  # fill water
    "grounds": "grounds",  # empty the grounds bin
    "beans": "beans",  # no beans
    "milk": "milk",  # no milk
    "maintenance": None,  # maintenance due
    "descaling": None,  # descaling needed
}

RECIPE_LIMITS: dict[str, tuple[int, int]] = {
    "strength": (1, 5),
    "volume_ml": (10, 500),
    "temperature_c": (60, 96),
    "milk_ml": (0, 300),
}


def drink(type_name: str) -> DrinkType:
    return TYPES.get(type_name, TYPES["espresso"])


def clean_alerts(raw: object) -> list[str]:
    """The known alerts in a device's report, sorted and once each."""
    if not isinstance(raw, list):
        return []
    return sorted({a for a in raw if isinstance(a, str) and a in ALERTS})


def missing(alerts: list[str]) -> set[str]:
    return {need for a in alerts if (need := ALERTS.get(a))}


def blocking(type_name: str, alerts: list[str]) -> list[str]:
    """The alerts that stop this drink: what it needs and the machine says is missing."""
    needs = drink(type_name).needs
    return sorted(a for a in alerts if ALERTS.get(a) in needs)
