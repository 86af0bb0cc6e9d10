"""The benchmark's harness: the processes it starts (servers, Redis, load generators),
what they cost (from /proc), the database it seeds, and the profiler."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadgen_wire import family, stack_workers

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# Where Comptoir's server runs from: this checkout, or another one of an earlier commit to
# compare with in the same run (fanout.py --server-root).
SERVER_ROOT = [ROOT]
sys.path.insert(0, str(ROOT))

PEERS_VENV = BENCH / ".venv-peers"
RESULTS = BENCH / "results"
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = os.environ.get("BENCH_PG_DB", "comptoir_bench")
SECRET = "bench-secret-" + "x" * 32
STACKS = ("ours", "broadcaster", "channels", "channels_pubsub", "channels@2", "socketio",
          "socketio@2")

P99_KNEE_MS = 50.0
clock = time.monotonic


def log(*parts: object) -> None:
    print(f"[{time.strftime('%H:%M:%S')}]", *parts, file=sys.stderr, flush=True)


# Processes and what they cost, from /proc

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def _stat(pid: int) -> tuple[int, float, int] | None:
    """(parent pid, CPU seconds, RSS KiB) of a process, or None if it is gone.

    The CPU counts the children it has reaped too: a PostgreSQL backend or a uvicorn worker
    that exits between two readings moves its CPU time to its parent's, instead of taking it
    out of the sum (which made meters go negative)."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            fields = file.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    cpu = sum(int(f) for f in fields[11:15]) / CLK_TCK  # utime, stime, cutime, cstime
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


def pin_others(cpus: set[int] | None) -> None:
    """Everything but the server (this process, PostgreSQL's processes, which its new
    backends inherit, the private Redis) on `cpus`; None: back on every core."""
    every = cpus if cpus is not None else set(range(os.cpu_count() or 1))
    for pid in [0, *postgres_pids(), *_redis_pids()]:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(pid, every)


def _redis_pids() -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/comm") as file:
                if file.read().strip() == "redis-server":
                    out.append(int(entry))
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


async def fresh_database(tables: int, name: str = PG_DB) -> dict[str, Any]:
    """Create (again) the bench database, migrate it, seed the venue with `tables` tables."""
    import asyncpg
    from sqlalchemy import select

    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{url}/{name}"
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


async def drop_database(name: str = PG_DB) -> None:
    import asyncpg

    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


_unsaved: list[tuple[str, dict[str, Any]]] = []


def cookie(session: dict[str, Any]) -> str:
    """A session cookie for a bench socket: a new random id, whose session `save_cookies`
    writes to the bench database as the app keeps it (web/session_store.py)."""
    from web.session_store import new_token

    token = new_token()
    _unsaved.append((token, session))
    return token


async def save_cookies(url: str) -> None:
    """Write the sessions of the cookies made since the last call (a day to live)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from db.engine import make_engine
    from web.models import BrowserSession
    from web.session_store import encode, key_of

    now = datetime.now(UTC)
    rows = [{"key": key_of(token), "staff_id": data.get("staff_id"), "consumer_id": None,
             "data": encode({k: v for k, v in data.items() if k != "staff_id"}),
             "created_at": now, "expires_at": now + timedelta(days=1)}
            for token, data in _unsaved]
    _unsaved.clear()
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            for start in range(0, len(rows), 1000):
                await connection.execute(insert(BrowserSession), rows[start:start + 1000])
    finally:
        await engine.dispose()


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
                "'channels-redis','daphne','python-socketio','python-engineio','redis','hiredis',"
                "'websockets','uvloop']}))")
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


async def start_server(stack: str, workers: int, redis_url: str, db_url: str,
                       log_name: str | None = None, cpus: str | None = None) -> Server:
    """`cpus`: the cores the server (every worker) may run on, as taskset takes them."""
    port = free_port()
    workers = stack_workers(stack, workers)
    # The bench opens thousands of sockets from a few cookies (one staff cookie for every
    # POS): it measures the server, not its per-device and per-table limits.
    env = {**os.environ, "REDIS_URL": redis_url, "SECRET_KEY": SECRET,
           "DATABASE_URL": db_url, "PUBLIC_URL": f"http://127.0.0.1:{port}",
           "PYTHONPATH": str(SERVER_ROOT[0] if stack == "ours" else ROOT),
           "WS_MAX_PER_DEVICE": "1000000",
           "WS_MAX_PER_TABLE": "1000000",
           "CHANNEL_LAYER": "pubsub" if stack.endswith("_pubsub") else "core",
           "BROADCASTER_AS_SHIPPED": "1" if stack.startswith("broadcaster_asis") else "0"}
    uvicorn_flags = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                     "--ws", "websockets-sansio", "--loop", "uvloop", "--http", "httptools",
                     "--log-level", "warning"]
    name, stack = stack, family(stack)
    if stack == "ours":
        command = [sys.executable, "-m", "comptoir_cli", "serve", "--port", str(port),
                   "--workers", str(workers)]
    elif stack == "broadcaster":
        command = [str(peers_python()), "-m", "uvicorn", "--factory",
                   "bench.peers.broadcaster_app:create_app", *uvicorn_flags]
    elif stack == "channels":
        command = [str(peers_python()), "-m", "uvicorn",
                   "bench.peers.channels_site.asgi:application", *uvicorn_flags]
    elif stack == "socketio":
        command = [str(peers_python()), "-m", "uvicorn", "--factory",
                   "bench.peers.socketio_app:create_app", *uvicorn_flags]
    else:
        raise ValueError(stack)
    if cpus is not None:
        command = ["taskset", "-c", cpus, *command]
    errors = RESULTS / f"server-{log_name or name}.log"
    process = subprocess.Popen(command, cwd=SERVER_ROOT[0] if stack == "ours" else ROOT,
                               env=env, stdout=subprocess.DEVNULL,
                               stderr=errors.open("wb"))
    await wait_port(port, process)
    if stack == "ours":  # the lifespan (bus subscription) runs before the port opens
        await asyncio.sleep(0.3)
    return Server(stack, port, process, errors)


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

