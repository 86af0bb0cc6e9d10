"""The `comptoir` command: migrate, seed, serve, demo, create and deactivate staff, backup,
restore, verify, archive and export the till's records, rebuild the statistics."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from settings import DEFAULT_HOST, DEFAULT_PORT, Settings

PASSWORD_VARIABLE = "COMPTOIR_STAFF_PASSWORD"


def migrate(settings: Settings) -> None:
    from db.migrate import upgrade

    upgrade(settings.database_url)


async def _seed(settings: Settings) -> object:
    from db.engine import make_engine, make_sessionmaker
    from demo.loyalty import seed_loyalty
    from demo.seed import seed

    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            venue = await seed(session)
            await seed_loyalty(session, venue.site_id)
            return venue
    finally:
        await engine.dispose()


async def _seed_large(settings: Settings, scale: float, seed: int) -> None:
    from db.engine import make_engine, make_sessionmaker
    from demo.large import AlreadySeeded, make_large

    engine = make_engine(settings.database_url)
    try:
        await make_large(make_sessionmaker(engine), scale=scale, seed=seed,
                         progress=lambda line: print(line, flush=True))
    except AlreadySeeded as already:
        raise SystemExit(f"comptoir seed --large: {already} is there already") from None
    finally:
        await engine.dispose()


def print_urls(settings: Settings, venue: object) -> None:
    from demo.seed import PINS, DemoVenue

    assert isinstance(venue, DemoVenue)
    base = settings.public_url
    print("\nComptoir demo — Café de la Gare\n")
    print("  Tables (open on a phone, or in several browser windows):")
    for label, token in venue.table_tokens[:3]:
        print(f"    {label:9} {base}/t/{token}")
    print(f"    … {len(venue.table_tokens)} tables: QR sheet {base}/pos/{venue.site_id}/qr")
    print(f"  POS:                {base}/pos/{venue.site_id}")
    print(f"  Kitchen display:    {base}/pos/{venue.site_id}/station/kitchen")
    print(f"  Bar display:        {base}/pos/{venue.site_id}/station/bar")
    print(f"  Till:               add one at {base}/backoffice/tills (as admin), then type its"
          f" pairing code at {base}/till/pair")
    print(f"  Staff sign-in:      {base}/staff/login")
    for email, password, role in venue.staff:
        print(f"    {role:10} {email} / {password}  (PIN {PINS[email]})")
    from machines.cli import print_demo

    print_demo(base, list(venue.machines), venue.consumers)
    print(f"  API:                {base}/api/v1/openapi.json")
    print(f"\n  Start from nothing: sign up a venue of your own at {base}/signup\n")


async def _create_staff(
    settings: Settings, email: str, name: str, role: str, password: str, company_id: int
) -> int:
    from sqlalchemy import select

    from accounts.models import Company, Staff
    from accounts.passwords import hash_password
    from accounts.roles import ROLES
    from db.engine import make_engine, make_sessionmaker

    if role not in ROLES:
        raise SystemExit(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise SystemExit("the password needs at least 8 characters")
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            if await session.get(Company, company_id) is None:
                raise SystemExit(f"no company {company_id}")
            email = email.strip().lower()
            if await session.scalar(select(Staff.id).where(Staff.email == email)):
                raise SystemExit(f"a staff account with the email {email} already exists")
            staff = Staff(company_id=company_id, email=email, name=name,
                          role=role, password_hash=hash_password(password))
            session.add(staff)
            await session.flush()
            return staff.id
    finally:
        await engine.dispose()


async def _deactivate_staff(settings: Settings, email: str) -> int | None:
    """Through the bus too: with Redis, the servers close the staff member's sockets now."""
    from accounts.service import deactivate
    from db.engine import make_engine, make_sessionmaker
    from realtime.bus import make_bus
    from realtime.events import run

    engine = make_engine(settings.database_url)
    bus = make_bus(settings.redis_url)
    try:
        return await run(make_sessionmaker(engine), bus, lambda tx: deactivate(tx, email))
    finally:
        await bus.close()
        await engine.dispose()


def backup(settings: Settings, file: Path | None) -> None:
    from db.backup import BackupError, default_file
    from db.backup import backup as back_up

    named = default_file(settings.database_url, datetime.now(UTC))
    target = file / named if file and file.is_dir() else file or named
    try:
        revision = back_up(settings.database_url, target)
    except BackupError as error:
        raise SystemExit(f"comptoir backup: {error}") from None
    print(f"backup written to {target} (schema {revision})")


def restore(settings: Settings, file: Path) -> None:
    from db.backup import BackupError
    from db.backup import restore as restore_from

    try:
        older = restore_from(settings.database_url, file)
    except BackupError as error:
        raise SystemExit(f"comptoir restore: {error}") from None
    print(f"database restored from {file}")
    if older:
        print("the backup is from an earlier version: run `comptoir migrate` before serving")


def staff_password(from_stdin: bool) -> str:
    """The new account's password, for a script as for a person: standard input's first
    line when asked (--password-stdin), else COMPTOIR_STAFF_PASSWORD, else standard input's
    first line when it is not a terminal (a pipe), else a prompt that does not echo."""
    if not from_stdin and os.environ.get(PASSWORD_VARIABLE):
        return os.environ[PASSWORD_VARIABLE]
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return getpass.getpass("Password: ")


# Where LOG_LEVEL applies in full (the libraries' loggers stay at INFO at most).
OWN_LOGGERS = ("accounts", "api", "app", "customers", "db", "demo", "domain", "machines",
               "ordering", "payments", "realtime", "telemetry", "web")


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    from telemetry import logs

    try:
        log_format = logs.pick_format(settings.log_format)
        log_level = logs.check_level(settings.log_level)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    made = _share_metrics() if workers > 1 else None
    # No permessage-deflate: compressing every frame for every socket (zlib keeps a context
    # per connection) would cost more CPU than the whole fan-out, and without it a frame is
    # encoded once and written as is to every socket (realtime/websocket.py).
    # No access log of uvicorn's: web/request_log.py writes one line per request, with its
    # id and route template (a path holds a table's token).
    try:
        uvicorn.run(
            "app:create_app", factory=True, host=host, port=port, workers=workers,
            ws="websockets-sansio", ws_per_message_deflate=False, proxy_headers=True,
            log_config=logs.config(log_format, log_level, OWN_LOGGERS),
            log_level=logs.library_level(log_level).lower(), access_log=False,
            # No client's message needs more (a request body's limit too, web/body.py): a
            # bigger frame closes its socket with 1009 before it is read (docs/machines.md).
            ws_max_size=64 * 1024,
        )
    finally:
        if made:
            shutil.rmtree(made, ignore_errors=True)


def _share_metrics() -> str | None:
    """Several workers: each keeps its metrics in files of one directory, which any of them
    reads to answer GET /metrics for all (prometheus-client's multiprocess mode). The
    directory is PROMETHEUS_MULTIPROC_DIR, or a new one (the one made, to remove at the
    end); it is emptied before the workers start: what it holds is a previous run's."""
    import glob
    import tempfile

    from telemetry.metrics import MULTIPROC_DIR_ENV

    given = os.environ.get(MULTIPROC_DIR_ENV)
    path = given or tempfile.mkdtemp(prefix="comptoir-metrics-")
    os.makedirs(path, exist_ok=True)
    for stale in glob.glob(os.path.join(path, "*.db")):
        os.remove(stale)
    os.environ[MULTIPROC_DIR_ENV] = path  # read by each worker as it starts
    return None if given else path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="comptoir", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations")
    seeding = commands.add_parser("seed", help="create the demo venue (once)")
    seeding.add_argument("--large", action="store_true", help="instead, a company of 20 "
                         "sites over a year (2 million ticket lines), its rollups rebuilt")
    seeding.add_argument("--scale", type=float, default=1.0,
                         help="--large: its volumes times this (0.01 for a quick one)")
    seeding.add_argument("--seed", type=int, default=17, help="--large: the random seed")
    for name, text in (("serve", "serve the app"), ("demo", "migrate, seed, print URLs, serve")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--host", default=os.environ.get("HOST") or DEFAULT_HOST)
        sub.add_argument("--port", type=int,
                         default=int(os.environ.get("PORT") or DEFAULT_PORT))
        sub.add_argument("--workers", type=int, default=1)
    from machines.cli import add_parser as add_simulator

    add_simulator(commands)
    from pos.cli import add_parser as add_verify_records

    add_verify_records(commands)
    from backoffice.cli import add_parser as add_rebuild_stats

    add_rebuild_stats(commands)
    staff = commands.add_parser("create-staff", help="add a staff account")
    staff.add_argument("--email", required=True)
    staff.add_argument("--name", required=True)
    staff.add_argument("--role", required=True)
    staff.add_argument("--company", type=int, default=1)
    staff.add_argument("--password-stdin", action="store_true",
                       help="read the password from the first line of standard input")
    leaving = commands.add_parser(
        "deactivate-staff", help="stop a staff account: no more sign-ins, and every session "
        "it is signed in on ends now",
    )
    leaving.add_argument("--email", required=True)
    saving = commands.add_parser(
        "backup", help="copy the database to FILE while it serves (default: a timestamped "
        "name, here or in the directory FILE)",
    )
    saving.add_argument("file", nargs="?", type=Path)
    restoring = commands.add_parser(
        "restore", help="replace the database with a backup (stop the servers first)"
    )
    restoring.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    if args.command in ("serve", "demo"):
        # Where the server listens is where it is reached (settings.public_base_url), unless
        # PUBLIC_URL says otherwise: the printed URLs, and each worker uvicorn starts (they
        # read the environment), use the port and host given here.
        os.environ["HOST"], os.environ["PORT"] = args.host, str(args.port)
    settings = Settings.from_env()
    if args.command == "migrate":
        migrate(settings)
    elif args.command == "seed" and args.large:
        asyncio.run(_seed_large(settings, args.scale, args.seed))
    elif args.command == "seed":
        print_urls(settings, asyncio.run(_seed(settings)))
    elif args.command == "serve":
        serve(settings, args.host, args.port, args.workers)
    elif args.command == "create-staff":
        password = staff_password(args.password_stdin)
        staff_id = asyncio.run(
            _create_staff(settings, args.email, args.name, args.role, password, args.company)
        )
        print(f"staff {staff_id} created")
    elif args.command == "deactivate-staff":
        deactivated = asyncio.run(_deactivate_staff(settings, args.email))
        if deactivated is None:
            raise SystemExit(f"no staff account with the email {args.email}")
        print(f"staff {deactivated} deactivated; their sessions ended")
    elif args.command == "backup":
        backup(settings, args.file)
    elif args.command == "restore":
        restore(settings, args.file)
    elif args.command in ("verify-records", "archive-records", "export-public-key"):
        from pos.cli import run as verify_records

        raise SystemExit(verify_records(settings, args))
    elif args.command == "rebuild-stats":
        from backoffice.cli import run as rebuild_stats

        rebuild_stats(settings, args)
    elif args.command == "simulate-machines":
        from machines.cli import run as simulate

        simulate(settings, args)
    elif args.command == "demo":
        from machines.cli import spawn_demo_machines

        os.environ.setdefault("PAYMENT_PROVIDER", "test")  # the demo's pretend payments
        migrate(settings)
        print_urls(settings, asyncio.run(_seed(settings)))
        simulator = spawn_demo_machines(args.host, args.port)
        try:
            serve(settings, args.host, args.port, args.workers)
        finally:
            simulator.terminate()


if __name__ == "__main__":
    main()
