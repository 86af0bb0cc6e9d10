"""The real path: cart changes through Comptoir's HTTP API, until the last member's
phone shows them."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import random
import resource
import uuid
from typing import Any

from commit_probe import CommitProbe
from harness import (
    P99_KNEE_MS,
    PG_ADMIN,
    PG_DB,
    Meter,
    Redis,
    clock,
    fresh_database,
    log,
    pin_others,
    postgres_pids,
    start_server,
    stop,
)
from loadgen_wire import percentiles
from phones import HttpPool, Member, Op, Phone
from profiling import finish_profile, start_profile


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
        pinned = self.args.pin and os.cpu_count() == 2
        if pinned:  # one core for the server, the other for everything else
            pin_others({1})
        server = await start_server("ours", self.workers, self.redis.url, venue["url"],
                                    cpus="0" if pinned else None)
        self.server = server
        self.port = server.port
        out: dict[str, Any] = {"workers": self.workers, "tables": tables,
                               "phones": self.args.phones, "pinned": pinned}
        self.http = HttpPool(self.port, self.args.http_connections)
        self.probe = CommitProbe(venue["url"].replace("postgresql+asyncpg://", "postgresql://"))
        await self.probe.start()
        try:
            await self.setup(venue["tables"][:tables])
            out["steps"], out["knee_ops_per_s"] = await self.steps()
            out["capacity_ops_per_s_p99_under_1s"] = self.capacity
            self.knee = out["knee_ops_per_s"]
            busiest = busiest_step(out["steps"])
            if busiest.get("ops_per_s"):
                # The server's CPU per cart change, every server process counted (from
                # /proc), at the busiest step under p99 1 s; and what it implies.
                cpu_ms = busiest["server_cpu"] / busiest["ops_per_s"] * 1000
                out["cart_cpu_ms"] = round(cpu_ms, 3)
                out["model"] = capacity_model(cpu_ms)
            if self.args.profile:
                knee = out["knee_ops_per_s"] or self.args.real_start_rate
                out["profile_at_knee"] = await self.step(
                    knee, self.args.real_step_seconds * 2, "profile", profile=True)
            if self.workers == 1 or self.args.restart_both:
                out["redis_restart"] = await self.restart_redis()
        finally:
            if pinned:
                pin_others(None)
            self.closing = True
            await self.probe.stop()
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
        log("real path", f"{self.workers} worker(s):", len(tables), "tables,",
            sum(len(r) for r in self.phones), "member sockets ready in",
            f"{clock() - started:.1f}s")

    async def one(self, op: Op) -> None:
        op.started = clock()
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
        # What this process holds by now (phones' histories, earlier results) is kept out of
        # its own garbage collector's passes: a long pass here would delay the requests it
        # sends and show up as the server's latency.
        gc.collect()
        gc.freeze()
        profiling = start_profile(self.server.pids(), seconds, name) if profile else []
        server = Meter(self.server.pids)
        pg = Meter(postgres_pids)
        redis = Meter(self.redis.pids)
        box = Meter(None)
        cpu0 = _self_cpu()
        self.probe.take()
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
        commits = self.probe.take()
        other_cpu = round(box.cores() - server_cpu - pg_cpu - redis_cpu - gen_cpu, 3)
        deadline = clock() + 15
        while any(op.done == 0 for op in ops) and clock() < deadline:
            await asyncio.sleep(0.05)
        await self.settle()
        result = self.measure(ops, seconds)
        summary = finish_profile(profiling, name)
        if summary:
            result["profile"] = summary
        # PostgreSQL's own commit time meanwhile (the probe's): a disk stall shows here too.
        result["commit_probe_ms"] = percentiles(commits)
        result.update(label=label, target_ops_per_s=round(rate, 1), server_cpu=server_cpu,
                      postgres_cpu=pg_cpu, redis_cpu=redis_cpu, generator_cpu=gen_cpu,
                      other_cpu=other_cpu)
        lat = result["latency_ms"]
        log(f"real path w={self.workers}", label, f"{result['ops_per_s']:.0f} ops/s",
            "notified", result["notified"], "p50", lat.get("p50"), "p99", lat.get("p99"),
            "cpu srv", server_cpu, "pg", pg_cpu, "gen", gen_cpu, "other", other_cpu,
            "sent late max", result["sent_late_ms"].get("max"),
            "commit probe max", result["commit_probe_ms"].get("max"))
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
        failed = [op.status for op in ops if op.status not in (200, 201)]
        return {
            "ops": len(ops), "ops_per_s": round(len(ok) / seconds, 1),
            "failed": len(failed), "failed_statuses": _count(failed),
            "notified": round(len(latencies) / len(ok), 5) if ok else None,
            "missed": missed,
            "latency_ms": percentiles(latencies),
            "request_ms": percentiles([(op.done - op.scheduled) * 1000 for op in ok]),
            # How late the bench itself sent them: its own stalls, not the server's.
            "sent_late_ms": percentiles([(op.started - op.scheduled) * 1000 for op in ops]),
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
        killed = clock()
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
                # The first moment since the kill that it held what the database had when
                # Redis was back (what it held at the kill counts from the kill): the server
                # may catch it up before this process sees Redis accept connections, and
                # then it counts as 0.
                before = [v for t, v in phone.history if t < killed]
                timeline = ([(killed, before[-1])] if before else []) + [
                    (t, v) for t, v in phone.history if t >= killed]
                when = next((t for t, v in timeline if v >= truth[phone.topic]), None)
                reached.append(None if when is None else max(when, up))
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
            # When each phone got there: a few stragglers or everyone late.
            "phones_converged_s": percentiles([w - up for w in reached if w is not None]),
            "lagging_phones": lagging, "phones_with_wrong_cart": wrong,
            "bus_notices": sum(p.bus_notices for row in self.phones for p in row),
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


def busiest_step(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The step that carried the most at p99 <= 1 s: the least inflated by what the server
    spends when idle (timers, the 1 Hz venue event, collections)."""
    meters = ("server_cpu", "postgres_cpu", "redis_cpu", "generator_cpu")
    # Meters count reaped children now and cannot go below zero, but results written before
    # could (a PostgreSQL backend that exited mid-step): such steps are left out.
    kept = [s for s in steps if s.get("latency_ms", {}).get("p99", float("inf")) <= 1000
            and all((s.get(m) or 0) >= 0 for m in meters)]
    return max(kept, key=lambda s: s.get("ops_per_s") or 0, default={})


def capacity_model(cpu_ms: float, workers: tuple[int, ...] = (1, 2, 4, 8)) -> dict[str, Any]:
    """What the same code would carry with N workers on N cores of their own (PostgreSQL
    and Redis on other hosts), from the server's CPU per cart change alone: each worker
    serves μ = 1000 / cpu_ms changes a second; the kernel spreads connections over the
    workers, each then an M/M/1 queue, whose p99 time in the system is ln(100) / (μ − λ).
    So a worker keeps p99 <= 50 ms up to λ = μ − ln(100) / 0.05 s, and N workers carry N
    times that. The pinned run (--pin: the server alone on one core) checks the one-worker
    figure against a measured knee."""
    mu = 1000 / cpu_ms
    knee = max(0.0, mu - math.log(100) / (P99_KNEE_MS / 1000))
    return {"cpu_ms_per_change": round(cpu_ms, 3), "ops_per_s_per_core": round(mu, 1),
            "workers": {str(n): {"knee_ops_per_s": round(n * knee, 1),
                                 "saturation_ops_per_s": round(n * mu, 1)}
                        for n in workers}}


def _self_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _count(values: list[int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        out[str(value)] = out.get(str(value), 0) + 1
    return out
