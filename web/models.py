"""What web/ keeps in the database: the counters of tries (web/ratelimit.py), one row per
thing counted, and the browsers' sessions (web/session_store.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, IdType, Timestamp


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


class BrowserSession(Base):
    """A browser's session (or an API client's), kept on the server: the cookie holds only
    a random id, and the database only its hash (`key`), so that a copy of this table opens
    no session. `expires_at` moves forward as the session is used; ending a session sets
    it to the moment it ended, and the row stays a day (web/session_store.py)."""

    __tablename__ = "browser_session"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[str] = mapped_column(Text)  # JSON: the device, the CSRF token, scans…
    # Who signed in on it, kept in columns of their own so that a person's sessions can
    # all be ended at once (no foreign key: web/ knows no room's tables).
    staff_id: Mapped[int | None] = mapped_column(IdType, index=True)
    consumer_id: Mapped[int | None] = mapped_column(IdType, index=True)
    created_at: Mapped[Timestamp]
    expires_at: Mapped[Timestamp] = mapped_column(index=True)
