"""Behind docs/nginx.conf: /metrics is not served to the public, even with the token, while
each app process answers its scraper directly; nginx's request id reaches the app."""

from __future__ import annotations

import re

import httpx

from demo.seed import DemoVenue
from tests.conftest import REDIS_URL, Database, Server
from tests.deploy.conftest import Proxy

TOKEN = "scrape-token-for-tests"


async def test_metrics_stay_behind_the_proxy_and_requests_keep_nginx_ids(
    shared: tuple[Database, DemoVenue], server_factory: type[Server], nginx: type[Proxy]
) -> None:
    db, _ = shared
    env = {"DATABASE_URL": db.url, "REDIS_URL": REDIS_URL, "METRICS_TOKEN": TOKEN}
    one, two = server_factory(env), server_factory(env)
    proxy = nginx([one.port, two.port])
    bearer = {"Authorization": f"Bearer {TOKEN}"}

    assert httpx.get(proxy.url + "/metrics", headers=bearer).status_code == 404
    for server in (one, two):
        assert httpx.get(server.url + "/metrics").status_code == 404  # the token is asked
        assert "comptoir_sockets_open" in httpx.get(server.url + "/metrics", headers=bearer).text

    # The app keeps a sane id it is given: through nginx, that is nginx's own ($request_id,
    # in its access log too), not the client's.
    direct = httpx.get(one.url + "/healthz", headers={"X-Request-ID": "from-the-client"})
    assert direct.headers["x-request-id"] == "from-the-client"
    proxied = httpx.get(proxy.url + "/healthz", headers={"X-Request-ID": "from-the-client"})
    assert proxied.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", proxied.headers["x-request-id"])
