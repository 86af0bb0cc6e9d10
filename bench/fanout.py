"""Comptoir's live path against the peers a developer would pick, on loopback.

    .venv/bin/python bench/fanout.py --quick      # under 5 minutes
    .venv/bin/python bench/fanout.py              # the full run (15,000+ sockets)

One after the other, never at the same time: (1) the fan-out layer of Comptoir (the real
/ws endpoint and hub, fed through its real Redis bus), of Starlette + broadcaster and of
Django Channels + channels-redis, under the same workload; (2) the real path, a cart change
through Comptoir's HTTP API -> PostgreSQL commit -> Redis -> every member's socket, with
1 and 2 workers. Writes bench/results/fanout.json and fanout.md, and ends with one
`RESULT …` line. bench/README.md explains the workload, the phases and every number.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

PEERS_VENV = BENCH / ".venv-peers"
RESULTS = BENCH / "results"
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = os.environ.get("BENCH_PG_DB", "comptoir_bench")
SECRET = "bench-secret-" + "x" * 32
STACKS = ("ours", "broadcaster", "channels")
P99_KNEE_MS = 50.0
clock = time.monotonic


def log(*parts: object) -> None:
    print(f"[{time.strftime('%H:%M:%S')}]", *parts, file=sys.stderr, flush=True)


# Processes and what they cost, from /proc

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def _stat(pid: int) -> tuple[int, float, int] | None:
    """(parent pid, CPU seconds, RSS KiB) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            fields = file.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return int(fields[1]), cpu, int(fields[21]) * PAGE_KIB


def tree(root: int) -> list[int]:
    """The process and all its descendants (uvicorn's workers)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat:
                parents.setdefault(stat[0], []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(parents.get(pid, []))
    return out


def usage(pids: list[int]) -> tuple[float, int]:
    """CPU seconds and RSS KiB summed over processes."""
    cpu, rss = 0.0, 0
    for pid in pids:
        stat = _stat(pid)
        if stat:
            cpu += stat[1]
            rss += stat[2]
    return cpu, rss


def postgres_pids() -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as file:
                    if file.read().strip() == "postgres":
                        out.append(int(entry))
            except OSError:
                pass
    return out


def box_busy() -> float:
    """CPU seconds the whole box has spent busy (all processes, all cores)."""
    with open("/proc/stat") as file:
        values = [int(v) for v in file.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / CLK_TCK


class Meter:
    """CPU (in cores) of a set of processes between two readings."""

    def __init__(self, pids: Any) -> None:
        self.pids = pids  # a callable: the set may change (workers restart)
        self.reset()

    def reset(self) -> None:
        self.cpu = self._read()
        self.at = clock()

    def _read(self) -> float:
        # No set of processes: the whole box (to show what else was running meanwhile).
        return box_busy() if self.pids is None else usage(self.pids())[0]

    def cores(self) -> float:
        cpu = self._read()
        elapsed = clock() - self.at
        return round((cpu - self.cpu) / elapsed, 3) if elapsed > 0 else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_port(port: int, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = clock() + seconds
    while clock() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Redis:
    """A private redis-server on its own port, so that killing it disturbs nobody."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        await wait_port(self.port, self.process)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def pids(self) -> list[int]:
        return [self.process.pid] if self.process else []


# The bench database


async def fresh_database(tables: int) -> dict[str, Any]:
    """Create (again) the bench database, migrate it, seed the venue with `tables` tables."""
    import asyncpg
    from sqlalchemy import select

    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{PG_DB}"')
    finally:
        await admin.close()
    url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{url}/{PG_DB}"
    from db.migrate import upgrade

    await asyncio.to_thread(upgrade, url)
    from accounts.models import Site, Staff
    from db.engine import make_engine, make_sessionmaker
    from demo.seed import seed
    from ordering.models import DiningTable, Product

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            venue = await seed(session, tables=tables)
            site = await session.get(Site, venue.site_id)
            assert site is not None
            admin_staff = await session.scalar(
                select(Staff).where(Staff.company_id == site.company_id, Staff.role == "admin")
            )
            assert admin_staff is not None
            rows = (await session.execute(
                select(DiningTable.id, DiningTable.token)
                .where(DiningTable.site_id == site.id).order_by(DiningTable.id)
            )).all()
            products = list(await session.scalars(
                select(Product.id).where(Product.site_id == site.id, Product.available)
            ))
            return {"url": url, "site_id": site.id, "company_id": site.company_id,
                    "staff_id": admin_staff.id, "tables": [(r.id, r.token) for r in rows],
                    "products": products}
    finally:
        await engine.dispose()


async def drop_database() -> None:
    import asyncpg

    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
    finally:
        await admin.close()


def cookie(session: dict[str, Any]) -> str:
    """A session cookie as Starlette's SessionMiddleware signs it (the bench knows the key)."""
    from itsdangerous import TimestampSigner

    data = base64.b64encode(json.dumps(session).encode())
    return TimestampSigner(SECRET).sign(data).decode()


# Servers


def peers_python() -> Path:
    python = PEERS_VENV / "bin" / "python"
    stamp = PEERS_VENV / ".installed"
    requirements = BENCH / "requirements.txt"
    if not stamp.exists() or stamp.read_text() != requirements.read_text():
        log("installing the peers into", PEERS_VENV)
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(requirements)],
                       check=True)
        stamp.write_text(requirements.read_text())
    return python


def versions() -> dict[str, str]:
    from importlib.metadata import version

    ours = {name: version(name) for name in
            ("starlette", "uvicorn", "websockets", "redis", "hiredis", "sqlalchemy", "asyncpg",
             "uvloop")}
    out = {f"comptoir:{k}": v for k, v in ours.items()}
    python = PEERS_VENV / "bin" / "python"
    if python.exists():
        code = ("import json; from importlib.metadata import version as v; print(json.dumps("
                "{n: v(n) for n in ['starlette','uvicorn','broadcaster','django','channels',"
                "'channels-redis','daphne','redis','hiredis','websockets','uvloop']}))")
        peers = json.loads(subprocess.run([str(python), "-c", code], capture_output=True,
                                          text=True, check=True).stdout)
        out.update({f"peers:{k}": v for k, v in peers.items()})
    out["python"] = platform.python_version()
    redis = subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
    out["redis-server"] = redis.stdout.split()[2].removeprefix("v=") if redis.stdout else "?"
    psql = subprocess.run(["psql", "--version"], capture_output=True, text=True)
    out["postgresql"] = psql.stdout.split()[2] if psql.stdout else "?"
    return out


@dataclass
class Server:
    stack: str
    port: int
    process: subprocess.Popen[bytes]
    stderr: Path

    def pids(self) -> list[int]:
        return tree(self.process.pid) if self.process.poll() is None else []


async def start_server(stack: str, workers: int, redis_url: str, db_url: str) -> Server:
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "SECRET_KEY": SECRET,
           "DATABASE_URL": db_url, "PUBLIC_URL": f"http://127.0.0.1:{port}",
           "PYTHONPATH": str(ROOT)}
    uvicorn_flags = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                     "--ws", "websockets-sansio", "--loop", "uvloop", "--http", "httptools",
                     "--log-level", "warning"]
    if stack == "ours":
        command = [sys.executable, "-m", "comptoir_cli", "serve", "--port", str(port),
                   "--workers", str(workers)]
    elif stack == "broadcaster":
        command = [str(peers_python()), "-m", "uvicorn", "--factory",
                   "bench.peers.broadcaster_app:create_app", *uvicorn_flags]
    elif stack == "channels":
        command = [str(peers_python()), "-m", "uvicorn",
                   "bench.peers.channels_site.asgi:application", *uvicorn_flags]
    else:
        raise ValueError(stack)
    errors = RESULTS / f"server-{stack}.log"
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=errors.open("wb"))
    await wait_port(port, process)
    if stack == "ours":  # the lifespan (bus subscription) runs before the port opens
        await asyncio.sleep(0.3)
    return Server(stack, port, process, errors)


# Profiles


def py_spy() -> str | None:
    found = PEERS_VENV / "bin" / "py-spy"
    return str(found) if found.exists() else shutil.which("py-spy")


def start_profile(
    pids: list[int], seconds: float, name: str
) -> list[tuple[subprocess.Popen[bytes], Path]]:
    """py-spy on each server process (the leaves: uvicorn's workers, not its supervisor)."""
    tool = py_spy()
    if tool is None:
        return []
    leaves = [pid for pid in pids if not any(_stat(p) and _stat(p)[0] == pid for p in pids)]  # type: ignore[index]
    out = []
    for pid in leaves:
        path = RESULTS / f"profile-{name}-{pid}.collapsed"
        process = subprocess.Popen(
            [tool, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "250",
             "--format", "raw", "--nonblocking", "--output", str(path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out.append((process, path))
    return out


def finish_profile(running: list[tuple[subprocess.Popen[bytes], Path]], name: str,
                   top: int = 25) -> dict[str, Any] | None:
    """Self and inclusive time of the busiest functions, from py-spy's collapsed stacks."""
    if not running:
        return None
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for process, path in running:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not count_text.isdigit():
                continue
            count = int(count_text)
            frames = [_short(f) for f in stack.split(";")]
            total += count
            if frames:
                own[frames[-1]] = own.get(frames[-1], 0) + count
            for frame in set(frames):
                inclusive[frame] = inclusive.get(frame, 0) + count
        target = RESULTS / f"profile-{name}.collapsed"
        path.replace(target)
    if not total:
        return None

    def best(table: dict[str, int]) -> list[tuple[str, float]]:
        ranked = sorted(table.items(), key=lambda item: -item[1])[:top]
        return [(frame, round(100 * count / total, 1)) for frame, count in ranked]

    summary = {"samples": total, "self_pct": best(own), "inclusive_pct": best(inclusive)}
    (RESULTS / f"profile-{name}.txt").write_text(
        f"py-spy, {total} samples (idle excluded)\n\nself %\n"
        + "".join(f"{pct:6.1f}  {frame}\n" for frame, pct in summary["self_pct"])
        + "\ninclusive %\n"
        + "".join(f"{pct:6.1f}  {frame}\n" for frame, pct in summary["inclusive_pct"])
    )
    return summary


def _short(frame: str) -> str:
    """`send (uvicorn/protocols/websockets/websockets_sansio_impl.py:456)` -> without line."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", str(ROOT) + "/", "lib/python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})"


# Child processes that speak JSON lines


class Child:
    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT),
                           "DJANGO_SETTINGS_MODULE": "bench.peers.channels_site.settings"},
            limit=2**24,
        )

    async def ask(self, cmd: str, **args: Any) -> dict[str, Any]:
        assert self.process and self.process.stdin and self.process.stdout
        self.process.stdin.write((json.dumps({"cmd": cmd, **args}) + "\n").encode())
        await self.process.stdin.drain()
        line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.argv[:3]} exited")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"{cmd}: {answer['error']}")
        return answer

    def pid(self) -> int | None:
        return self.process.pid if self.process and self.process.returncode is None else None

    async def close(self) -> None:
        if self.process and self.process.returncode is None:
            with contextlib.suppress(Exception):
                assert self.process.stdin
                self.process.stdin.write(b'{"cmd": "exit"}\n')
                await self.process.stdin.drain()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


# Latency histograms that merge across processes


def merge_latency(parts: list[dict[str, Any]]) -> dict[str, float]:
    """Percentiles over several processes: each reports its own, weighted by count.

    With one socket process (the default) these are exact; with several, the p50/p99 of
    the union is approximated by the count-weighted mean and the max by the max.
    """
    parts = [p for p in parts if p.get("count")]
    if not parts:
        return {"count": 0}
    total = sum(p["count"] for p in parts)
    out: dict[str, float] = {"count": total}
    for key in ("p50", "p90", "p99", "p999"):
        out[key] = round(sum(p[key] * p["count"] for p in parts) / total, 3)
    out["max"] = max(p["max"] for p in parts)
    return out


# The fan-out level


@dataclass
class Workload:
    tables: int
    phones: int
    pos_every: int = 20
    message_bytes: int = 1024

    @property
    def sockets(self) -> int:
        return self.tables * self.phones + -(-self.tables // self.pos_every)

    def per_event(self) -> int:
        return self.phones + 1  # the table's phones and its POS


@dataclass
class FanoutRun:
    stack: str
    workload: Workload
    results: dict[str, Any] = field(default_factory=dict)


VENUE = "menu:{site}"


def build_specs(stack: str, workload: Workload, venue: dict[str, Any]) -> tuple[
    list[dict[str, Any]], dict[str, Any]
]:
    """Who opens which socket, watching what; and the view each published event carries."""
    from web.security import device_key

    site = venue["site_id"]
    tables = [f"table:{table_id}" for table_id, _ in venue["tables"][: workload.tables]]
    venue_topic = VENUE.format(site=site)
    specs: list[dict[str, Any]] = []
    views: dict[str, str] = {}
    staff = cookie({"device": uuid.uuid4().hex, "csrf": "x", "staff_id": venue["staff_id"]})
    for index, topic in enumerate(tables):
        members = []
        for phone in range(workload.phones):
            device = uuid.uuid4().hex + uuid.uuid4().hex
            members.append({"id": index * 10 + phone, "name": f"Diner {phone + 1}",
                            "key": device_key(SECRET, device)})
            specs.append({"cookie": cookie({"device": device, "csrf": "x"}),
                          "topics": [topic, venue_topic]})
        if index % workload.pos_every == 0:
            specs.append({"cookie": staff,
                          "topics": tables[index : index + workload.pos_every] + [venue_topic]})
        view = {"table": {"id": int(topic.split(":")[1]), "label": f"Table {index + 1}",
                          "site_id": site, "company_id": venue["company_id"], "mode": "order",
                          "state": "open"},
                "currency": "EUR", "session": {"status": "open", "members": members}}
        views[topic] = json.dumps(view, separators=(",", ":"))[1:-1]
    views[venue_topic] = f'"site_id":{site},"machines":[{{"id":1,"online":true,"busy":false}}]'
    # Pad every view so that each message weighs about `message_bytes`.
    for topic, text in views.items():
        envelope = 190 + len(topic)
        missing = workload.message_bytes - envelope - len(text)
        if missing > 10:
            views[topic] = text + ',"pad":"' + "x" * (missing - 9) + '"'
    if stack != "ours":
        for spec in specs:
            spec.pop("cookie")
    return specs, {"tables": tables, "venue": venue_topic, "views": views}


class Fanout:
    """One stack under the workload, phase after phase."""

    def __init__(self, stack: str, args: argparse.Namespace, venue: dict[str, Any],
                 redis: Redis, hold_only: bool = False) -> None:
        self.stack = stack
        self.args = args
        self.venue = venue
        self.redis = redis
        self.hold_only = hold_only
        tables = args.hold_tables if hold_only else args.tables
        self.workload = Workload(tables, args.phones, message_bytes=args.message_bytes)
        self.server: Server | None = None
        self.sockets: list[Child] = []
        self.publisher: Child | None = None
        self.step_no = 0
        self.out: dict[str, Any] = {"stack": stack, "workers": args.workers,
                                    "sockets": self.workload.sockets,
                                    "tables": tables, "phones": args.phones,
                                    "message_bytes": args.message_bytes}

    def gen_pids(self) -> list[int]:
        pids = [c.pid() for c in [*self.sockets, self.publisher] if c is not None]
        return [p for p in pids if p]

    async def run(self) -> dict[str, Any]:
        self.server = await start_server(self.stack, self.args.workers, self.redis.url,
                                         self.venue["url"])
        try:
            await self._phases()
        finally:
            for child in [*self.sockets, self.publisher]:
                if child:
                    with contextlib.suppress(Exception):
                        await child.ask("close") if child in self.sockets else None
                    await child.close()
            stop(self.server.process)
            await asyncio.sleep(1)  # let sockets and ports settle before the next stack
        return self.out

    async def _phases(self) -> None:
        assert self.server is not None
        specs, topics = build_specs(self.stack, self.workload, self.venue)
        n = self.args.socket_processes
        python = sys.executable if self.stack == "ours" else str(peers_python())
        for part in range(n):
            path = RESULTS / f".specs-{part}.json"
            path.write_text(json.dumps(specs[part::n]))
            child = Child([sys.executable, str(BENCH / "loadgen.py"), "sockets", "127.0.0.1",
                           str(self.server.port), "/ws?format=json", str(path)])
            await child.start()
            self.sockets.append(child)
        topics_path = RESULTS / ".topics.json"
        topics_path.write_text(json.dumps(topics))
        self.publisher = Child([python, str(BENCH / "loadgen.py"), "publish", self.stack,
                                self.redis.url, str(topics_path)])
        await self.publisher.start()
        self.tables = topics["tables"]
        self.venue_topic = topics["venue"]

        await self.ramp()
        if self.out["ramp"]["connected"] < self.workload.sockets:
            log(self.stack, "could not open every socket:", self.out["ramp"])
        if self.hold_only:  # many sockets, low rate: garbage-collector stalls show here
            self.out["hold"] = await self.step(
                self.workload.sockets * 1.0 + 2000.0, self.args.hold_seconds, "hold",
                venue_hz=1.0, profile=self.args.profile)
            return
        knee = await self.steps()
        half = max(knee / 2, 1000.0)
        self.out["half_knee"] = await self.step(half, self.args.step_seconds * 1.5, "half knee")
        if self.args.profile:
            self.out["profile_at_knee"] = await self.step(
                max(knee, self.args.start_rate), self.args.step_seconds * 2, "profile",
                profile=True)
        await self.stall(half)
        await self.restart_redis(min(half, 5000.0))
        if self.args.hold_seconds:
            self.out["hold"] = await self.step(
                min(2000.0, half), self.args.hold_seconds, "hold", venue_hz=1.0
            )

    async def ramp(self) -> None:
        assert self.server is not None
        _, rss_before = usage(self.server.pids())
        meter = Meter(self.server.pids)
        gen = Meter(self.gen_pids)
        started = clock()
        answers = await asyncio.gather(*(c.ask("connect", concurrency=self.args.concurrency)
                                         for c in self.sockets))
        elapsed = clock() - started
        await asyncio.sleep(1)
        _, rss_after = usage(self.server.pids())
        connected = sum(a["connected"] for a in answers)
        self.out["ramp"] = {
            "connected": connected, "failed": sum(a["failed"] for a in answers),
            "failures": [f for a in answers for f in a["failures"]][:5],
            "seconds": round(elapsed, 2),
            "handshakes_per_s": round(connected / elapsed, 1) if elapsed else None,
            "server_rss_mib": round(rss_after / 1024, 1),
            "rss_kib_per_socket": round((rss_after - rss_before) / max(connected, 1), 1),
            "server_cpu": meter.cores(), "generator_cpu": gen.cores(),
        }
        log(self.stack, "ramp", self.out["ramp"])

    async def step(self, notifies: float, seconds: float, label: str,
                   venue_hz: float = 1.0, profile: bool = False) -> dict[str, Any]:
        """Publish for `seconds` at a rate that makes `notifies` deliveries per second."""
        assert self.publisher is not None and self.server is not None
        profiling = (start_profile(self.server.pids(), seconds, f"{self.stack}-{label}")
                     if profile else [])
        self.step_no += 1
        sockets = self.workload.sockets
        rate = max((notifies - venue_hz * sockets) / self.workload.per_event(), 1.0)
        server, gen = Meter(self.server.pids), Meter(self.gen_pids)
        redis, box, me = Meter(self.redis.pids), Meter(None), Meter(lambda: [os.getpid()])
        before = usage(self.server.pids())[1]
        sent = await self.publisher.ask("run", step=self.step_no, rate=rate, seconds=seconds,
                                        venue_hz=venue_hz)
        server_cpu, gen_cpu, redis_cpu = server.cores(), gen.cores(), redis.cores()
        other_cpu = round(box.cores() - server_cpu - gen_cpu - redis_cpu - me.cores(), 3)
        rss = usage(self.server.pids())[1]
        await asyncio.sleep(self.args.drain)
        summary = finish_profile(profiling, f"{self.stack}-{label.replace(' ', '-')}")
        reports = await asyncio.gather(*(c.ask("report", step=self.step_no,
                                               published=sent["published"])
                                         for c in self.sockets))
        received = sum(r["received"] for r in reports)
        expected = sum(r["expected"] for r in reports)
        latency = merge_latency([r["latency_ms"] for r in reports])
        out = {
            "label": label, "target_notifies_per_s": round(notifies),
            "events_per_s": round(sent["total"] / seconds, 1),
            "notifies_per_s": round(received / seconds, 1),
            "delivery": round(received / expected, 5) if expected else None,
            "received": received, "expected": expected,
            "gaps": sum(r["gaps"] for r in reports),
            "duplicates": sum(r["duplicates"] for r in reports),
            "reordered": sum(r["reordered"] for r in reports),
            "latency_ms": latency,
            "server_cpu": server_cpu, "generator_cpu": gen_cpu, "redis_cpu": redis_cpu,
            "other_cpu": other_cpu,
            "server_rss_mib": round(max(before, rss) / 1024, 1),
            "publisher_late_max_ms": sent["late_max_ms"],
            "publish_failed": sent["failed"],
            "open_sockets": sum(r["open"] for r in reports),
            "closed": _merge_counts([r["closed_codes"] for r in reports]),
            "resyncs": sum(r["resyncs"] for r in reports),
            "errors": sum(r["errors"] for r in reports),
            "short_sockets": [x for r in reports for x in r["short"]][:5],
        }
        if summary:
            out["profile"] = summary
        self.worst_other = max(getattr(self, "worst_other", 0.0), other_cpu)
        self.out["other_cpu_max"] = self.worst_other
        log(self.stack, label, f"{out['notifies_per_s']:.0f}/s", "delivery", out["delivery"],
            "p50", latency.get("p50"), "p99", latency.get("p99"), "max", latency.get("max"),
            "cpu srv", server_cpu, "gen", gen_cpu, "other", other_cpu)
        return out

    async def steps(self) -> float:
        """Raise the rate until p99 > 50 ms or delivery < 100 %: the knee."""
        knee, knee10 = 0.0, 0.0
        # The venue event alone makes one notify per socket per second: start above it.
        rate = max(self.args.start_rate, 1.25 * self.workload.sockets)
        steps = []
        knee_found = False
        for _ in range(self.args.max_steps):
            result = await self.step(rate, self.args.step_seconds, "step")
            steps.append(result)
            p99 = result["latency_ms"].get("p99", float("inf"))
            ok = result["delivery"] == 1.0 and result["gaps"] == 0 and p99 <= P99_KNEE_MS
            if not ok:
                knee_found = True
            if not knee_found:
                knee = max(knee, result["notifies_per_s"])
                if p99 <= 10.0:
                    knee10 = max(knee10, result["notifies_per_s"])
            if p99 > P99_KNEE_MS:
                break  # past the knee, steps go on only while latency holds (losses allowed)
            rate *= self.args.step_factor
        else:
            log(self.stack, "no knee found below the last step: raise --max-steps")
        self.out["steps"] = steps
        self.out["knee_notifies_per_s"] = knee
        # What a stack carries at p99 <= 50 ms when its losses are not held against it.
        self.out["best_p99_50ms_any_delivery"] = max(
            (s["notifies_per_s"] for s in steps
             if s["latency_ms"].get("p99", float("inf")) <= P99_KNEE_MS), default=0.0)
        self.out["knee_p99_10ms_notifies_per_s"] = knee10
        self.out["knee_server_cpu"] = next(
            (s["server_cpu"] for s in steps if s["notifies_per_s"] == knee), None)
        await asyncio.sleep(2)  # let a backlog from the failed step clear
        return knee

    async def stall(self, notifies: float) -> None:
        """1 % of sockets stop reading; the others must not notice."""
        answers = await asyncio.gather(*(c.ask("stall", every=100) for c in self.sockets))
        stalled = sum(a["stalled"] for a in answers)
        result = await self.step(notifies, self.args.step_seconds * 2, "stall 1%")
        result["stalled_sockets"] = stalled
        self.out["stall"] = result

    async def restart_redis(self, notifies: float) -> None:
        """Kill Redis mid-run, start it again 1 s later: when does every socket hear again?"""
        assert self.publisher is not None
        seconds = 6.0
        self.step_no += 1
        step_no = self.step_no
        rate = max((notifies - 10 * self.workload.sockets) / self.workload.per_event(), 1.0)
        task = asyncio.create_task(self.publisher.ask(
            "run", step=step_no, rate=rate, seconds=seconds, venue_hz=10.0))
        await asyncio.sleep(1.5)
        self.redis.kill()
        down_at = clock()
        await asyncio.sleep(1.0)
        await self.redis.start()
        up_at = clock()
        await asyncio.gather(*(c.ask("mark", at=up_at) for c in self.sockets))
        sent = await task
        await asyncio.sleep(self.args.drain + 1)
        conv = await asyncio.gather(*(c.ask("converged") for c in self.sockets))
        reports = await asyncio.gather(*(c.ask("report", step=step_no,
                                               published=sent["published"])
                                         for c in self.sockets))
        resumed = sum(c["resumed"] for c in conv)
        live = sum(c["sockets"] for c in conv)
        times = [c["max_s"] for c in conv if c["max_s"] is not None]
        received = sum(r["received"] for r in reports)
        expected = sum(r["expected"] for r in reports)
        self.out["redis_restart"] = {
            "down_s": round(up_at - down_at, 2), "live_sockets": live,
            "sockets_resumed": resumed,
            "all_resumed_within_s": max(times) if times and resumed == live else None,
            "delivery": round(received / expected, 4) if expected else None,
            "publish_failed": sent["failed"],
            "resync_notices": sum(c["resyncs"] for c in conv),
        }
        log(self.stack, "redis restart", self.out["redis_restart"])


def _merge_counts(parts: list[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in parts:
        for key, value in part.items():
            out[key] = out.get(key, 0) + value
    return out


# The real path


@dataclass
class Member:
    table: int  # index
    token: str
    cookie: str
    lines: list[int] = field(default_factory=list)
    busy: bool = False


@dataclass
class Op:
    kind: str  # add | remove
    table: int
    scheduled: float
    line: int | None = None
    status: int = 0
    done: float = 0.0


LINE = re.compile(rb'data-line=\\"(\d+)\\"')
EVENT = re.compile(rb'"topic":"([^"]+)","version":(\d+)')


class Phone(asyncio.Protocol):
    """A member's page socket (format=html, what live.js gets), following docs/realtime.md:
    versions per topic, resync on a gap or a notice, snapshots on a timer while the bus is
    down. Records when each cart line first shows and when it goes."""

    def __init__(self, real: RealPath, member: Member, topic: str) -> None:
        self.real = real
        self.member = member
        self.topic = topic
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.open = False
        self.ready = asyncio.get_running_loop().create_future()
        self.version = -1
        self.lines: set[int] = set()
        self.seen: dict[int, float] = {}
        self.gone: dict[int, float] = {}
        self.gaps = 0
        self.resyncs = 0
        self.bus_down = False
        self.messages = 0
        self.reconnects = 0
        self.history: list[tuple[float, int]] = []  # (when, version) at each change

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  (uvloop's is no subclass)
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write((
            f"GET /ws?format=html HTTP/1.1\r\nHost: 127.0.0.1:{self.real.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nCookie: comptoir={self.member.cookie}\r\n\r\n"
        ).encode())

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self.transport = None
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed"))
        elif not self.real.closing:
            # As live.js does: a socket the server closed (it fell too far behind, the
            # worker restarted) comes back after a moment and starts from a snapshot.
            self.reconnects += 1
            task = asyncio.create_task(self.reconnect())
            self.real.pending.add(task)
            task.add_done_callback(self.real.pending.discard)

    async def reconnect(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.real.closing:
            await asyncio.sleep(0.5)
            self.buffer.clear()
            self.version = -1
            try:
                await loop.create_connection(lambda: self, "127.0.0.1", self.real.port)
                return
            except OSError:
                continue

    def send(self, message: dict[str, Any]) -> None:
        payload = json.dumps(message).encode()
        n = len(payload)
        assert n < 126 and self.transport is not None
        self.transport.write(bytes([0x81, 0x80 | n]) + b"\0\0\0\0" + payload)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.open:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            ok = b" 101 " in bytes(buffer[:end])
            del buffer[: end + 4]
            if not ok:
                assert self.transport is not None
                self.transport.close()
                return
            self.open = True
            self.send({"type": "subscribe", "topics": [self.topic]})
        pos, size = 0, len(buffer)
        while size - pos >= 2:
            length = buffer[pos + 1] & 0x7F
            start = pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length, start = int.from_bytes(buffer[pos + 2 : pos + 4], "big"), pos + 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, start = int.from_bytes(buffer[pos + 2 : pos + 10], "big"), pos + 10
            if start + length > size:
                break
            if buffer[pos] & 0x0F == 1:
                self.on_text(bytes(buffer[start : start + length]))
            pos = start + length
        if pos:
            del buffer[:pos]

    def on_text(self, text: bytes) -> None:
        now = clock()
        self.messages += 1
        kind = text[9:14] if text[8] == 34 else text[10:15]
        if kind == b"resyn":
            self.resyncs += 1
            self.bus_down = b'"down"' in text
            self.send({"type": "resync", "topics": [self.topic]})
            return
        match = EVENT.search(text, 0, 200)
        if match is None:
            return
        version = int(match.group(2))
        if kind == b"snaps":
            self.version = version
            self.history.append((now, version))
            self.apply(text, now)
            if not self.ready.done():
                self.ready.set_result(None)
        elif kind == b"event":
            if version <= self.version:
                return
            if version > self.version + 1:  # missed one: fetch a snapshot
                self.gaps += 1
                self.send({"type": "resync", "topics": [self.topic]})
                return
            self.version = version
            self.history.append((now, version))
            self.apply(text, now)

    def apply(self, text: bytes, now: float) -> None:
        lines = {int(m) for m in LINE.findall(text)}
        for line in lines - self.lines:
            self.seen.setdefault(line, now)
        for line in self.lines - lines:
            self.gone.setdefault(line, now)
        self.lines = lines

    async def poll_while_down(self) -> None:
        while not self.real.closing:
            await asyncio.sleep(3.0)  # live.js polls every 3 s while the bus is down
            if self.bus_down and self.open:
                self.send({"type": "resync", "topics": [self.topic]})


class HttpPool:
    """Keep-alive HTTP/1.1 connections for the cart requests, opened as needed.

    A connection idle for longer than the server keeps it (uvicorn: 5 s) is closed
    rather than reused, as HTTP clients do (httpx's keep-alive expiry), so a request is
    never written to a connection the server is closing.
    """

    KEEP_ALIVE_S = 4.0

    def __init__(self, port: int, size: int) -> None:
        self.port = port
        self.size = size
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.count = 0
        self.freed = asyncio.Condition()

    async def request(self, method: str, path: str, cookie_value: str,
                      body: bytes = b"") -> tuple[int, bytes]:
        reader, writer = await self._take()
        try:
            writer.write(
                f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                f"Cookie: comptoir={cookie_value}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode() + body
            )
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            data = await reader.readexactly(length)
        except Exception:
            await self._drop(writer)
            raise
        self.idle.append((reader, writer, clock()))
        async with self.freed:
            self.freed.notify()
        return status, data

    async def _drop(self, writer: asyncio.StreamWriter) -> None:
        writer.close()
        self.count -= 1
        async with self.freed:
            self.freed.notify()

    async def _take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while True:
            while self.idle:
                reader, writer, since = self.idle.pop()
                if clock() - since < self.KEEP_ALIVE_S:
                    return reader, writer
                await self._drop(writer)
            if self.count < self.size:
                self.count += 1
                try:
                    return await asyncio.open_connection("127.0.0.1", self.port)
                except Exception:
                    self.count -= 1
                    raise
            async with self.freed:
                await self.freed.wait()

    def close(self) -> None:
        for _, writer, _since in self.idle:
            writer.close()


class RealPath:
    """Cart changes through the API, open-loop; latency until the last member saw it."""

    def __init__(self, args: argparse.Namespace, workers: int, redis: Redis) -> None:
        self.args = args
        self.workers = workers
        self.redis = redis
        self.port = 0
        self.members: list[list[Member]] = []
        self.phones: list[list[Phone]] = []
        self.ops: list[Op] = []
        self.products: list[int] = []
        self.pending: set[asyncio.Task[None]] = set()
        self.knee = 0.0
        self.capacity = 0.0
        self.closing = False

    async def run(self) -> dict[str, Any]:
        tables = self.args.real_tables
        venue = await fresh_database(tables)
        self.products = venue["products"]
        server = await start_server("ours", self.workers, self.redis.url, venue["url"])
        self.server = server
        self.port = server.port
        out: dict[str, Any] = {"workers": self.workers, "tables": tables,
                               "phones": self.args.phones}
        self.http = HttpPool(self.port, self.args.http_connections)
        try:
            await self.setup(venue["tables"][:tables])
            out["steps"], out["knee_ops_per_s"] = await self.steps()
            out["capacity_ops_per_s_p99_under_1s"] = self.capacity
            self.knee = out["knee_ops_per_s"]
            if self.args.profile:
                knee = out["knee_ops_per_s"] or self.args.real_start_rate
                out["profile_at_knee"] = await self.step(
                    knee, self.args.real_step_seconds * 2, "profile", profile=True)
            if self.workers == 1 or self.args.restart_both:
                out["redis_restart"] = await self.restart_redis()
        finally:
            self.closing = True
            for row in self.phones:
                for phone in row:
                    if phone.transport:
                        phone.transport.close()
            self.http.close()
            stop(server.process)
            await asyncio.sleep(1)
        return out

    async def setup(self, tables: list[tuple[int, str]]) -> None:
        import httpx

        base = f"http://127.0.0.1:{self.port}"
        gate = asyncio.Semaphore(16)

        async def table(index: int, token: str) -> list[Member]:
            async with gate:
                members = []
                pin = ""
                for phone in range(self.args.phones):
                    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                        (await http.get(f"/api/v1/tables/{token}")).raise_for_status()
                        if phone == 0:
                            reply = await http.post(f"/api/v1/tables/{token}/start",
                                                    json={"name": "Diner 1"})
                            reply.raise_for_status()
                            pin = reply.json()["pin"]
                        else:
                            (await http.post(f"/api/v1/tables/{token}/join",
                                             json={"name": f"Diner {phone + 1}", "pin": pin})
                             ).raise_for_status()
                        members.append(Member(index, token, http.cookies["comptoir"]))
                return members

        started = clock()
        self.members = list(await asyncio.gather(*(table(i, token)
                                                   for i, (_, token) in enumerate(tables))))
        loop = asyncio.get_running_loop()
        self.phones = []
        for (table_id, _), members in zip(tables, self.members, strict=True):
            row = []
            for member in members:
                phone = Phone(self, member, f"table:{table_id}")
                await loop.create_connection(lambda p=phone: p, "127.0.0.1", self.port)
                row.append(phone)
            self.phones.append(row)
        await asyncio.gather(*(p.ready for row in self.phones for p in row))
        for row in self.phones:
            for phone in row:
                task = asyncio.create_task(phone.poll_while_down())
                self.pending.add(task)
                task.add_done_callback(self.pending.discard)
        log("real path", f"{self.workers} worker(s):", len(tables), "tables,",
            sum(len(r) for r in self.phones), "member sockets ready in",
            f"{clock() - started:.1f}s")

    async def one(self, op: Op) -> None:
        member = self.members[op.table][random.randrange(self.args.phones)]
        token = member.token
        try:
            if op.kind == "remove" and member.lines and not member.busy:
                member.busy = True
                op.line = member.lines.pop(0)
                status, _ = await self.http.request(
                    "DELETE", f"/api/v1/tables/{token}/cart/lines/{op.line}", member.cookie)
                member.busy = False
            else:
                op.kind = "add"
                body = json.dumps({"client_id": uuid.uuid4().hex,
                                   "product_id": random.choice(self.products),
                                   "quantity": 1}).encode()
                status, data = await self.http.request(
                    "POST", f"/api/v1/tables/{token}/cart/lines", member.cookie, body)
                if status == 201:
                    op.line = json.loads(data)["line"]["id"]
                    member.lines.append(op.line)
            op.status = status
        except Exception:
            op.status = -1
        op.done = clock()

    async def step(self, rate: float, seconds: float, label: str,
                   profile: bool = False) -> dict[str, Any]:
        name = f"real-{self.workers}w-{label.replace(' ', '-')}"
        profiling = start_profile(self.server.pids(), seconds, name) if profile else []
        server = Meter(self.server.pids)
        pg = Meter(postgres_pids)
        redis = Meter(self.redis.pids)
        box = Meter(None)
        cpu0 = _self_cpu()
        ops: list[Op] = []
        start = clock()
        end = start + seconds
        due = start + random.expovariate(rate)
        tables = len(self.members)
        while due < end:
            now = clock()
            if due > now:
                await asyncio.sleep(due - now)
            while due <= clock() and due < end:
                op = Op("remove" if random.random() < 0.4 else "add",
                        random.randrange(tables), due)
                ops.append(op)
                task = asyncio.create_task(self.one(op))
                self.pending.add(task)
                task.add_done_callback(self.pending.discard)
                due += random.expovariate(rate)
        server_cpu, pg_cpu, redis_cpu = server.cores(), pg.cores(), redis.cores()
        gen_cpu = round((_self_cpu() - cpu0) / (clock() - start), 3)
        other_cpu = round(box.cores() - server_cpu - pg_cpu - redis_cpu - gen_cpu, 3)
        deadline = clock() + 15
        while any(op.done == 0 for op in ops) and clock() < deadline:
            await asyncio.sleep(0.05)
        await self.settle()
        result = self.measure(ops, seconds)
        summary = finish_profile(profiling, name)
        if summary:
            result["profile"] = summary
        result.update(label=label, target_ops_per_s=round(rate, 1), server_cpu=server_cpu,
                      postgres_cpu=pg_cpu, redis_cpu=redis_cpu, generator_cpu=gen_cpu,
                      other_cpu=other_cpu)
        lat = result["latency_ms"]
        log(f"real path w={self.workers}", label, f"{result['ops_per_s']:.0f} ops/s",
            "notified", result["notified"], "p50", lat.get("p50"), "p99", lat.get("p99"),
            "cpu srv", server_cpu, "pg", pg_cpu, "gen", gen_cpu, "other", other_cpu)
        return result

    def measure(self, ops: list[Op], seconds: float) -> dict[str, Any]:
        latencies: list[float] = []
        ok = [op for op in ops if op.status in (200, 201) and op.line is not None]
        missed = 0
        for op in ok:
            phones = self.phones[op.table]
            times = [(p.seen if op.kind == "add" else p.gone).get(op.line)  # type: ignore[arg-type]
                     for p in phones]
            if any(t is None for t in times):
                # A line added then removed between two snapshots is legitimately never
                # seen by a phone that resynced meanwhile; anything else is a miss.
                missed += 1
                continue
            latencies.append((max(times) - op.scheduled) * 1000)  # type: ignore[type-var]
        from bench.loadgen import percentiles

        failed = [op.status for op in ops if op.status not in (200, 201)]
        return {
            "ops": len(ops), "ops_per_s": round(len(ok) / seconds, 1),
            "failed": len(failed), "failed_statuses": _count(failed),
            "notified": round(len(latencies) / len(ok), 5) if ok else None,
            "missed": missed,
            "latency_ms": percentiles(latencies),
            "request_ms": percentiles([(op.done - op.scheduled) * 1000 for op in ok]),
            "gaps": sum(p.gaps for row in self.phones for p in row),
        }

    async def steps(self) -> tuple[list[dict[str, Any]], float]:
        """The knee (p99 <= 50 ms, every member notified); steps go on while p99 <= 1 s and
        the server keeps up, to show what the path carries at all (the capacity)."""
        steps, knee, past = [], 0.0, False
        rate = self.args.real_start_rate
        for _ in range(self.args.real_max_steps):
            result = await self.step(rate, self.args.real_step_seconds, "step")
            steps.append(result)
            p99 = result["latency_ms"].get("p99", float("inf"))
            if result["failed"] or result["notified"] != 1.0 or p99 > P99_KNEE_MS:
                past = True
            if not past:
                knee = max(knee, result["ops_per_s"])
            if p99 > 1000 or result["failed"]:
                break
            rate *= self.args.step_factor
        self.capacity = max((s["ops_per_s"] for s in steps
                             if s["latency_ms"].get("p99", float("inf")) <= 1000), default=0.0)
        await asyncio.sleep(2)
        return steps, knee

    async def restart_redis(self) -> dict[str, Any]:
        """Changes keep committing while Redis is away; every phone must catch up."""
        await self.settle()  # start from phones that hold the database's versions
        rate = max(self.args.real_start_rate, 0.5 * (self.knee or 0))
        task = asyncio.create_task(self.step(rate, 5.0, "redis restart"))
        await asyncio.sleep(1.5)
        self.redis.kill()
        await asyncio.sleep(1.0)
        await self.redis.start()
        up = clock()
        # What was committed by the time Redis is back: every phone must get to it.
        truth = await self.db_versions()
        step = await task
        deadline = clock() + 30
        while clock() < deadline:
            if all(p.version >= truth[p.topic] for row in self.phones for p in row):
                break
            await asyncio.sleep(0.05)
        reached = []
        for row in self.phones:
            for phone in row:
                when = next((t for t, v in phone.history if t >= up and v >= truth[phone.topic]),
                            None)
                if when is None and phone.version >= truth[phone.topic]:
                    when = up  # already there: nothing was missed
                reached.append(when)
        lagging = sum(1 for when in reached if when is None)
        # No committed change lost: once every phone holds its topic's latest version, its
        # cart is exactly what the database holds.
        await self.settle()
        carts = await self.db_carts()
        wrong = sum(1 for row in self.phones for p in row if p.lines != carts[p.topic])
        return {
            "ops_during": step["ops"], "ops_failed": step["failed"],
            "converged_within_s": (round(max(reached) - up, 3)  # type: ignore[type-var]
                                   if not lagging else None),
            "lagging_phones": lagging, "phones_with_wrong_cart": wrong,
            "resync_notices": sum(p.resyncs for row in self.phones for p in row),
            "reconnects": sum(p.reconnects for row in self.phones for p in row),
            "note": "from Redis accepting connections again until every phone holds the "
                    "version its topic had in the database at that moment",
        }

    async def settle(self, seconds: float = 20.0) -> None:
        """Wait until every phone holds the version the database has (or give up)."""
        await asyncio.sleep(self.args.drain)
        truth = await self.db_versions()
        deadline = clock() + seconds
        while clock() < deadline:
            if all(p.version >= truth[p.topic] for row in self.phones for p in row):
                return
            await asyncio.sleep(0.1)

    async def db_versions(self) -> dict[str, int]:
        import asyncpg

        conn = await asyncpg.connect(PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_DB)
        try:
            rows = await conn.fetch("SELECT topic, version FROM topic_version")
        finally:
            await conn.close()
        found = {r["topic"]: r["version"] for r in rows}
        return {p.topic: found.get(p.topic, 0) for row in self.phones for p in row}

    async def db_carts(self) -> dict[str, set[int]]:
        import asyncpg

        conn = await asyncpg.connect(PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_DB)
        try:
            rows = await conn.fetch(
                "SELECT s.table_id, l.id FROM order_line l JOIN table_session s "
                "ON s.id = l.session_id WHERE l.round_id IS NULL AND s.status = 'open'")
        finally:
            await conn.close()
        out: dict[str, set[int]] = {p.topic: set() for row in self.phones for p in row}
        for r in rows:
            out.setdefault(f"table:{r['table_id']}", set()).add(r["id"])
        return out


def _self_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _count(values: list[int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        out[str(value)] = out.get(str(value), 0) + 1
    return out


# Loopback round trip


async def loopback_rtt() -> float:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(64):
            writer.write(data)
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    times = []
    for _ in range(500):
        started = time.perf_counter()
        writer.write(b"x")
        await reader.read(64)
        times.append(time.perf_counter() - started)
    writer.close()
    server.close()
    times.sort()
    return round(times[len(times) // 2] * 1e6, 1)


# Report


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        f"Run {meta['date']}, {meta['mode']} mode, on {meta['machine']} ({meta['cores']} cores, "
        f"shared by the server, Redis, PostgreSQL and the load generator); loopback TCP round "
        f"trip {meta['loopback_rtt_us']} µs (asyncio echo, median).",
        "",
        f"**Fan-out layer**: {meta['sockets']:,} sockets ({meta['tables']} tables × "
        f"{meta['phones']} phones + 1 POS per 20 tables), ~{meta['message_bytes']} B messages, "
        f"{meta['workers']} server worker(s) for every stack, a 1 Hz event to every socket.",
        "",
        "| stack | knee: notifies/s at p99 ≤ 50 ms and 100 % | knee at p99 ≤ 10 ms | "
        "p99 ≤ 50 ms, losses allowed | server CPU at knee (cores) | half knee: p50 / p99 / "
        "p99.9 ms, delivery | 1 % stalled: others' p99 ms, delivery | Redis restart: sockets "
        "hearing again | handshakes/s | RSS KiB/socket | other load on the box (cores, max) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for stack, run in results["fanout"].items():
        if "error" in run:
            lines.append(f"| {stack} | failed: {run['error'][:80]} |" + " |" * 9)
            continue
        half = run.get("half_knee", {})
        hl = half.get("latency_ms", {})
        stall = run.get("stall", {})
        restart = run.get("redis_restart", {})
        within = restart.get("all_resumed_within_s")
        heard = (f"all {restart.get('live_sockets')} within {within} s" if within is not None
                 else f"{restart.get('sockets_resumed')} of {restart.get('live_sockets')} "
                      "open sockets, never all")
        lines.append(
            f"| {stack} | {run['knee_notifies_per_s']:,.0f} | "
            f"{run['knee_p99_10ms_notifies_per_s']:,.0f} | "
            f"{run.get('best_p99_50ms_any_delivery', 0):,.0f} | {run.get('knee_server_cpu')} | "
            f"{hl.get('p50')} / {hl.get('p99')} / {hl.get('p999')}, {half.get('delivery')} | "
            f"{stall.get('latency_ms', {}).get('p99')}, {stall.get('delivery')} | {heard} | "
            f"{run['ramp']['handshakes_per_s']} | {run['ramp']['rss_kib_per_socket']} | "
            f"{run.get('other_cpu_max')} |"
        )
    if results.get("hold"):
        lines += [
            "", "**Many sockets at a low rate** (garbage-collector stalls show as the max)", "",
            "| stack | sockets | notifies/s | p50 / p99 / p99.9 / max ms | delivery | "
            "server RSS MiB | RSS KiB/socket | handshakes/s |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for stack, run in results["hold"].items():
            if "error" in run:
                lines.append(f"| {stack} | failed: {run['error'][:80]} |" + " |" * 6)
                continue
            hold = run.get("hold", {})
            hl = hold.get("latency_ms", {})
            lines.append(
                f"| {stack} | {run['ramp']['connected']:,} | {hold.get('notifies_per_s', 0):,.0f}"
                f" | {hl.get('p50')} / {hl.get('p99')} / {hl.get('p999')} / {hl.get('max')} | "
                f"{hold.get('delivery')} | {run['ramp']['server_rss_mib']} | "
                f"{run['ramp']['rss_kib_per_socket']} | {run['ramp']['handshakes_per_s']} |"
            )
    if results.get("real"):
        lines += [
            "",
            "**Real path**: a cart change through the HTTP API → PostgreSQL commit → Redis → "
            "every member's socket (HTML fragments, as the page gets them); latency from the "
            "scheduled send to the last member notified.",
            "",
            "| workers | knee: cart ops/s at p99 ≤ 50 ms | p50 / p99 / p99.9 ms at knee (or "
            "first step) | server CPU | PostgreSQL CPU | capacity: cart ops/s at p99 ≤ 1 s | "
            "Redis restart: converged within, phones with a wrong cart |",
            "|---|---|---|---|---|---|---|",
        ]
        for workers, run in results["real"].items():
            if "error" in run:
                lines.append(f"| {workers} | failed: {run['error'][:80]} |" + " |" * 4)
                continue
            at = next((s for s in run["steps"] if s["ops_per_s"] == run["knee_ops_per_s"]),
                      run["steps"][0] if run["steps"] else {})
            lat = at.get("latency_ms", {})
            restart = run.get("redis_restart")
            restart_text = (f"{restart['converged_within_s']} s, "
                            f"{restart['phones_with_wrong_cart']}" if restart else "-")
            lines.append(
                f"| {workers} | {run['knee_ops_per_s']:,.0f} | {lat.get('p50')} / "
                f"{lat.get('p99')} / {lat.get('p999')} (at {at.get('ops_per_s')} ops/s) | "
                f"{at.get('server_cpu')} | {at.get('postgres_cpu')} | "
                f"{run.get('capacity_ops_per_s_p99_under_1s', 0):,.0f} | {restart_text} |"
            )
    return "\n".join(lines) + "\n"


def result_line(results: dict[str, Any]) -> str:
    fan = results["fanout"]

    def knee(stack: str) -> str:
        run = fan.get(stack)
        return f"{run['knee_notifies_per_s']:.0f}" if run and "error" not in run else "NA"

    ours = fan.get("ours", {})
    half = ours.get("half_knee", {})
    p99 = half.get("latency_ms", {}).get("p99", "NA")
    delivery = half.get("delivery", "NA")
    real = results.get("real", {}).get("1", {})
    cart = f"{real['knee_ops_per_s']:.0f}" if "knee_ops_per_s" in real else "NA"
    return (f"RESULT knee_ours={knee('ours')} knee_broadcaster={knee('broadcaster')} "
            f"knee_channels={knee('channels')} p99_ms={p99} delivery={delivery} "
            f"cart_ops={cart}")


# Main


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short run, under 5 minutes")
    parser.add_argument("--stacks", default=",".join(STACKS))
    parser.add_argument("--tables", type=int, help="tables at the fan-out level")
    parser.add_argument("--phones", type=int, default=6)
    parser.add_argument("--workers", type=int, default=1, help="server workers, every stack")
    parser.add_argument("--message-bytes", type=int, default=1024)
    parser.add_argument("--socket-processes", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=100, help="handshakes in flight")
    parser.add_argument("--start-rate", type=float, default=2000.0, help="notifies/s")
    parser.add_argument("--step-factor", type=float, default=1.4)
    parser.add_argument("--max-steps", type=int, default=10)
    parser.add_argument("--step-seconds", type=float)
    parser.add_argument("--hold-seconds", type=float)
    parser.add_argument("--hold-tables", type=int,
                        help="a separate ramp + hold with this many tables (full: 2500)")
    parser.add_argument("--drain", type=float, default=1.0)
    parser.add_argument("--real-tables", type=int)
    parser.add_argument("--real-start-rate", type=float, default=10.0, help="cart ops/s")
    parser.add_argument("--real-max-steps", type=int, default=10)
    parser.add_argument("--real-step-seconds", type=float)
    parser.add_argument("--http-connections", type=int, default=64)
    parser.add_argument("--real-workers", default="1,2")
    parser.add_argument("--restart-both", action="store_true",
                        help="also restart Redis under the 2-worker real path")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy the servers for a step at the knee (bench/results/profile-*)")
    parser.add_argument("--out", default=str(RESULTS / "fanout.json"))
    args = parser.parse_args(argv)
    quick = args.quick
    # The 1 Hz event to every socket is a burst of one frame per socket: with thousands of
    # sockets on one worker it alone exceeds 50 ms (see bench/README.md), so the rate steps
    # run on 100 tables and the many-socket case has its own hold run.
    args.tables = args.tables or 100
    args.hold_tables = args.hold_tables if args.hold_tables is not None else (0 if quick else 2500)
    args.step_seconds = args.step_seconds or (3.0 if quick else 8.0)
    args.hold_seconds = args.hold_seconds if args.hold_seconds is not None else (
        4.0 if quick else 30.0)
    args.real_tables = args.real_tables or (20 if quick else 100)
    args.real_step_seconds = args.real_step_seconds or (3.0 if quick else 8.0)
    args.real_start_rate = args.real_start_rate
    return args


async def amain(args: argparse.Namespace) -> dict[str, Any]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # children inherit it
    RESULTS.mkdir(exist_ok=True)
    stacks = [s for s in args.stacks.split(",") if s]
    if any(s != "ours" for s in stacks):
        peers_python()
    redis = Redis()
    await redis.start()
    started = clock()
    results: dict[str, Any] = {
        "meta": {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.machine()} {_cpu_model()}", "cores": os.cpu_count(),
            "mode": "quick" if args.quick else "full", "workers": args.workers,
            "tables": args.tables, "phones": args.phones, "message_bytes": args.message_bytes,
            "sockets": Workload(args.tables, args.phones).sockets,
            "loopback_rtt_us": await loopback_rtt(), "versions": versions(),
            "argv": sys.argv[1:],
        },
        "fanout": {}, "hold": {}, "real": {},
    }
    try:
        if stacks:
            venue = await fresh_database(args.tables)
            for stack in stacks:
                log("fan-out:", stack)
                try:
                    results["fanout"][stack] = await Fanout(stack, args, venue, redis).run()
                except Exception as error:
                    log(stack, "failed:", repr(error))
                    results["fanout"][stack] = {"error": repr(error)}
                if redis.process is None:
                    await redis.start()
        if stacks and args.hold_tables:
            venue = await fresh_database(args.hold_tables)
            for stack in stacks:
                log("hold:", stack, Workload(args.hold_tables, args.phones).sockets, "sockets")
                try:
                    results["hold"][stack] = await Fanout(
                        stack, args, venue, redis, hold_only=True).run()
                except Exception as error:
                    log(stack, "failed:", repr(error))
                    results["hold"][stack] = {"error": repr(error)}
        for workers in [int(w) for w in args.real_workers.split(",") if w]:
            log("real path:", workers, "worker(s)")
            try:
                results["real"][str(workers)] = await RealPath(args, workers, redis).run()
            except Exception as error:
                log("real path failed:", repr(error))
                results["real"][str(workers)] = {"error": repr(error)}
            if redis.process is None:
                await redis.start()
        real = results["real"]
        if "1" in real and "2" in real and real["1"].get("capacity_ops_per_s_p99_under_1s"):
            results["real_capacity_2_vs_1"] = round(
                real["2"].get("capacity_ops_per_s_p99_under_1s", 0)
                / real["1"]["capacity_ops_per_s_p99_under_1s"], 2)
    finally:
        redis.kill()
        await drop_database()
        for leftover in RESULTS.glob(".*.json"):
            leftover.unlink()
    results["meta"]["seconds"] = round(clock() - started, 1)
    return results


def _cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as file:
        for line in file:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return ""


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    try:
        from uvloop import run
    except ImportError:
        run = asyncio.run  # type: ignore[assignment]
    results = run(amain(args))
    out = Path(args.out)
    out.write_text(json.dumps(results, indent=1) + "\n")
    table = markdown(results)
    out.with_suffix(".md").write_text(table)
    print(table)
    print(result_line(results))


if __name__ == "__main__":
    main()
