"""`comptoir create-staff` from a script: the password from standard input or from
COMPTOIR_STAFF_PASSWORD, never only from a prompt (docs/deploy.md); `comptoir
deactivate-staff` ends the account's sessions."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from accounts.models import Company
from demo.seed import DemoVenue
from settings import ROOT
from tests.api.test_bad_input import CASHIER, expect, login
from tests.conftest import Database, client_for


def create_staff(db: Database, email: str, *flags: str, stdin: str = "",
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "comptoir_cli", "create-staff", "--email", email,
               "--name", "Nouvelle Caisse", "--role", "cashier", *flags]
    environment = {k: v for k, v in os.environ.items() if k != "COMPTOIR_STAFF_PASSWORD"}
    return subprocess.run(
        command, input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={**environment, "DATABASE_URL": db.url, "SECRET_KEY": "test-secret", **(env or {})},
    )


async def run(db: Database, email: str, *flags: str, stdin: str = "",
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(create_staff, db, email, *flags, stdin=stdin, env=env)


async def test_create_staff_takes_the_password_from_stdin_or_the_environment(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with db.sessionmaker() as session:
        company = ("--company", str(await session.scalar(select(Company.id))))
    ways = [
        ("piped@cafe-de-la-gare.fr", (), "pipe-password-1\n", None),
        ("flag@cafe-de-la-gare.fr", ("--password-stdin",), "flag-password-2\n",
         {"COMPTOIR_STAFF_PASSWORD": "not-this-one"}),
        ("env@cafe-de-la-gare.fr", (), "", {"COMPTOIR_STAFF_PASSWORD": "env-password-3"}),
    ]
    for email, flags, stdin, env in ways:
        done = await run(db, email, *company, *flags, stdin=stdin, env=env)
        assert done.returncode == 0, done.stderr
        assert "created" in done.stdout
        password = stdin.strip() or (env or {})["COMPTOIR_STAFF_PASSWORD"]
        async with client_for(app) as client:
            await login(client, email, password)

    # The same email again, or a short password: a clear refusal, no traceback.
    again = await run(db, "piped@cafe-de-la-gare.fr", *company, stdin="pipe-password-1\n")
    assert again.returncode != 0 and "already exists" in again.stderr
    assert "Traceback" not in again.stderr
    short = await run(db, "short@cafe-de-la-gare.fr", *company, "--password-stdin",
                      stdin="short\n")
    assert short.returncode != 0 and "at least 8" in short.stderr


async def test_the_demo_prints_the_sign_up_url_beside_the_demo_cafe(
    venue: DemoVenue, capsys: pytest.CaptureFixture[str]
) -> None:
    from comptoir_cli import print_urls
    from tests.conftest import test_settings

    print_urls(test_settings("sqlite+aiosqlite://"), venue)
    printed = capsys.readouterr().out
    assert "Café de la Gare" in printed and "/staff/login" in printed
    assert "http://127.0.0.1:8000/signup\n" in printed


async def test_deactivate_staff_signs_them_out_everywhere(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    def deactivate(email: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "comptoir_cli", "deactivate-staff", "--email", email],
            capture_output=True, text=True, cwd=ROOT, timeout=60,
            env={**os.environ, "DATABASE_URL": db.url, "SECRET_KEY": "test-secret"},
        )

    async with client_for(app) as pos:
        await login(pos, *CASHIER)
        done = await asyncio.to_thread(deactivate, CASHIER[0].upper())
        assert done.returncode == 0, done.stderr
        assert "deactivated" in done.stdout
        expect(await pos.get("/api/v1/staff/me"), 401, "not_signed_in")
        refused = await pos.post("/api/v1/staff/login",
                                 json={"email": CASHIER[0], "password": CASHIER[1]})
        expect(refused, 401, "bad_login")
    nobody = await asyncio.to_thread(deactivate, "nobody@cafe-de-la-gare.fr")
    assert nobody.returncode != 0 and "no staff account" in nobody.stderr
    assert "Traceback" not in nobody.stderr
