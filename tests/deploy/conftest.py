"""What the deployment tests share: PostgreSQL and Redis for real processes, and nginx."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import _reachable, free_port, repo_path, unavailable
from tests.realtime.test_two_processes import pg_url, shared  # noqa: F401  (fixtures)

NGINX_CONF = repo_path("docs", "nginx.conf")


@dataclass
class Proxy:
    url: str
    port: int


def render(upstreams: list[int], port: int) -> str:
    """docs/nginx.conf as shipped, with the test's ports in place of the example's."""
    conf = NGINX_CONF.read_text()
    servers = re.findall(r"^\s*server 127\.0\.0\.1:\d+", conf, flags=re.M)
    assert len(servers) == len(upstreams), "docs/nginx.conf lists two app processes"
    for line, upstream in zip(servers, upstreams, strict=True):
        conf = conf.replace(line, re.sub(r":\d+", f":{upstream}", line), 1)
    conf, listens = re.subn(r"listen 8080;", f"listen 127.0.0.1:{port};", conf)
    assert listens == 1
    return conf


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[type[Proxy]]:
    """Starts Debian's nginx with docs/nginx.conf in front of the given app ports."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(binary, os.X_OK):
        unavailable("nginx (make nginx installs it)")
    started: list[subprocess.Popen[bytes]] = []

    class Started(Proxy):
        def __init__(self, upstreams: list[int]) -> None:
            port = free_port()
            super().__init__(f"http://127.0.0.1:{port}", port)
            (tmp_path / "comptoir.conf").write_text(render(upstreams, port))
            temp = " ".join(
                f"{kind}_temp_path {tmp_path / kind};"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            )
            # The main context a distribution's nginx.conf would give; the header names the
            # app process that took each request, so a test can see both are used.
            (tmp_path / "nginx.conf").write_text(
                f"daemon off;\nmaster_process off;\npid {tmp_path / 'nginx.pid'};\n"
                f"error_log {tmp_path / 'error.log'} warn;\n"
                "events { worker_connections 512; }\n"
                f"http {{\n access_log off;\n {temp}\n"
                " add_header X-Comptoir-Upstream $upstream_addr always;\n"
                f" include {tmp_path / 'comptoir.conf'};\n}}\n"
            )
            process = subprocess.Popen(
                [binary, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                 "-e", str(tmp_path / "error.log")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            started.append(process)
            deadline = time.monotonic() + 10
            while not _reachable("127.0.0.1", port):
                if process.poll() is not None or time.monotonic() > deadline:
                    log = tmp_path / "error.log"
                    raise RuntimeError(log.read_text() if log.exists() else "nginx failed")
                time.sleep(0.05)

    yield Started
    for process in started:
        process.terminate()
        process.wait(timeout=10)
