"""The events a customer change emits on the customer's own topic, with its fresh view."""

from __future__ import annotations

from typing import Any

from customers.views import user_topic, user_view
from realtime.events import Tx


async def user_changed(tx: Tx, consumer_id: int, type: str, change: dict[str, Any]) -> None:
    session = tx.session
    await tx.emit(user_topic(consumer_id), type, change, lambda: user_view(session, consumer_id))
