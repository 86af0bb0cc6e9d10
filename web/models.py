"""The counters of tries that web/ratelimit.py keeps, one row per thing counted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Timestamp


class RateLimit(Base):
    """Tries of one `subject` (a device, a table, an address…) under one rule (`scope`) in
    the current window; rewritten in place by one statement per try."""

    __tablename__ = "rate_limit"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject: Mapped[str] = mapped_column(String(128), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    # The window ends here: the next try starts a new one (and a sweeper deletes the row).
    expires_at: Mapped[Timestamp] = mapped_column(index=True)
    # Past the limit, a rule with a pace lets one try through at or after this moment.
    next_at: Mapped[datetime | None]
    granted: Mapped[bool] = mapped_column(Boolean)  # what the last try was told
