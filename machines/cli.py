"""`comptoir simulate-machines`: simulated machines against a running server.

Machines come from `--machine SECRET` (repeatable), from `--demo` (the demo machines,
given fresh secrets) or from `--create N` (new machines on a site, for benchmarks).
While it runs, type on its standard input: `alert 1 beans milk`, `clear 1`,
`fail 2`, `status` (machines are numbered from 1; `all` means every one).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import subprocess
import sys
from typing import TYPE_CHECKING

from settings import Settings, public_base_url

if TYPE_CHECKING:
    from machines.demo import DemoMachine
    from machines.simulator import SimulatedMachine


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sim = commands.add_parser("simulate-machines", help="run simulated coffee machines")
    sim.add_argument("--url", default=None, help="the server (default: PUBLIC_URL)")
    sim.add_argument("--machine", action="append", default=[], help="a machine's secret")
    sim.add_argument("--demo", action="store_true", help="the demo's machines")
    sim.add_argument("--create", type=int, default=0, help="create N machines for the run")
    sim.add_argument("--site", type=int, default=1, help="site for --create")
    sim.add_argument("--speed", type=float, default=1.0, help="10: ten times faster than life")
    sim.add_argument("--fail-rate", type=float, default=0.0)
    sim.add_argument("--alert-rate", type=float, default=0.0)
    sim.add_argument("--heartbeat", type=float, default=None, help="seconds between beats")


async def _secrets(settings: Settings, demo: bool, create: int, site_id: int) -> list[str]:
    """Issue fresh secrets (the old ones stop working) for the machines to simulate."""
    from sqlalchemy import select

    from db.engine import make_engine, make_sessionmaker
    from machines.access import Mode
    from machines.admin_service import ensure_for_mode, new_pin
    from machines.demo import DEMO_SERIALS
    from machines.device_service import issue_secret
    from machines.models import Machine
    from realtime.events import Tx

    engine = make_engine(settings.database_url)
    out: list[str] = []
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            if demo:
                machines = (
                    await session.scalars(
                        select(Machine).where(Machine.serial.in_(DEMO_SERIALS)).order_by(Machine.id)
                    )
                ).all()
                out += [await issue_secret(session, m) for m in machines]
            for _ in range(create):
                serial = f"SIM-{secrets.token_hex(4)}"
                machine = Machine(
                    site_id=site_id, name=f"Simulated {serial}", model="Simulator",
                    serial=serial, mode="open", token=secrets.token_urlsafe(16),
                    settings_pin=new_pin(), maintenance_pin=new_pin(), alerts=[],
                )
                session.add(machine)
                await session.flush()
                await ensure_for_mode(Tx(session), machine, Mode.OPEN)  # default drinks
                out.append(await issue_secret(session, machine))
    finally:
        await engine.dispose()
    return out


async def _prompt(machines: list[SimulatedMachine]) -> None:
    """Commands typed on standard input; ends quietly when there is none."""
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        words = line.split()
        if not words:
            continue
        if words[0] == "status":
            for number, machine in enumerate(machines, 1):
                print(f"{number} {machine.name}: connected={machine.connected.is_set()} "
                      f"alerts={sorted(machine.alerts)} brewed={machine.brewed} "
                      f"failed={machine.failed}", flush=True)
            continue
        if len(words) < 2:
            print("usage: alert N what… | clear N | fail N | status", flush=True)
            continue
        if words[1] == "all":
            targets = machines
        elif words[1].isdigit() and 0 < int(words[1]) <= len(machines):
            targets = [machines[int(words[1]) - 1]]
        else:
            print(f"no machine {words[1]!r}", flush=True)
            continue
        for machine in targets:
            if words[0] == "alert":
                await machine.set_alerts(machine.alerts | set(words[2:]))
            elif words[0] == "clear":
                await machine.set_alerts(set())
            elif words[0] == "fail":
                machine.fail_next()


async def _simulate(settings: Settings, args: argparse.Namespace) -> None:
    from machines.simulator import Behaviour, SimulatedMachine

    found = list(args.machine)
    if args.demo or args.create:
        found += await _secrets(settings, args.demo, args.create, args.site)
    if not found:
        raise SystemExit("no machines: give --machine SECRET, --demo or --create N")
    behaviour = Behaviour(speed=args.speed, fail_rate=args.fail_rate,
                          alert_rate=args.alert_rate, heartbeat_s=args.heartbeat)
    url = args.url or settings.public_url
    machines = [SimulatedMachine(url, secret, behaviour) for secret in found]
    print(f"simulating {len(machines)} machine(s) against {url}", flush=True)
    async with asyncio.TaskGroup() as group:
        for machine in machines:
            group.create_task(machine.run())
        if sys.stdin is not None and not sys.stdin.closed:
            group.create_task(_prompt(machines))


def run(settings: Settings, args: argparse.Namespace) -> None:
    try:
        asyncio.run(_simulate(settings, args))
    except KeyboardInterrupt:
        pass


def print_demo(base: str, machines: list[DemoMachine], consumers: list[tuple[str, str]]) -> None:
    print("  Coffee machines (simulated; type `status`, `alert 2 beans`, `clear 2` here):")
    for machine in machines:
        print(f"    {machine.mode:9} {base}/m/{machine.token}   display: "
              f"{base}/m/{machine.token}/display")
    for email, password in consumers:
        print(f"    consumer  {email} / {password}")
    print(f"  Machines (staff):   {base}/staff/machines")
    print(f"  Drink selections:   {base}/staff/selections")
    print(f"  Payment settings:   {base}/staff/machines/payments")


def spawn_demo_machines(host: str, port: int) -> subprocess.Popen[bytes]:
    """The demo's machines, simulated in a process of their own beside the server: they
    reach it where it listens, on this machine (not through PUBLIC_URL's proxy)."""
    local = host if host not in ("", "0.0.0.0", "::", "[::]") else "127.0.0.1"
    url = public_base_url(None, local, port)
    return subprocess.Popen(
        [sys.executable, "-m", "comptoir_cli", "simulate-machines", "--demo",
         "--url", url, "--speed", "3"],
    )
