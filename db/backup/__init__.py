"""Backing up and restoring the database Comptoir runs on: SQLite or PostgreSQL, by its URL.

Redis holds nothing to back up: it only carries events between processes (docs/deploy.md).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from db.backup import postgres, sqlite
from db.backup.archive import BackupError, head

__all__ = ["BackupError", "backup", "default_file", "restore"]


def _on_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite")


def default_file(database_url: str, now: datetime) -> Path:
    """comptoir-20250314T221500Z.db (SQLite) or .dump (pg_dump's format), here."""
    suffix = "db" if _on_sqlite(database_url) else "dump"
    return Path(f"comptoir-{now:%Y%m%dT%H%M%SZ}.{suffix}")


def backup(database_url: str, target: Path) -> str:
    """Write a consistent copy of the database to `target` while it serves; returns the
    schema revision it holds."""
    if _on_sqlite(database_url):
        return sqlite.backup(database_url, target)
    return postgres.backup(database_url, target)


def restore(database_url: str, source: Path) -> bool:
    """Replace the database's content with the backup in `source`, after checking that it
    is a sound Comptoir backup this version can take. True when the backup's schema is
    older than this version's (run the migrations before serving)."""
    if _on_sqlite(database_url):
        revision = sqlite.read_revision(source)
        sqlite.restore(database_url, source)
    else:
        revision = postgres.read_revision(source)
        postgres.restore(database_url, source)
    return revision != head()
