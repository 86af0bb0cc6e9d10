"""`device:{machine id}`: a coffee machine's own channel, apart from the screens' topics.

Its frames are the device protocol's commands (docs/machines.md, 1.3), and the notice that
the machine's secret was replaced, published after commit with the topic's version like
any event; its snapshot is every command the machine has not taken yet, with which secret
it has now. Only the machine's socket watches it (machines/device.py), once its
secret proved who it is: no screen may subscribe to it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from machines.models import Brew, Machine
from realtime.events import Tx
from realtime.topics import OneAudience, Viewer


def device_topic(machine_id: int) -> str:
    return f"device:{machine_id}"


def command(brew: Brew) -> dict[str, Any]:
    """What a machine is told to make (docs/machines.md, "brew")."""
    return {
        "type": "brew",
        "brew_id": brew.id,
        "product": {"name": brew.product_name, "type": brew.product_type, "recipe": brew.recipe},
    }


async def send_command(tx: Tx, brew: Brew) -> None:
    """Tell the brew's machine to make it, once the transaction commits."""
    await tx.send_frame(device_topic(brew.machine_id), command(brew))


def secret_mark(secret_hash: str | None) -> str:
    """Which secret a machine has now, as far as its sockets need to know: a prefix of the
    stored hash (the secret itself is never kept)."""
    return (secret_hash or "")[:16]


async def secret_replaced(tx: Tx, machine: Machine) -> None:
    """Once committed, sockets opened with any other secret than the machine's current one
    close, on every process (machines/device.py)."""
    await tx.send_frame(
        device_topic(machine.id),
        {"type": "secret_replaced", "secret": secret_mark(machine.secret_hash)},
    )


async def channel_state(session: AsyncSession, machine_id: int) -> dict[str, Any]:
    """What the machine's socket needs on (re)subscribing: the pending commands, and which
    secret the machine has now (a rotation missed while the bus was away shows here)."""
    secret_hash = await session.scalar(
        select(Machine.secret_hash).where(Machine.id == machine_id)
    )
    return {"pending": await pending(session, machine_id), "secret": secret_mark(secret_hash)}


async def pending(session: AsyncSession, machine_id: int) -> list[dict[str, Any]]:
    """Brews the machine was told to make and has not taken yet, oldest first."""
    brews = await session.scalars(
        select(Brew)
        .where(Brew.machine_id == machine_id, Brew.status == "requested")
        .order_by(Brew.id)
    )
    return [command(b) for b in brews]


class DeviceTopic(OneAudience):
    """The kind of `device:{id}` topics. Authorisation refuses everyone: the machine's
    socket is authenticated by its secret and watches its own topic directly.

    A command leaves the snapshot when the machine takes it, which its channel does not
    tell anyone: the snapshot is read afresh every time (one socket reads it, not a crowd).
    """

    cache_snapshots = False

    async def authorize(self, session: AsyncSession, args: list[str], viewer: Viewer) -> bool:
        return False

    async def snapshot(self, session: AsyncSession, args: list[str]) -> dict[str, Any]:
        return await channel_state(session, int(args[0]))

    def render(
        self,
        view: dict[str, Any],
        event: str | None,
        change: dict[str, Any] | None,
        audience: str,
        locale: str,
    ) -> dict[str, Any]:
        return {"html": {}}  # no page shows it
