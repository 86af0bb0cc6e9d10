"""The fan-out level: the same sockets and messages against Comptoir and its peers
(bench/README.md)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

from harness import (
    BENCH,
    P99_KNEE_MS,
    RESULTS,
    SECRET,
    Child,
    Meter,
    Redis,
    Server,
    clock,
    cookie,
    family,
    log,
    merge_latency,
    peers_python,
    save_cookies,
    stack_workers,
    start_server,
    stop,
    usage,
)
from profiling import finish_profile, start_profile

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


def socket_path(stack: str) -> str:
    """Where a stack's sockets connect: Socket.IO's own endpoint, the others' /ws."""
    if stack == "socketio":
        return "/socket.io/?EIO=4&transport=websocket"
    return "/ws?format=json"


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
            # A phone that scanned its table (ordering/scanned_tables.py), as real ones have.
            specs.append({"cookie": cookie({"device": device, "csrf": "x",
                                            "tables": [int(topic.split(":")[1])]}),
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
        self.out: dict[str, Any] = {"stack": stack,
                                    "workers": stack_workers(stack, args.workers),
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
        specs, topics = build_specs(family(self.stack), self.workload, self.venue)
        await save_cookies(self.venue["url"])  # the sessions the specs' cookies name
        n = self.args.socket_processes
        python = sys.executable if self.stack == "ours" else str(peers_python())
        path_of = socket_path(family(self.stack))
        for part in range(n):
            path = RESULTS / f".specs-{part}.json"
            path.write_text(json.dumps(specs[part::n]))
            child = Child([sys.executable, str(BENCH / "loadgen.py"), "sockets", "127.0.0.1",
                           str(self.server.port), path_of, str(path)])
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
        if self.args.venue_off:  # the knee again, without the venue's 1 Hz burst
            await self.steps(venue_hz=0.0, prefix="venue_off_")
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
            "table_latency_ms": merge_latency([r["table_latency_ms"] for r in reports]),
            "venue_latency_ms": merge_latency([r["venue_latency_ms"] for r in reports]),
            "server_cpu": server_cpu, "generator_cpu": gen_cpu, "redis_cpu": redis_cpu,
            "other_cpu": other_cpu,
            "server_rss_mib": round(max(before, rss) / 1024, 1),
            "publisher_late_max_ms": sent["late_max_ms"],
            "publish_failed": sent["failed"],
            "open_sockets": sum(r["open"] for r in reports),
            "closed": _merge_counts([r["closed_codes"] for r in reports]),
            "bus_notices": sum(r["bus_notices"] for r in reports),
            "errors": sum(r["errors"] for r in reports),
            "short_sockets": [x for r in reports for x in r["short"]][:5],
        }
        if summary:
            out["profile"] = summary
        self.worst_other = max(getattr(self, "worst_other", 0.0), other_cpu)
        self.out["other_cpu_max"] = self.worst_other
        log(self.stack, label, f"{out['notifies_per_s']:.0f}/s", "delivery", out["delivery"],
            "p50", latency.get("p50"), "p99", latency.get("p99"), "max", latency.get("max"),
            "p99 table", out["table_latency_ms"].get("p99"),
            "venue", out["venue_latency_ms"].get("p99"),
            "cpu srv", server_cpu, "gen", gen_cpu, "other", other_cpu)
        return out

    async def steps(self, venue_hz: float = 1.0, prefix: str = "") -> float:
        """Raise the rate until p99 > 50 ms or delivery < 100 %: the knee. With `venue_hz`
        0, without the venue's event to every socket (its keys under `prefix`)."""
        knee, knee10 = 0.0, 0.0
        # The venue event alone makes one notify per socket per second: start above it.
        rate = max(self.args.start_rate, 1.25 * self.workload.sockets)
        steps = []
        knee_found = False
        for _ in range(self.args.max_steps):
            result = await self.step(rate, self.args.step_seconds, prefix + "step",
                                     venue_hz=venue_hz)
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
        self.out[prefix + "steps"] = steps
        self.out[prefix + "knee_notifies_per_s"] = knee
        # What a stack carries at p99 <= 50 ms when its losses are not held against it.
        self.out[prefix + "best_p99_50ms_any_delivery"] = max(
            (s["notifies_per_s"] for s in steps
             if s["latency_ms"].get("p99", float("inf")) <= P99_KNEE_MS), default=0.0)
        self.out[prefix + "knee_p99_10ms_notifies_per_s"] = knee10
        self.out[prefix + "knee_server_cpu"] = next(
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
            "bus_notices": sum(c["bus_notices"] for c in conv),
        }
        log(self.stack, "redis restart", self.out["redis_restart"])


def _merge_counts(parts: list[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in parts:
        for key, value in part.items():
            out[key] = out.get(key, 0) + value
    return out
