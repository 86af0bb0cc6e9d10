"""What backups of either database share: their error, their atomic writing, their version."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from alembic.script import ScriptDirectory

from db.migrate import alembic_config


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, for an operator."""


@contextlib.contextmanager
def written(target: Path) -> Iterator[Path]:
    """A temporary file beside `target` to write the backup into, put in its place only
    once the block finished without error: a backup that fails halfway (a full disk, a
    killed process) never takes the name of a good one. Readable by its owner only, since
    it holds password hashes and sealed payment keys."""
    directory = target.parent
    if not directory.is_dir():
        raise BackupError(f"no directory {directory}")
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
    os.close(handle)
    temp = Path(name)
    try:
        yield temp
        temp.replace(target)
    finally:
        temp.unlink(missing_ok=True)


def check_revision(revision: str | None, source: Path) -> str:
    """The backup's schema revision, if this version of Comptoir can take it."""
    if revision is None:
        raise BackupError(f"{source} is not a Comptoir backup (it has no migration table)")
    script = ScriptDirectory.from_config(alembic_config(""))
    if revision not in {step.revision for step in script.walk_revisions()}:
        raise BackupError(
            f"{source} was made by a newer Comptoir (schema {revision}): "
            "restore it with that version"
        )
    return revision


def head() -> str:
    """The schema revision this version of Comptoir migrates to."""
    revision = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    assert revision is not None
    return revision
