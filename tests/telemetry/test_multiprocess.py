"""Several workers, one answer: each process keeps its values in the shared directory, and
whichever answers GET /metrics sums them; a worker gone leaves its counts, not its sockets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from settings import ROOT
from telemetry import metrics

# A worker: two sockets open, five events handed out, one request; then it waits for a
# line on standard input before it ends (ending at once when told "exit").
WORKER = """
import sys
from telemetry import metrics
metrics.SOCKETS_OPEN.labels("diner").inc(2)
metrics.EVENTS_DELIVERED.inc(5)
metrics.REQUEST_DURATION.labels("GET", "/healthz", "2xx").observe(0.02)
print("ready", flush=True)
sys.stdin.readline()
"""


def sample(text: str, name: str, labels: dict[str, str] | None = None) -> float:
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == (labels or {}):
                return float(found.value)
    return 0.0


def worker(directory: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER], cwd=ROOT, text=True,
        env={"PROMETHEUS_MULTIPROC_DIR": str(directory), "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    return process


def end(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("exit\n")
    process.stdin.close()
    process.wait(timeout=10)
    process.stdout.close()


def test_counts_of_every_worker_are_summed_and_a_dead_workers_sockets_leave(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    one, two = worker(tmp_path), worker(tmp_path)
    try:
        text = metrics.exposition()[0].decode()
        assert sample(text, "comptoir_sockets_open", {"kind": "diner"}) == 4
        assert sample(text, "comptoir_events_delivered_total") == 10
        assert sample(text, "comptoir_http_request_duration_seconds_count",
                      {"method": "GET", "route": "/healthz", "status": "2xx"}) == 2

        end(one)  # gone: its sockets with it, its counts stay
        text = metrics.exposition()[0].decode()
        assert sample(text, "comptoir_sockets_open", {"kind": "diner"}) == 2
        assert sample(text, "comptoir_events_delivered_total") == 10
    finally:
        for process in (one, two):
            if process.poll() is None:
                end(process)
    text = metrics.exposition()[0].decode()
    assert sample(text, "comptoir_sockets_open", {"kind": "diner"}) == 0


def test_a_single_process_answers_from_its_own_registry(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    before = sample(metrics.exposition()[0].decode(), "comptoir_bus_reconnects_total")
    metrics.BUS_RECONNECTS.inc()
    body, content_type = metrics.exposition()
    assert content_type.startswith("text/plain")
    assert sample(body.decode(), "comptoir_bus_reconnects_total") == before + 1


def test_statements_are_labelled_by_kind_only() -> None:
    assert metrics.statement_kind("SELECT table.id FROM table WHERE token = $1") == "select"
    assert metrics.statement_kind("  insert into outbox_event …") == "insert"
    assert metrics.statement_kind("UPDATE topic_version SET version = version + 1") == "update"
    assert metrics.statement_kind("DELETE FROM member") == "delete"
    assert metrics.statement_kind("BEGIN IMMEDIATE") == "other"
