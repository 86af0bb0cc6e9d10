"""PostgreSQL: pg_dump's custom format, and pg_restore, run with the app's DATABASE_URL."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from db.backup.archive import BackupError, check_revision, written

# Options of asyncpg's in DATABASE_URL that libpq's tools do not know.
_ASYNCPG_ONLY = {"prepared_statement_cache_size", "statement_cache_size"}


def libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """The libpq URL the client tools take, and their environment: the password goes in
    PGPASSWORD, where other users' `ps` cannot read it."""
    url = make_url(database_url)
    query = {key: value for key, value in url.query.items() if key not in _ASYNCPG_ONLY}
    if "ssl" in query:  # asyncpg's name for libpq's sslmode, with the same values
        query["sslmode"] = query.pop("ssl")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None, query=query)
    return plain.render_as_string(hide_password=False), env


def _run(tool: str, *args: str, env: dict[str, str]) -> str:
    binary = shutil.which(tool)
    if binary is None:
        raise BackupError(
            f"{tool} is not installed: install PostgreSQL's client tools (the postgresql-client "
            "package on Debian and Ubuntu), of the server's major version or newer"
        )
    done = subprocess.run([binary, *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {done.stderr.strip()}")
    return done.stdout


def backup(database_url: str, target: Path) -> str:
    """pg_dump into `target` (one snapshot of the database, taken without stopping it);
    returns its schema revision."""
    url, env = libpq(database_url)
    with written(target) as temp:
        _run("pg_dump", "--format=custom", f"--file={temp}", f"--dbname={url}", env=env)
        return read_revision(temp, shown_as=target)


def read_revision(source: Path, shown_as: Path | None = None) -> str:
    """The schema revision of a pg_dump archive, read from the archive itself."""
    shown = shown_as or source
    if not source.is_file():
        raise BackupError(f"no file {shown}")
    env = dict(os.environ)
    try:
        contents = _run("pg_restore", "--list", str(source), env=env)
    except BackupError as error:
        if "is not installed" in str(error):
            raise
        raise BackupError(f"{shown} is not a Comptoir backup ({error})") from error
    if "TABLE DATA public alembic_version" not in contents:
        return check_revision(None, shown)
    data = _run("pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(source),
                env=env)
    lines = data.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("COPY "))
    return check_revision(lines[start + 1] if lines[start + 1] != "\\." else None, shown)


_OTHERS = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
)


def restore(database_url: str, source: Path) -> None:
    """pg_restore into the database, in one transaction: it ends as the backup was, or, if
    anything fails, as it was before."""
    url, env = libpq(database_url)
    others = int(_run("psql", "--no-psqlrc", "--tuples-only", "--no-align",
                      f"--command={_OTHERS}", f"--dbname={url}", env=env).strip())
    if others:
        raise BackupError(
            f"the database is in use ({others} other connections): stop every Comptoir "
            "process using it first (and restore directly, not through PgBouncer)"
        )
    _run("pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
         "--single-transaction", "--exit-on-error", f"--dbname={url}", str(source), env=env)
