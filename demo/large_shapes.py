"""What the large demo company looks like: its menu, its machines' drinks, its consumer
groups, and when its customers come (hours of the day, days of the week, months)."""

from __future__ import annotations

from dataclasses import dataclass

# The menu of every site: (category, station, VAT rate, [(product, price, weight)]); the
# weight is how often it sells against the others of its category.
MENU: list[tuple[str, str, int, list[tuple[str, int, int]]]] = [
    ("Cafés", "bar", 1000, [
        ("Espresso", 180, 30), ("Double espresso", 300, 8), ("Café allongé", 220, 12),
        ("Cappuccino", 380, 14), ("Café crème", 350, 10), ("Latte macchiato", 420, 8),
        ("Flat white", 400, 6), ("Noisette", 200, 9), ("Café viennois", 450, 3),
        ("Décaféiné", 200, 4),
    ]),
    ("Boissons chaudes", "bar", 1000, [
        ("Chocolat chaud", 400, 10), ("Thé vert", 320, 6), ("Thé noir", 320, 6),
        ("Infusion", 300, 4), ("Chaï latte", 450, 3), ("Matcha latte", 480, 3),
        ("Lait chaud", 250, 1), ("Vin chaud", 550, 1),
    ]),
    ("Boissons fraîches", "bar", 1000, [
        ("Jus d'orange pressé", 450, 10), ("Citronnade maison", 400, 7),
        ("Eau minérale 50 cl", 250, 12), ("Eau pétillante 50 cl", 350, 6),
        ("Thé glacé", 380, 5), ("Limonade artisanale", 420, 5), ("Smoothie", 550, 4),
        ("Soda", 350, 8), ("Bière pression", 500, 6), ("Verre de vin", 600, 4),
    ]),
    ("Viennoiseries", "bar", 1000, [
        ("Croissant", 150, 20), ("Pain au chocolat", 170, 18), ("Pain aux raisins", 200, 6),
        ("Chausson aux pommes", 220, 5), ("Brioche", 250, 4), ("Cookie", 280, 8),
        ("Muffin", 320, 6), ("Tartine beurre confiture", 350, 5),
    ]),
    ("Plats", "kitchen", 1000, [
        ("Croque-monsieur", 950, 12), ("Quiche lorraine", 1050, 9), ("Salade niçoise", 1250, 8),
        ("Omelette aux fines herbes", 900, 5), ("Soupe du jour", 750, 6),
        ("Plat du jour", 1450, 15), ("Burger maison", 1550, 10), ("Club sandwich", 1150, 8),
        ("Risotto aux champignons", 1400, 4), ("Tartare de bœuf", 1650, 4),
        ("Poisson du marché", 1750, 3), ("Salade César", 1200, 7), ("Bagel saumon", 1050, 5),
        ("Assiette de fromages", 1100, 3),
    ]),
    ("Desserts", "kitchen", 1000, [
        ("Tarte Tatin", 650, 8), ("Mousse au chocolat", 550, 9), ("Crème brûlée", 600, 8),
        ("Moelleux au chocolat", 650, 7), ("Café gourmand", 850, 10), ("Île flottante", 550, 4),
        ("Tarte au citron", 600, 6), ("Fromage blanc", 450, 3), ("Salade de fruits", 500, 4),
        ("Profiteroles", 750, 3),
    ]),
]
# Which categories a counter ticket and a table's round draw from, and how often.
COUNTER_CATEGORIES = {"Cafés": 45, "Boissons chaudes": 10, "Boissons fraîches": 15,
                      "Viennoiseries": 25, "Plats": 4, "Desserts": 1}
TABLE_CATEGORIES = {"Cafés": 14, "Boissons chaudes": 4, "Boissons fraîches": 22,
                    "Viennoiseries": 3, "Plats": 40, "Desserts": 17}

# The machines' drinks (one selection, shared by every machine): name, type, price.
DRINKS: list[tuple[str, str, int, int]] = [
    ("Espresso", "espresso", 120, 30), ("Ristretto", "ristretto", 120, 6),
    ("Lungo", "lungo", 140, 14), ("Americano", "americano", 150, 8),
    ("Cappuccino", "cappuccino", 220, 16), ("Latte", "latte", 240, 10),
    ("Flat white", "flat_white", 240, 5), ("Chocolat", "hot_chocolate", 200, 7),
    ("Thé", "tea", 100, 5), ("Eau chaude", "hot_water", 0, 1),
]


@dataclass(frozen=True)
class Group:
    name: str
    charge: str  # machines.access.Charge: "none" (free) or "credit" (the balance pays)
    share: int  # how many consumers of a hundred belong to it


GROUPS = [Group("Personnel", "none", 15), Group("Abonnés", "credit", 40),
          Group("Étudiants", "credit", 25), Group("Partenaires", "credit", 10),
          Group("Visiteurs", "credit", 10)]
TOPUPS = (500, 1000, 2000)  # what a consumer tops up when their balance runs short

CITIES = ["Lyon", "Paris", "Marseille", "Lille", "Bordeaux", "Nantes", "Toulouse", "Nice",
          "Strasbourg", "Rennes", "Grenoble", "Montpellier", "Dijon", "Annecy", "Tours",
          "Reims", "Metz", "Rouen", "Brest", "Nîmes"]

# Opening hours (local), every site: Monday-Saturday 7 h-22 h, Sunday 9 h-19 h.
HOURS_TEXT = "Lundi–samedi 7 h–22 h, dimanche 9 h–19 h"


def open_hours(weekday: int) -> range:
    """The hours a site is open on an ISO weekday (1 Monday … 7 Sunday)."""
    return range(9, 19) if weekday == 7 else range(7, 22)


# How busy each hour is, by what is sold (only the open hours count).
COUNTER_HOURS = {7: 6, 8: 12, 9: 9, 10: 6, 11: 7, 12: 14, 13: 12, 14: 6, 15: 5, 16: 6,
                 17: 6, 18: 5, 19: 3, 20: 2, 21: 1}
TABLE_HOURS = {7: 1, 8: 2, 9: 2, 10: 2, 11: 4, 12: 16, 13: 14, 14: 5, 15: 2, 16: 2,
               17: 3, 18: 5, 19: 10, 20: 11, 21: 5}
BREW_HOURS = {7: 4, 8: 14, 9: 12, 10: 10, 11: 6, 12: 5, 13: 10, 14: 11, 15: 7, 16: 8,
              17: 5, 18: 3, 19: 2, 20: 1, 21: 1}
# Days of the week (ISO): busier at the end of the week; machines sit in offices and
# schools, so quieter at the weekend.
DAY_WEIGHT = {1: 0.85, 2: 0.9, 3: 0.95, 4: 1.0, 5: 1.15, 6: 1.4, 7: 1.1}
BREW_DAY_WEIGHT = {1: 1.1, 2: 1.1, 3: 1.05, 4: 1.1, 5: 1.0, 6: 0.5, 7: 0.3}
# Months: quiet in August and January, busy in December and at the start of summer.
MONTH_WEIGHT = {1: 0.85, 2: 0.9, 3: 0.95, 4: 1.0, 5: 1.05, 6: 1.1, 7: 1.0, 8: 0.75,
                9: 1.0, 10: 1.0, 11: 0.95, 12: 1.2}


def hours_of(weights: dict[int, int], weekday: int) -> tuple[list[int], list[int]]:
    """The open hours of the day and their weights, for random.choices."""
    hours = [h for h in open_hours(weekday) if h in weights]
    return hours, [weights[h] for h in hours]
