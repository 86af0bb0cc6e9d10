"""The id of the HTTP request being served, carried by contextvars into what it causes:
its log lines, the live events and domain events it records, their deliveries."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current() -> str | None:
    """The id of the request this code runs for, if any."""
    return _current.get()


def adopt(header: str | None) -> str:
    """The id a client or a proxy sent, if it is a sane one (letters, digits, `._:-`, at
    most 128): else a new one. Nothing else from a header reaches the logs."""
    if header is not None and _SANE.fullmatch(header):
        return header
    return uuid.uuid4().hex


@contextmanager
def bound(request_id: str | None) -> Iterator[None]:
    """Run a block on behalf of `request_id` (a retried delivery, for one)."""
    token = _current.set(request_id)
    try:
        yield
    finally:
        _current.reset(token)
