"""The ordering rules an operator can tune, taken from settings once."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import HTTPConnection

from ordering.cart import Limits


@dataclass(frozen=True)
class OrderingConfig:
    limits: Limits = field(default_factory=Limits)
    pin_length: int = 6
    pin_limit: int = 5  # wrong PINs per device in the window
    pin_window_s: int = 600
    pin_table_limit: int = 10  # wrong PINs per table in the window, then one try per pace
    pin_table_pace_s: int = 30
    idle_s: int = 1800
    table_sockets: int = 100  # live sockets of one table's diners, per process


def config_of(conn: HTTPConnection) -> OrderingConfig:
    """The running app's ordering rules, which app.py keeps on its state at assembly."""
    config: OrderingConfig = conn.app.state.ordering
    return config
