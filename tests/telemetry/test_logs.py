"""Log lines: one JSON object each, with the request's id; or text for a terminal."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest

from telemetry import logs, request_id

log = logging.getLogger("tests.telemetry")


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Where the logging config of `comptoir serve` writes in these tests; the loggers it
    sets are given back as they were after (the root's handlers are pytest's)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield io.StringIO()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name in ("tests", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


def configure(format: str, stream: io.StringIO) -> None:
    config = logs.config(format)
    config["handlers"]["stderr"]["stream"] = stream
    logging.config.dictConfig(config)


def test_json_lines_carry_the_request_id(stream: io.StringIO) -> None:
    configure("json", stream)
    with request_id.bound("r-1"):
        log.info("cart changed on %s", "table:3", extra={"topic": "table:3"})
    log.warning("outside any request")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed\nover two lines")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3  # a traceback stays inside its line
    first, second, third = (json.loads(line) for line in lines)
    assert first["message"] == "cart changed on table:3"
    assert (first["level"], first["logger"], first["request_id"], first["topic"]) == (
        "INFO", "tests.telemetry", "r-1", "table:3"
    )
    assert first["time"].endswith("+00:00")
    assert second["request_id"] is None
    assert "ValueError: boom" in third["exc_info"]


def test_text_for_a_terminal(stream: io.StringIO) -> None:
    configure("text", stream)
    with request_id.bound("r-2"):
        log.info("hello")
    assert stream.getvalue().rstrip().endswith("INFO    tests.telemetry [r-2] hello")


def test_format_chosen_by_setting_else_by_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    assert logs.pick_format("text") == "text"
    assert logs.pick_format("json") == "json"
    with pytest.raises(ValueError):
        logs.pick_format("xml")
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)
    assert logs.pick_format("") == "json"
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert logs.pick_format("") == "text"


def test_debug_is_for_our_own_loggers_only(stream: io.StringIO) -> None:
    """At DEBUG the server and the websocket library write every handshake header and frame
    (a machine's `Authorization: Device …`): their loggers stay at INFO."""
    config = logs.config("json", "debug", own=("tests",))
    config["handlers"]["stderr"]["stream"] = stream
    logging.config.dictConfig(config)
    log.debug("published table:1 v2")
    logging.getLogger("uvicorn.error").debug("< authorization: Device cm1_secret")
    logging.getLogger("websockets.server").debug("< TEXT '{\"secret\": …}'")
    logging.getLogger("uvicorn.error").info("Started", extra={"color_message": "\x1b[36m"})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["published table:1 v2", "Started"]
    assert "color_message" not in lines[1]
