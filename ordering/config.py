"""The ordering rules an operator can tune, taken from settings once."""

from __future__ import annotations

from dataclasses import dataclass, field

from ordering.cart import Limits


@dataclass(frozen=True)
class OrderingConfig:
    limits: Limits = field(default_factory=Limits)
    pin_length: int = 6
    pin_limit: int = 5
    pin_window_s: int = 600
    idle_s: int = 1800
