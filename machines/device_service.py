"""What machines tell Comptoir: who they are, that they live, what they lack, how brews go.

Each device message is one unit of work in the caller's transaction. A machine is online
while it sends heartbeats; the sweeper marks it offline when they stop and fails (and
refunds) brews that a machine never took or never finished.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import changed, is_id
from machines import brew_service, recipes
from machines.brew_state import DEVICE_STATES
from machines.errors import BadBrewTransition, UnknownBrew
from machines.models import Brew, Machine
from machines.publishing import machine_changed
from realtime.events import Tx


def new_secret(machine_id: int) -> str:
    return f"cm{machine_id}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    # The secret is 256 random bits: a plain SHA-256 cannot be brute-forced, and it lets
    # the device be found by its secret alone.
    return hashlib.sha256(secret.encode()).hexdigest()


async def issue_secret(session: AsyncSession, machine: Machine) -> str:
    """A new secret for the machine, returned once; the old one stops working."""
    secret = new_secret(machine.id)
    machine.secret_hash = hash_secret(secret)
    await session.flush()
    return secret


async def authenticate(session: AsyncSession, secret: object) -> Machine | None:
    if not isinstance(secret, str) or not 16 <= len(secret) <= 128:
        return None
    digest = hash_secret(secret)
    machine = await session.scalar(select(Machine).where(Machine.secret_hash == digest))
    if machine is None or not hmac.compare_digest(machine.secret_hash or "", digest):
        return None
    return machine


async def connected(tx: Tx, machine_id: int, connection: str, now: datetime) -> None:
    await tx.session.execute(
        update(Machine)
        .where(Machine.id == machine_id)
        .values(online=True, connection=connection, last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    await machine_changed(tx, machine_id, "machine.online", {})


async def heartbeat(
    tx: Tx, machine_id: int, connection: str, alerts: list[str] | None, now: datetime
) -> None:
    """The machine is alive; a heartbeat may carry its current alerts too."""
    machine = await tx.session.get(Machine, machine_id)
    assert machine is not None
    came_back = not machine.online
    machine.last_seen_at = now
    machine.online = True
    machine.connection = connection
    changed = came_back
    if alerts is not None:
        changed = await _alerts(machine, alerts) or changed
    await tx.session.flush()
    if changed:
        await machine_changed(
            tx, machine_id, "machine.online" if came_back else "machine.alerts",
            {"alerts": machine.alerts},
        )


async def _alerts(machine: Machine, raw: list[str]) -> bool:
    cleaned = recipes.clean_alerts(raw)
    if cleaned == list(machine.alerts or []):
        return False
    machine.alerts = cleaned
    return True


async def set_alerts(tx: Tx, machine_id: int, alerts: list[str], now: datetime) -> None:
    """The machine's full current set of alerts (an empty list clears them)."""
    machine = await tx.session.get(Machine, machine_id)
    assert machine is not None
    machine.last_seen_at = now
    if await _alerts(machine, alerts):
        await tx.session.flush()
        await machine_changed(tx, machine_id, "machine.alerts", {"alerts": machine.alerts})


@dataclass(frozen=True)
class Report:
    """A brew event from the machine, as machines/device_messages.py read it."""

    brew_id: int
    status: str
    progress: int | None = None
    reason: str | None = None


async def report(tx: Tx, machine_id: int, message: Report, now: datetime) -> bool:
    """A brew event from the machine; repeats and late news are ignored (False), impossible
    moves refused (machines/brew_state.py)."""
    if message.status not in DEVICE_STATES:
        raise BadBrewTransition(current="?", target=message.status[:20])
    brew = await tx.session.get(Brew, message.brew_id) if is_id(message.brew_id) else None
    if brew is None or brew.machine_id != machine_id:
        raise UnknownBrew()
    await tx.session.execute(
        update(Machine).where(Machine.id == machine_id).values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    return await brew_service.advance(
        tx, brew, message.status, message.progress, message.reason, now
    )


async def disconnected(tx: Tx, machine_id: int, connection: str, now: datetime) -> None:
    """The socket closed; unless the machine already reconnected elsewhere, it is offline."""
    moved = await tx.session.execute(
        update(Machine)
        .where(Machine.id == machine_id, Machine.connection == connection)
        .values(online=False, connection=None)
        .execution_options(synchronize_session=False)
    )
    if changed(moved) == 1:
        await machine_changed(tx, machine_id, "machine.offline", {})


@dataclass(frozen=True)
class Timeouts:
    offline_after_s: float = 30
    accept_s: float = 20  # a requested brew the machine did not take
    stall_s: float = 120  # a brew with no news
    payment_s: float = 300  # a brew waiting for its payment


async def sweep(tx: Tx, timeouts: Timeouts, now: datetime) -> int:
    """Mark silent machines offline and fail (refunding) brews stuck too long."""
    session = tx.session
    silent = (
        await session.scalars(
            select(Machine.id).where(
                Machine.online,
                Machine.last_seen_at < now - timedelta(seconds=timeouts.offline_after_s),
            )
        )
    ).all()
    for machine_id in silent:
        # Conditional: of several processes sweeping, one marks it.
        moved = await session.execute(
            update(Machine)
            .where(
                Machine.id == machine_id,
                Machine.online,
                Machine.last_seen_at < now - timedelta(seconds=timeouts.offline_after_s),
            )
            .values(online=False, connection=None)
            .execution_options(synchronize_session=False)
        )
        if changed(moved) == 1:
            await machine_changed(tx, machine_id, "machine.offline", {"reason": "heartbeat"})
    stuck = (
        await session.scalars(
            select(Brew).where(
                Brew.finished_at.is_(None),
                (
                    (Brew.status == "paying")
                    & (Brew.updated_at < now - timedelta(seconds=timeouts.payment_s))
                )
                | (
                    (Brew.status == "requested")
                    & (Brew.updated_at < now - timedelta(seconds=timeouts.accept_s))
                )
                | (
                    Brew.status.in_(("accepted", "grinding", "brewing"))
                    & (Brew.updated_at < now - timedelta(seconds=timeouts.stall_s))
                ),
            )
        )
    ).all()
    failed = 0
    for brew in stuck:
        reason = "payment_timeout" if brew.status == "paying" else "timeout"
        if await brew_service.fail(tx, brew, reason, now):
            failed += 1
    return len(silent) + failed
