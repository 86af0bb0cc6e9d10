"""What `comptoir serve` logs through a demo journey: one JSON object per line, the request's
id in each line written for it (its domain events and websocket pushes included), and none
of the demo's PINs, passwords, keys, tokens or cookies."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect

from demo.seed import DemoVenue
from machines.models import Machine
from tests.conftest import Database, Server
from tests.realtime.phones import Phone, receive, subscribe

STRIPE_KEYS = {"STRIPE_SECRET_KEY": "sk_test_" + "n0tl0gg3d" * 3,
               "STRIPE_WEBHOOK_SECRET": "whsec_" + "n0tl0gg3d" * 3}


@pytest.fixture
def server(db: Database, venue: DemoVenue) -> Iterator[Server]:
    """The demo venue served at debug level, so that every line the app can write is
    written; the default format for a service (standard error is not a terminal)."""
    served = Server({"DATABASE_URL": db.url, "REDIS_URL": "", "LOG_FORMAT": "",
                     "LOG_LEVEL": "debug", "PAYMENT_PROVIDER": "test", **STRIPE_KEYS})
    yield served
    served.stop()


def lines_of(server: Server) -> list[dict[str, Any]]:
    lines = server.logs.splitlines()
    assert lines
    return [json.loads(line) for line in lines]  # each line one JSON object, or this fails


async def test_a_demo_journey_logs_json_with_request_ids_and_no_secret(
    server: Server, db: Database, venue: DemoVenue
) -> None:
    token = venue.table_tokens[0][1]
    admin_email, admin_password, _ = venue.staff[0]
    consumer_email, consumer_password = venue.consumers[0]
    async with db.sessionmaker() as session:
        machines = (await session.scalars(select(Machine).order_by(Machine.id))).all()
    marked = f"journey-{uuid.uuid4().hex[:12]}"

    async with Phone(server.url) as staff, Phone(server.url) as lea, Phone(server.url) as tom:
        # Staff: a wrong password, then the right ones.
        wrong = await staff.http.post("/api/v1/staff/login",
                                      json={"email": admin_email, "password": "not-it-1234"})
        assert wrong.status_code == 401
        for email, password, _ in venue.staff[1:]:
            async with Phone(server.url) as other:
                await other.sign_in(email, password)
        await staff.sign_in(admin_email, admin_password)

        # A table: opened, joined with a wrong PIN then the right one, a line added (its
        # request marked with an id of ours) and sent as a round.
        state = await lea.scan(token)
        topic, espresso = state["topics"][0], state["menu"]["categories"][0]["products"][0]["id"]
        pin = await lea.start(token, "Léa")
        await tom.scan(token)
        refused = await tom.http.post(f"/api/v1/tables/{token}/join",
                                      json={"name": "Tom", "pin": str(999999 - int(pin))})
        assert refused.status_code in (403, 429)
        await tom.join(token, "Tom", pin)
        async with lea.socket() as ws:
            await subscribe(ws, topic)
            added = await lea.http.post(
                f"/api/v1/tables/{token}/cart/lines", headers={"X-Request-ID": marked},
                json={"client_id": uuid.uuid4().hex, "product_id": espresso, "quantity": 1},
            )
            assert added.status_code == 201 and added.headers["x-request-id"] == marked
            event = await receive(ws)
            assert (event["event"], event["request_id"]) == ("cart.added", marked)
            sent = await lea.http.post(f"/api/v1/tables/{token}/rounds",
                                       json={"idempotency_key": uuid.uuid4().hex})
            assert sent.status_code == 201
            round_request = sent.headers["x-request-id"]

        # A consumer signs in at a machine; a machine gets a new secret and uses it.
        signed_in = await lea.http.post("/api/v1/consumers/login", json={
            "machine": venue.machines[1].token, "email": consumer_email,
            "password": consumer_password})
        assert signed_in.status_code == 200, signed_in.text
        rotated = await staff.http.post(f"/api/v1/staff/machines/{machines[0].id}/secret",
                                        json={})
        assert rotated.status_code == 200
        secret = rotated.json()["secret"]
        device_url = server.url.replace("http://", "ws://") + "/ws/device"
        async with connect(device_url,
                           additional_headers={"Authorization": f"Device {secret}"}) as device:
            assert json.loads(await device.recv())["type"] == "welcome"
            await device.send(json.dumps({"type": "heartbeat", "alerts": []}))
        async with connect(device_url) as stranger:
            await stranger.send(json.dumps({"type": "hello", "secret": secret[:-4] + "AAAA"}))
            assert json.loads(await stranger.recv())["code"] == "unauthorized"
        cookies = [phone.http.cookies["comptoir"] for phone in (staff, lea, tom)]
    assert httpx.get(server.url + "/healthz").status_code == 200
    server.stop()
    lines = lines_of(server)

    # The marked request: its access line, the event it published, the hub's push of it.
    mine = {line["logger"]: line for line in lines if line.get("request_id") == marked}
    assert set(mine) >= {"web.request_log", "realtime.events", "realtime.hub"}
    assert (mine["web.request_log"]["route"], mine["web.request_log"]["status"]) == (
        "/api/v1/tables/{token}/cart/lines", 201
    )
    # The round's domain event was recorded for the request that sent it.
    assert any(line["logger"] == "domain.outbox" and "round.submitted" in line["message"]
               for line in lines if line.get("request_id") == round_request)

    secrets = {
        "staff passwords": [password for _, password, _ in venue.staff],
        "the consumer's password": [consumer_password],
        "the machine's secret": [secret, secret.split("_", 1)[1]],
        "Stripe keys": list(STRIPE_KEYS.values()),
        "the secret key": ["test-secret"],
        "table tokens": [t for _, t in venue.table_tokens],
        "machine tokens": [m.token for m in venue.machines],
        "session cookies": cookies,
    }
    pins = [pin, *(p for m in machines for p in (m.settings_pin, m.maintenance_pin))]
    text = "\n".join(json.dumps({k: v for k, v in line.items() if k != "time"})
                     for line in lines)
    for what, values in secrets.items():
        leaks = [line for line in server.logs.splitlines() if any(v in line for v in values)]
        assert not leaks, f"{what} logged: {leaks}"
    # Digits stand alone as a PIN (a timestamp's microseconds are not looked at).
    assert not [p for p in pins if re.search(rf"(?<!\d){p}(?!\d)", text)], "a PIN logged"
