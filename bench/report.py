"""The Markdown table and the RESULT line of a run."""

from __future__ import annotations

from typing import Any

from loadgen_wire import family
from real_path import busiest_step

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
        "p99.9 ms, delivery | half knee p99 ms: table events / venue burst | "
        "1 % stalled: others' p99 ms, delivery | Redis restart: sockets "
        "hearing again | handshakes/s | RSS KiB/socket | other load on the box (cores, max) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for stack, run in results["fanout"].items():
        if "error" in run:
            lines.append(f"| {stack} | failed: {run['error'][:80]} |" + " |" * 10)
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
            f"{half.get('table_latency_ms', {}).get('p99')} / "
            f"{half.get('venue_latency_ms', {}).get('p99')} | "
            f"{stall.get('latency_ms', {}).get('p99')}, {stall.get('delivery')} | {heard} | "
            f"{run['ramp']['handshakes_per_s']} | {run['ramp']['rss_kib_per_socket']} | "
            f"{run.get('other_cpu_max')} |"
        )
    venue_off = {stack: run for stack, run in results["fanout"].items()
                 if "venue_off_knee_notifies_per_s" in run}
    if venue_off:
        lines += ["", "**Without the venue's 1 Hz event** (table events only)", "",
                  "| stack | knee: notifies/s at p99 ≤ 50 ms and 100 % | knee at p99 ≤ 10 ms |",
                  "|---|---|---|"]
        lines += [f"| {stack} | {run['venue_off_knee_notifies_per_s']:,.0f} | "
                  f"{run['venue_off_knee_p99_10ms_notifies_per_s']:,.0f} |"
                  for stack, run in venue_off.items()]
    if results.get("hold"):
        lines += [
            "", "**Many sockets at a low rate** (garbage-collector stalls show as the max)", "",
            "| stack | sockets | notifies/s | p50 / p99 / p99.9 / max ms | p99 ms: table "
            "events / venue burst | delivery | server RSS MiB | RSS KiB/socket | handshakes/s |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for stack, run in results["hold"].items():
            if "error" in run:
                lines.append(f"| {stack} | failed: {run['error'][:80]} |" + " |" * 7)
                continue
            hold = run.get("hold", {})
            hl = hold.get("latency_ms", {})
            lines.append(
                f"| {stack} | {run['ramp']['connected']:,} | {hold.get('notifies_per_s', 0):,.0f}"
                f" | {hl.get('p50')} / {hl.get('p99')} / {hl.get('p999')} / {hl.get('max')} | "
                f"{hold.get('table_latency_ms', {}).get('p99')} / "
                f"{hold.get('venue_latency_ms', {}).get('p99')} | {hold.get('delivery')} | "
                f"{run['ramp']['server_rss_mib']} | "
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
            "Redis restart: converged within, phones with a wrong cart | CPU ms per cart op at "
            "the busiest step under p99 1 s: server + PostgreSQL + Redis + load generator = "
            "total → what the box's cores could carry at 100 % | the step that ended the knee: "
            "its p99, and PostgreSQL's slowest commit meanwhile (probe) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        cores = results["meta"].get("cores") or 1
        for workers, run in results["real"].items():
            if "error" in run:
                lines.append(f"| {workers} | failed: {run['error'][:80]} |" + " |" * 5)
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
                f"{run.get('capacity_ops_per_s_p99_under_1s', 0):,.0f} | {restart_text} | "
                f"{cpu_per_op(busiest_step(run['steps']), cores)} | {_knee_end(run)} |"
            )
        lines += _model(results["real"])
    return "\n".join(lines) + "\n"


def _model(real: dict[str, Any]) -> list[str]:
    """The capacity model from each run's server CPU per change (real_path.capacity_model),
    beside what the run measured: a pinned run is its check."""
    rows = [(workers, run) for workers, run in real.items() if "model" in run]
    if not rows:
        return []
    lines = ["", "**Model**: N workers on N cores of their own, from the server's CPU per cart "
             "change (M/M/1 per worker, p99 ≤ 50 ms); measured beside it.", "",
             "| run | server CPU ms per change | measured knee | model: 1 / 2 / 4 / 8 workers "
             "(knee at p99 ≤ 50 ms; saturation) |", "|---|---|---|---|"]
    for workers, run in rows:
        model = run["model"]["workers"]
        per_n = " / ".join(f"{model[n]['knee_ops_per_s']:,.0f}" for n in model)
        sat = " / ".join(f"{model[n]['saturation_ops_per_s']:,.0f}" for n in model)
        label = f"{workers} worker(s){', server pinned to one core' if run.get('pinned') else ''}"
        lines.append(f"| {label} | {run['cart_cpu_ms']} | {run['knee_ops_per_s']:,.0f} | "
                     f"{per_n}; {sat} |")
    return lines


def _knee_end(run: dict[str, Any]) -> str:
    """What ended the knee: the first step over p99 50 ms, and whether PostgreSQL's own
    commits stalled meanwhile (a disk flush stall delays every commit, ours included)."""
    over = next((s for s in run["steps"]
                 if s.get("latency_ms", {}).get("p99", float("inf")) > 50), None)
    if over is None:
        return "-"
    probe = over.get("commit_probe_ms", {})
    commits = f"commits up to {probe['max']} ms (p50 {probe['p50']})" if probe else "no probe"
    return f"p99 {over['latency_ms'].get('p99')} ms at {over['ops_per_s']} ops/s; {commits}"


def cpu_per_op(step: dict[str, Any], cores: int) -> str:
    """Where a cart change's CPU goes, from /proc at one step: the ceiling it sets on a box
    that runs everything (server, PostgreSQL, Redis, load generator) on `cores` cores."""
    ops = step.get("ops_per_s") or 0
    parts = [step.get(k) for k in ("server_cpu", "postgres_cpu", "redis_cpu", "generator_cpu")]
    if ops <= 0 or any(p is None or p < 0 for p in parts):
        return "-"
    ms = [1000 * p / ops for p in parts]  # type: ignore[operator]
    total = sum(ms)
    return (" + ".join(f"{m:.2f}" for m in ms) + f" = {total:.2f} → {1000 * cores / total:,.0f}"
            " ops/s")


def result_line(results: dict[str, Any]) -> str:
    fan = results["fanout"]

    def knee(name: str) -> str:
        """A library's fair knee: its best configuration's (`channels`, `channels_pubsub`,
        `channels@2` are all Channels)."""
        knees = [run["knee_notifies_per_s"] for stack, run in fan.items()
                 if family(stack) == name and "error" not in run]
        return f"{max(knees):.0f}" if knees else "NA"

    ours = fan.get("ours", {})
    half = ours.get("half_knee", {})
    p99 = half.get("latency_ms", {}).get("p99", "NA")
    delivery = half.get("delivery", "NA")
    real = results.get("real", {}).get("1", {})
    cart = f"{real['knee_ops_per_s']:.0f}" if "knee_ops_per_s" in real else "NA"
    cpu_ms = real.get("cart_cpu_ms", "NA")
    return (f"RESULT knee_ours={knee('ours')} knee_broadcaster={knee('broadcaster')} "
            f"knee_channels={knee('channels')} knee_socketio={knee('socketio')} "
            f"p99_ms={p99} delivery={delivery} "
            f"cart_ops={cart} cart_cpu_ms={cpu_ms}")
