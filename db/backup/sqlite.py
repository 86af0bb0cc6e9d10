"""SQLite: copied page by page with SQLite's online backup API, while the server serves."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from db.backup.archive import BackupError, check_revision, written

# How long to wait for a lock another connection holds for a moment.
BUSY_S = 5.0


def database_file(database_url: str) -> Path:
    name = make_url(database_url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupError(f"{database_url} is not a database file")
    return Path(name)


@contextlib.contextmanager
def _connected(target: str | Path, uri: bool = False) -> Iterator[sqlite3.Connection]:
    # isolation_level None: no transaction of the driver's own around the PRAGMAs below.
    connection = sqlite3.connect(target, timeout=BUSY_S, uri=uri, isolation_level=None)
    try:
        yield connection
    finally:
        connection.close()


def _opened(path: Path, mode: str) -> contextlib.AbstractContextManager[sqlite3.Connection]:
    """An existing database file, never a new empty one made by a typo."""
    if not path.is_file():
        raise BackupError(f"no file {path}")
    return _connected(f"{path.resolve().as_uri()}?mode={mode}", uri=True)


def _apart(database: Path, backup_file: Path) -> None:
    if backup_file.resolve() == database.resolve():
        raise BackupError(f"{backup_file} is the database itself: name another file")


def backup(database_url: str, target: Path) -> str:
    """Copy the database into `target`; returns its schema revision."""
    path = database_file(database_url)
    _apart(path, target)
    with _opened(path, "rw") as source, written(target) as temp:
        with _connected(temp) as copy:
            # Every page in one step, so under one read transaction: the copy is one
            # committed moment. The database is in WAL mode (db/engine.py), so the
            # server's writers go on meanwhile instead of waiting for the copy.
            try:
                source.backup(copy, pages=-1)
            except sqlite3.Error as error:
                raise BackupError(f"the copy failed: {error}") from error
            copy.execute("PRAGMA journal_mode=DELETE")  # a single file, whole by itself
        return read_revision(temp, shown_as=target)


def read_revision(source: Path, shown_as: Path | None = None) -> str:
    """The schema revision of a backup file, once SQLite found every page of it sound."""
    shown = shown_as or source
    try:
        with _opened(source, "ro") as copy:
            (verdict,) = copy.execute("PRAGMA integrity_check").fetchone()
            if verdict != "ok":
                raise BackupError(f"{shown} is damaged: {verdict}")
            try:
                row = copy.execute("SELECT version_num FROM alembic_version").fetchone()
            except sqlite3.OperationalError:
                row = None
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{shown} is not a Comptoir backup ({error})") from error
    return check_revision(row[0] if row else None, shown)


def restore(database_url: str, source: Path) -> None:
    """Replace the database's content with the backup's, in one transaction."""
    path = database_file(database_url)
    _apart(path, source)
    if not path.parent.is_dir():
        raise BackupError(f"no directory {path.parent}")
    with _opened(source, "ro") as backup_file, _connected(path) as database:
        # A connection that has read a WAL database keeps a shared lock on it until it
        # closes (a server's pooled connections do): the exclusive lock, kept until the
        # restore is done, is only granted when no server (nor anything else) has the
        # database open, and keeps one from reading it meanwhile.
        database.execute("PRAGMA locking_mode=EXCLUSIVE")
        try:
            database.execute("BEGIN EXCLUSIVE")
            database.execute("COMMIT")
        except sqlite3.OperationalError as error:
            raise BackupError(
                f"{path} is in use ({error}): stop every Comptoir process using it first"
            ) from error
        # The backup API writes the destination in one transaction: a restore that is
        # interrupted leaves the database as it was.
        try:
            backup_file.backup(database, pages=-1)
        except sqlite3.Error as error:
            raise BackupError(f"the restore failed, nothing was changed: {error}") from error
