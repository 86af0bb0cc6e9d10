"""The server's clock, which dates every record (device clocks are data). One place to
read it, so that tests can stand on a chosen day."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """A moment read back from SQLite (naive, in UTC) or PostgreSQL (aware), as aware."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
