"""The process's metrics, for Prometheus: defined once here, moved where things happen.

The lowest floor of the house: the bus, the hub, the engine and the rooms import it, and
it imports nothing of theirs. Labels are few and bounded (a route's template, never its
path; a topic's kind, never its id). With several workers (PROMETHEUS_MULTIPROC_DIR set
before the first import, as `comptoir serve` does), every value lives in a file of that
directory and any worker answers for all of them (see `exposition`).
"""

from __future__ import annotations

import glob
import os
import re

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# Live sockets

SOCKETS_OPEN = Gauge(
    "comptoir_sockets_open", "Open websockets, by who is behind them.", ["kind"],
    multiprocess_mode="livesum",
)
SOCKET_OVERFLOWS = Counter(
    "comptoir_socket_overflows", "Sockets closed for falling too far behind (send queue full).",
    ["kind"],
)
SOCKETS_REFUSED = Counter(
    "comptoir_sockets_refused",
    "Websockets refused or closed by a limit: too many of one device (device), too many "
    "guests on one topic, a table's diners (topic), a message over the protocol's size "
    "(message_size).",
    ["limit"],
)
EVENTS_PUBLISHED = Counter(
    "comptoir_events_published", "Events put on the bus after commit, by topic kind.", ["kind"],
)
PUBLISH_FAILURES = Counter(
    "comptoir_events_publish_failures", "Events the bus did not take (sockets catch up later).",
)
EVENTS_DELIVERED = Counter(
    "comptoir_events_delivered",
    "Events handed live to this process's sockets (one per socket watching the topic).",
)
SNAPSHOTS_SENT = Counter(
    "comptoir_snapshots_sent",
    "Snapshots sent to sockets: on subscribing, on a client's resync after a gap, or when "
    "the process caught its sockets up after the bus lost messages.",
    ["reason"],
)

# The bus

BUS_LAG = Histogram(
    "comptoir_bus_lag_seconds", "Round trip of a probe message through the bus, to this "
    "process's listener (how far behind the listener is).",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
BUS_LOST = Counter("comptoir_bus_connection_lost", "Times the bus subscription was lost.")
BUS_RECONNECTS = Counter("comptoir_bus_reconnects", "Times the bus subscription came back.")

# HTTP

REQUEST_DURATION = Histogram(
    "comptoir_http_request_duration_seconds",
    "HTTP requests: time to the end of the answer, by method, route template and status class.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# The database

DB_CONNECTIONS_IN_USE = Gauge(
    "comptoir_db_connections_in_use", "Database connections checked out of the pool.",
    multiprocess_mode="livesum",
)
DB_QUERY_DURATION = Histogram(
    "comptoir_db_query_duration_seconds", "Statements sent to the database, by kind.",
    ["statement"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
)

# Background jobs and payments

JOB_RUNS = Counter(
    "comptoir_job_runs", "Runs of the background jobs (sweepers), by job and outcome.",
    ["job", "outcome"],
)
JOB_DURATION = Histogram(
    "comptoir_job_duration_seconds", "How long a background job's run took.", ["job"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30),
)
PAYMENT_WEBHOOKS = Counter(
    "comptoir_payment_webhooks", "Payment providers' webhooks, by provider and outcome "
    "(handled, duplicate, ignored, or the error's code).",
    ["provider", "outcome"],
)

_VERBS = {"select", "insert", "update", "delete"}


def statement_kind(statement: str) -> str:
    """select, insert, update, delete or other: a bounded label for a SQL statement."""
    verb = statement.lstrip()[:6].lower()
    return verb if verb in _VERBS else "other"


def exposition() -> tuple[bytes, str]:
    """The text Prometheus reads, and its content type: this process's metrics, or with
    several workers every worker's, summed (the live gauges of workers gone left out)."""
    path = os.environ.get(MULTIPROC_DIR_ENV)
    if not path:
        return generate_latest(REGISTRY), CONTENT_TYPE
    _forget_dead_processes(path)
    registry = CollectorRegistry()
    _multiprocess.MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE


_LIVE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db$")


def _forget_dead_processes(path: str) -> None:
    """A worker killed without a word (kill -9, out of memory) left its live gauges'
    files: its sockets and connections are gone with it. Its counters stay counted."""
    for name in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        match = _LIVE_FILE.search(name)
        if match is not None and not _alive(int(match.group(1))):
            _multiprocess.mark_process_dead(int(match.group(1)), path)  # type: ignore[no-untyped-call]


def process_ended() -> None:
    """This worker is stopping: its live gauges leave the sums."""
    path = os.environ.get(MULTIPROC_DIR_ENV)
    if path:
        _multiprocess.mark_process_dead(os.getpid(), path)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True
