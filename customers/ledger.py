"""Credit rules: entry kinds, the unique key of each business event, the largest amount.

The ledger is append-only. Each entry's key names the business event it records, so a
retried request, a replayed webhook or a second process finds the key taken and adds
nothing.
"""

from __future__ import annotations

from enum import StrEnum

MAX_AMOUNT = 100_000  # minor units: 1 000 € in one entry is already a lot for coffee
MAX_AMOUNT_MAJOR = MAX_AMOUNT // 100  # the same in the currency's units, as messages say it


class Kind(StrEnum):
    TOPUP = "topup"
    BREW = "brew"
    REFUND = "refund"
    RECHARGE = "recharge"
    MANUAL = "manual"


def brew_key(brew_id: int) -> str:
    return f"brew:{brew_id}"


def refund_key(brew_id: int) -> str:
    return f"refund:{brew_id}"


def topup_key(payment_id: int) -> str:
    return f"topup:{payment_id}"


def recharge_key(group_id: int, period: str, consumer_id: int) -> str:
    return f"recharge:{group_id}:{period}:{consumer_id}"


def manual_key(idempotency_key: str) -> str:
    return f"manual:{idempotency_key}"
