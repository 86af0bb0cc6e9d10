"""Table PINs and the limits on wrong guesses: plain Python."""

from __future__ import annotations

import hmac
import secrets

from ordering.config import OrderingConfig
from web.ratelimit import Rule

DEVICE = "pin.device"  # a phone, by its signed cookie's device id: at any table
TABLE = "pin.table"  # a table, from any phones


def new_pin(length: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(length))


def matches(expected: str, given: object) -> bool:
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(expected.encode(), given.strip().encode())


def device_rule(config: OrderingConfig) -> Rule:
    """A phone gets `pin_limit` wrong PINs per window, then none until the window ends."""
    return Rule(DEVICE, config.pin_limit, config.pin_window_s)


def table_rule(config: OrderingConfig) -> Rule:
    """A table takes `pin_table_limit` wrong PINs per window from any phones, then one try
    per pace from anyone (its party's friends included) instead of locking: strangers'
    guesses cannot shut the friends out for long, and staff can lift it."""
    return Rule(TABLE, config.pin_table_limit, config.pin_window_s, config.pin_table_pace_s)
