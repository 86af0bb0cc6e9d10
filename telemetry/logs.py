"""Logging: one JSON object per line (any log shipper reads it), or text for a terminal;
every record carries the id of the request it was written for."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS

from telemetry import request_id

FORMATS = ("json", "text")
_JSON_FIELDS = "%(levelname)s %(name)s %(message)s"
_TEXT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request's id (unless the record brings its own,
    as the hub's log of a push does with the id its event carries); `blank` without one."""

    def __init__(self, blank: str | None = None) -> None:
        super().__init__()
        self.blank = blank

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.current() or self.blank
        return True


def pick_format(setting: str | None) -> str:
    """LOG_FORMAT if set; else text on a terminal, JSON anywhere else (a service's logs)."""
    if setting:
        if setting not in FORMATS:
            raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {setting!r}")
        return setting
    return "text" if sys.stderr.isatty() else "json"


def check_level(level: str) -> str:
    """LOG_LEVEL, checked: debug, info, warning, error or critical."""
    if not isinstance(logging.getLevelName(level.upper()), int):
        raise ValueError(f"LOG_LEVEL must be debug, info, warning or error, not {level!r}")
    return level.upper()


def library_level(level: str) -> str:
    """Libraries log at INFO at most: at DEBUG, the server and the websocket library write
    every handshake header and frame, a machine's `Authorization` and `hello` included."""
    return max(level.upper(), "INFO", key=logging.getLevelName)


def config(format: str, level: str = "INFO", own: Sequence[str] = ()) -> dict[str, Any]:
    """A logging.config.dictConfig for the app and the server (uvicorn's loggers included):
    everything to standard error, in one format; `level` for the `own` packages' loggers,
    and no more detail than INFO for the libraries'."""
    formatter: dict[str, Any] = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": _JSON_FIELDS,
            # uvicorn's copy of a message with terminal colours: not for a log shipper
            "reserved_attrs": [*RESERVED_ATTRS, "color_message"],
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601, UTC
        }
        if format == "json"
        else {"format": _TEXT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": RequestIdFilter, "blank": None if format == "json" else "-"},
        },
        "formatters": {"main": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "main",
                "filters": ["request_id"],
            },
        },
        "root": {"handlers": ["stderr"], "level": library_level(level)},
        "loggers": {
            **{name: {"level": level.upper()} for name in own},
            # uvicorn's own: through the root's handler, in the same format.
            "uvicorn": {"handlers": [], "level": library_level(level), "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},  # web/request_log.py's instead
        },
    }
