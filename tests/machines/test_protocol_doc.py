"""docs/machines.md is what a hardware partner builds from: what it publishes (the brew
transition table, the limits, the error codes, the live events) is what the code does."""

from __future__ import annotations

import re

import pytest

from errors import DomainError
from machines import device_messages, errors
from machines.brew_state import DEVICE_STATES, Step, step
from settings import ROOT

DOC = (ROOT / "docs" / "machines.md").read_text(encoding="utf-8")


def _table_after(marker: str) -> list[list[str]]:
    """The rows (cells stripped) of the first Markdown table after `marker`."""
    rest = DOC[DOC.index(marker):]
    lines = rest.splitlines()[1:]
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return [row for row in rows if not set("".join(row)) <= set("-: ")]


def test_the_published_transition_table_is_the_code() -> None:
    header, *rows = _table_after("<!-- transition table")
    events = header[1:]
    assert set(events) == DEVICE_STATES
    assert {row[0] for row in rows} == {"paying", "requested", "accepted", "grinding",
                                        "brewing", "done", "failed"}
    for current, *outcomes in rows:
        for event, outcome in zip(events, outcomes, strict=True):
            try:
                did = "applied" if step(current, event) is Step.APPLY else "ignored"
            except errors.BadBrewTransition:
                did = "refused"
            assert did == outcome, (current, event)


def test_every_error_a_machine_can_get_is_listed() -> None:
    listed = {row[0].strip("`") for row in _table_after("A refused message gets one error")
              if row[0].startswith("`")}
    raised: set[str] = {
        errors.BadValue.code, errors.UnknownBrew.code, errors.BadBrewTransition.code,
    }
    device_code = (ROOT / "machines" / "device.py").read_text(encoding="utf-8")
    raised |= set(re.findall(r'_error\(\s*"([a-z_]+)"', device_code))
    assert raised == listed
    assert all(issubclass(getattr(errors, name), DomainError)
               for name in ("BadValue", "UnknownBrew", "BadBrewTransition"))


def test_the_limits_are_the_codes() -> None:
    assert device_messages.MAX_FRAME == 64 * 1024 and "at most **64 KiB**" in DOC
    assert f"at most {device_messages.MAX_ALERTS} items" in DOC
    assert f"1 to {device_messages.MAX_REASON} characters" in DOC
    for fields, message in ((("brew_id", "status", "progress", "reason"),
                             device_messages.BrewReport),
                            (("alerts",), device_messages.AlertsReport)):
        assert set(message.model_fields) == set(fields)
    brew_id = device_messages.BrewReport.model_json_schema()["properties"]["brew_id"]
    assert (brew_id["minimum"], brew_id["maximum"]) == (1, 2**63 - 1)
    assert "1 to 2^63 − 1" in DOC


@pytest.mark.parametrize("source", ["machines", "customers"])
def test_every_live_event_is_named_in_the_document(source: str) -> None:
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / source).glob("*.py"))
    emitted = set(re.findall(r'(?:machine|user)_changed\(\s*tx,[^"]*"([a-z_.]+)"', code))
    emitted |= {f"brew.{s}" for s in ("paying", "requested", *DEVICE_STATES)}
    named = set(re.findall(r"`([a-z_]+\.[a-z_]+)`", DOC))
    assert emitted - named == set()


def test_the_document_stands_alone() -> None:
    assert "/work/" not in DOC and "DESIGN.md" not in DOC
    assert '"heartbeat_s": 10.0' in DOC  # a number, as the server sends it (a float)
