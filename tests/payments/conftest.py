"""The machines' harness, for the tests of what a brewing customer does with this room.

Credit, recharges and drink payments are exercised on the demo company's coffee machines:
the fixtures are the machines tests' own."""

from __future__ import annotations

from tests.machines.conftest import app, assembled, bus_url, coffee  # noqa: F401
