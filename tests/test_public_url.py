"""The public address follows the port and host the server listens on, unless PUBLIC_URL
says otherwise (settings.public_base_url, docs/deploy.md): `PORT=8200 make demo` prints,
encodes in QR codes and mails :8200, never :8000."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

import settings
from settings import Settings, public_base_url
from tests.conftest import free_port


def test_public_url_wins_when_set() -> None:
    assert public_base_url("https://comptoir.example.com/", "0.0.0.0", 8200) == (
        "https://comptoir.example.com"
    )
    assert public_base_url("  http://10.0.0.5:9000  ", "127.0.0.1", 8000) == (
        "http://10.0.0.5:9000"
    )


def test_without_public_url_the_host_and_port_listened_on() -> None:
    assert public_base_url(None, "127.0.0.1", 8200) == "http://127.0.0.1:8200"
    assert public_base_url("", "comptoir.local", 8000) == "http://comptoir.local:8000"
    assert public_base_url(None, "cafe.example", 80) == "http://cafe.example"
    assert public_base_url(None, "::1", 8300) == "http://[::1]:8300"


def test_every_interface_is_named_by_this_machines_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "_reachable_address", lambda: "192.168.1.20")
    assert public_base_url(None, "0.0.0.0", 8200) == "http://192.168.1.20:8200"
    assert public_base_url(None, "::", 8200) == "http://192.168.1.20:8200"
    # No browser can open 0.0.0.0: whatever the network, never that.
    monkeypatch.undo()
    assert "0.0.0.0" not in public_base_url(None, "0.0.0.0", 8200)


def test_settings_read_host_and_port_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    assert Settings.from_env().public_url == "http://127.0.0.1:8000"
    monkeypatch.setenv("PORT", "8200")
    assert Settings.from_env().public_url == "http://127.0.0.1:8200"
    monkeypatch.setenv("HOST", "cafe.local")
    assert Settings.from_env().public_url == "http://cafe.local:8200"
    monkeypatch.setenv("PUBLIC_URL", "https://comptoir.example.com/")
    settled = Settings.from_env()
    assert settled.public_url == "https://comptoir.example.com" and settled.secure_cookies


def _csrf(html: str) -> str:
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', html)
    assert found, "every page carries the CSRF token"
    return found.group(1)


def test_port_changes_every_printed_encoded_and_mailed_url(tmp_path: Path) -> None:
    """`PORT=… comptoir demo`, as `make demo` runs it: the printed URLs, the QR sheet, the
    webhook URL and a mailed link all name that port."""
    port = free_port()
    database = tmp_path / "demo.db"
    env = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_URL", "HOST", "SMTP_URL")}
    env.update(PORT=str(port), DATABASE_URL=f"sqlite:///{database}", SECRET_KEY="test-secret",
               REDIS_URL="")
    demo = subprocess.Popen(
        [sys.executable, "-m", "comptoir_cli", "demo"], cwd=settings.ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )
    printed: list[str] = []
    assert demo.stdout is not None

    def read() -> None:
        assert demo.stdout is not None
        with demo.stdout:  # closed at the end, else a ResourceWarning (an error here)
            printed.extend(demo.stdout)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert demo.poll() is None, "".join(printed)
            assert time.monotonic() < deadline, "the demo did not start"
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code in (200, 503):
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        text = "".join(printed)
        urls = re.findall(r"https?://[^\s/]+", text)
        assert len(urls) > 10 and set(urls) == {base}, text
        assert f"{base}/staff/login" in text and "/display" in text
        with httpx.Client(base_url=base) as client:
            reply = client.post("/api/v1/staff/login", json={
                "email": "admin@cafe-de-la-gare.fr", "password": "admin-demo"})
            assert reply.status_code == 200, reply.text
            site = re.search(r"/pos/(\d+)\s", text)
            assert site
            # What the QR sheet encodes, and what a machine's display shows and encodes.
            codes = client.get(f"/api/v1/staff/sites/{site.group(1)}/table-codes").json()
            assert codes["tables"] and all(
                t["url"].startswith(f"{base}/t/") for t in codes["tables"])
            display = re.search(r"display: (\S+)", text)
            assert display
            assert f"{base}/m/" in client.get(display.group(1)).text
            webhook = client.get("/staff/machines/payments").text
            assert f"{base}/api/v1/" in webhook
        with httpx.Client(base_url=base) as stranger:
            token = _csrf(stranger.get("/password/forgot").text)
            reply = stranger.post("/api/v1/password/forgot",
                                  json={"email": "caisse@cafe-de-la-gare.fr"},
                                  headers={"x-csrf-token": token})
            assert reply.status_code == 202, reply.text
        with sqlite3.connect(database) as read:
            (body,) = read.execute(
                "SELECT body FROM outbox_mail WHERE \"to\" = 'caisse@cafe-de-la-gare.fr'"
            ).fetchone()
        assert f"{base}/password/reset/" in body and ":8000" not in body
    finally:
        os.killpg(demo.pid, signal.SIGTERM)  # the demo and the machines it simulates
        try:
            demo.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
        reader.join(timeout=5)
