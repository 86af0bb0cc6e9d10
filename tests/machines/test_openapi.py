"""Every operation the machines, payments and customers rooms declare answers as documented
(real responses validated against the generated schemas), so integrators can trust the
document."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select, update
from starlette.applications import Starlette

from api.openapi import endpoints
from customers.models import Consumer
from demo.seed import DemoVenue
from machines.models import Machine, Selection
from tests.api.test_openapi import conforms, strict
from tests.conftest import Database, client_for
from tests.machines.conftest import key

ROOMS = ("machines", "payments", "customers")


def declared(app: Starlette) -> set[tuple[str, str]]:
    """The operations whose handlers live in these rooms."""
    return {
        (path, endpoint.method) for path, endpoint in endpoints(app.routes)
        if getattr(endpoint.endpoint, "__module__", "").split(".")[0] in ROOMS
    }


class Check:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.seen: set[tuple[str, str]] = set()

    def __call__(self, path: str, response: httpx.Response) -> dict[str, Any]:
        method = response.request.method.lower()
        operation = self.document["paths"][path][method]
        status = str(response.status_code)
        assert status in operation["responses"], (method, path, status, response.text)
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        data: dict[str, Any] = response.json()
        # Strictly: a field the document does not list fails (tests/api/test_openapi.py).
        conforms(data, schema, strict(self.document["components"]))
        if status.startswith("4"):
            code = data["error"]["code"]
            assert f"`{code}`" in operation["responses"][status]["description"], (path, code)
        self.seen.add((path, method))
        return data


async def test_every_machines_operation_answers_as_documented(
    app: Starlette, venue: DemoVenue, db: Database
) -> None:
    async with client_for(app) as doc_client:
        check = Check((await doc_client.get("/api/v1/openapi.json")).json())
    hall, space = venue.machines
    m = "/api/v1/machines/{token}"
    s = "/api/v1/staff"
    async with db.sessionmaker() as session, session.begin():
        await session.execute(update(Machine).values(online=True,
                                                     last_seen_at=datetime.now(UTC)))
        share = await session.scalar(select(Selection.share_token))
        lea_id = await session.scalar(select(Consumer.id))
        company_id = await session.scalar(select(Consumer.company_id))
    async with client_for(app) as phone, client_for(app) as lea, client_for(app) as admin:
        menu = check(m, await phone.get(f"/api/v1/machines/{hall.token}"))
        check(m, await phone.get("/api/v1/machines/nope"))
        brew = {"product_id": menu["drinks"][0]["id"], "idempotency_key": key()}
        check(m + "/brews", await phone.post(f"/api/v1/machines/{hall.token}/brews", json=brew))
        check(m + "/brews", await phone.post(f"/api/v1/machines/{hall.token}/brews", json=brew))
        check(m + "/brews", await phone.post(f"/api/v1/machines/{hall.token}/brews",
                                             json={**brew, "idempotency_key": key()}))  # busy
        check(m + "/brews", await phone.post(f"/api/v1/machines/{space.token}/brews",
                                             json={**brew, "idempotency_key": key()}))  # 401

        account = {"machine": hall.token, "email": "sam@example.com", "name": "Sam",
                   "password": "long enough"}
        check("/api/v1/consumers/signup", await phone.post("/api/v1/consumers/signup",
                                                           json=account))
        check("/api/v1/consumers/signup", await phone.post("/api/v1/consumers/signup",
                                                           json=account))
        check("/api/v1/consumers/me", await phone.get("/api/v1/consumers/me"))
        check("/api/v1/consumers/logout", await phone.post("/api/v1/consumers/logout", json={}))
        check("/api/v1/consumers/me", await phone.get("/api/v1/consumers/me"))
        email, password = venue.consumers[0]
        login = {"machine": space.token, "email": email, "password": password}
        check("/api/v1/consumers/login", await lea.post("/api/v1/consumers/login",
                                                        json={**login, "password": "nope"}))
        check("/api/v1/consumers/login", await lea.post("/api/v1/consumers/login", json=login))
        topup = check("/api/v1/consumers/topups", await lea.post(
            "/api/v1/consumers/topups", json={"amount": 500, "idempotency_key": key()}))
        check("/api/v1/consumers/topups", await lea.post(
            "/api/v1/consumers/topups", json={"amount": 501, "idempotency_key": key()}))
        ref = re.search(r"/pay/test/([^?]+)", topup["payment"]["checkout_url"])
        assert ref is not None
        pay = "/api/v1/payments/test/{ref}"
        check(pay, await lea.post(f"/api/v1/payments/test/{ref.group(1)}",
                                  json={"outcome": "succeed"}))
        check(pay, await lea.post("/api/v1/payments/test/test_nope", json={"outcome": "fail"}))
        check("/api/v1/payments/stripe/webhook", await lea.post(
            "/api/v1/payments/stripe/webhook", json={}))  # not the configured provider
        check("/api/v1/selections/{share}", await lea.get(f"/api/v1/selections/{share}"))
        check("/api/v1/selections/{share}", await lea.get("/api/v1/selections/nope"))

        machine = {"site_id": venue.site_id, "name": "M4", "model": "Jura X8",
                   "serial": "SN-4", "mode": "open"}
        check(s + "/machines", await admin.post("/api/v1/staff/machines", json=machine))
        await admin.post("/api/v1/staff/login",
                         json={"email": "admin@cafe-de-la-gare.fr", "password": "admin-demo"})
        added = check(s + "/machines", await admin.post("/api/v1/staff/machines", json=machine))
        mid = added["machine"]["id"]
        one = s + "/machines/{machine_id}"
        check(one + "/secret", await admin.post(f"/api/v1/staff/machines/{mid}/secret", json={}))
        check(one + "/mode", await admin.post(f"/api/v1/staff/machines/{mid}/mode",
                                              json={"mode": "custom"}))
        check(one + "/mode", await admin.post(f"/api/v1/staff/machines/{mid}/mode",
                                              json={"mode": "free-for-all"}))
        group = check(s + "/groups", await admin.post("/api/v1/staff/groups", json={
            "name": "Étage 4", "recharge_amount": 300, "recharge_every": "week",
            "recharge_at": "08:30"}))
        check(s + "/groups", await admin.post("/api/v1/staff/groups", json={
            "name": "Bad", "recharge_every": "hourly"}))
        gid = group["group"]["id"]
        check(s + "/groups/{group_id}/members", await admin.post(
            f"/api/v1/staff/groups/{gid}/members", json={"consumer_id": lea_id}))
        selection = added["machine"]["selection_id"]
        check(one + "/groups", await admin.post(f"/api/v1/staff/machines/{mid}/groups",
                                                json={"group_id": gid,
                                                      "selection_id": selection}))
        drinks = s + "/selections/{selection_id}/drinks"
        check(drinks, await admin.post(f"/api/v1/staff/selections/{selection}/drinks", json={
            "name": "Ristretto", "type": "ristretto", "price": 60, "recipe": {"strength": 5}}))
        check(drinks, await admin.post(f"/api/v1/staff/selections/{selection}/drinks", json={
            "name": "Soup", "type": "soup", "price": 60}))
        shared = check("/api/v1/selections/{share}", await lea.get(f"/api/v1/selections/{share}"))
        order = [d["id"] for d in shared["drinks"]][::-1]
        check(s + "/selections/{selection_id}/order", await admin.post(
            f"/api/v1/staff/selections/{shared['selection']['id']}/order", json={"order": order}))
        check(s + "/selections/{selection_id}/order", await admin.post(
            f"/api/v1/staff/selections/{shared['selection']['id']}/order", json={"order": [1]}))
        sel = s + "/selections"
        created = check(sel, await admin.post("/api/v1/staff/selections", json={
            "name": "Été", "model": "Jura X8", "copy_from": shared["selection"]["id"]}))
        check(sel, await admin.post("/api/v1/staff/selections", json={"name": "", "model": "X"}))
        saeco = check(sel, await admin.post("/api/v1/staff/selections",
                                            json={"name": "Saeco", "model": "Saeco"}))
        one_selection = s + "/selections/{selection_id}"
        sid = saeco["selection"]["id"]
        renamed = check(one_selection, await admin.patch(f"/api/v1/staff/selections/{sid}",
                                                         json={"name": "Saeco d'été"}))
        assert renamed["selection"]["name"] == "Saeco d'été"
        check(one_selection, await admin.patch(f"/api/v1/staff/selections/{sid}",
                                               json={"name": " "}))
        in_use = check(one_selection, await admin.request(
            "DELETE", f"/api/v1/staff/selections/{selection}", json={}))
        assert "M4" in in_use["error"]["detail"]["machines"]
        drink = s + "/drinks/{drink_id}"
        did = shared["drinks"][0]["id"]
        check(drink, await admin.patch(f"/api/v1/staff/drinks/{did}", json={
            "price": 90, "recipe": {"strength": 3}, "enabled": True}))
        check(drink, await admin.patch(f"/api/v1/staff/drinks/{did}", json={"price": -1}))
        check(drink, await admin.patch("/api/v1/staff/drinks/999999", json={"price": 1}))
        check(drink + "/move", await admin.post(f"/api/v1/staff/drinks/{did}/move",
                                                json={"direction": "down"}))
        check(drink + "/move", await admin.post(f"/api/v1/staff/drinks/{did}/move",
                                                json={"direction": "sideways"}))
        check(drink, await admin.request("DELETE", f"/api/v1/staff/drinks/{did}", json={}))
        check(drink, await admin.request("DELETE", f"/api/v1/staff/drinks/{did}", json={}))
        check(one + "/selection", await admin.post(
            f"/api/v1/staff/machines/{mid}/selection",
            json={"selection_id": created["selection"]["id"]}))
        check(one + "/selection", await admin.post(
            f"/api/v1/staff/machines/{mid}/selection",
            json={"selection_id": saeco["selection"]["id"]}))  # another model
        check(one_selection, await admin.request("DELETE", f"/api/v1/staff/selections/{sid}",
                                                 json={}))
        group_one = s + "/groups/{group_id}"
        check(group_one, await admin.patch(f"/api/v1/staff/groups/{gid}", json={
            "name": "Étage 4", "recharge_amount": 500, "recharge_every": "month",
            "recharge_at": "07:30"}))
        check(group_one, await admin.patch(f"/api/v1/staff/groups/{gid}", json={
            "name": "Étage 4", "recharge_amount": 500, "recharge_every": "hourly"}))
        member = s + "/groups/{group_id}/members/{consumer_id}"
        for _ in range(2):  # then it is not a member any more
            check(member, await admin.request(
                "DELETE", f"/api/v1/staff/groups/{gid}/members/{lea_id}", json={}))
            check(one + "/groups/{group_id}", await admin.request(
                "DELETE", f"/api/v1/staff/machines/{mid}/groups/{gid}", json={}))
        check(s + "/consumers/{consumer_id}/credit", await admin.post(
            f"/api/v1/staff/consumers/{lea_id}/credit",
            json={"amount": 100, "idempotency_key": key()}))
        policy = s + "/consumer-policy"
        check(policy, await admin.post("/api/v1/staff/consumer-policy",
                                       json={"require_approval": True,
                                             "topup_amounts": [500, 1500]}))
        check(policy, await admin.post("/api/v1/staff/consumer-policy",
                                       json={"topup_amounts": [0]}))
        check(s + "/consumers/{consumer_id}/approve", await admin.post(
            f"/api/v1/staff/consumers/{lea_id}/approve", json={"role": "staff"}))
        settings = s + "/payment-settings"
        check(settings, await lea.get("/api/v1/staff/payment-settings"))  # not staff
        check(settings, await admin.get("/api/v1/staff/payment-settings"))
        check(settings, await admin.post("/api/v1/staff/payment-settings",
                                         json={"provider": "stripe"}))  # no keys yet
        check(settings, await admin.post("/api/v1/staff/payment-settings",
                                         json={"provider": "test"}))
        check("/api/v1/payments/stripe/webhook/{company_id}", await lea.post(
            f"/api/v1/payments/stripe/webhook/{company_id}", json={}))  # its provider: test
        check(one, await admin.request("DELETE", f"/api/v1/staff/machines/{mid}",
                                        json={"confirm": "M"}))
        check(one, await admin.request("DELETE", f"/api/v1/staff/machines/{mid}",
                                        json={"confirm": "M4"}))

        # Forgotten passwords: the same answer for any address; a link that is not one.
        check("/api/v1/password/forgot", await lea.post(
            "/api/v1/password/forgot", json={"email": "nobody@example.com"}))
        check("/api/v1/consumers/password/forgot", await lea.post(
            "/api/v1/consumers/password/forgot",
            json={"machine": hall.token, "email": "nobody@example.com"}))
        check("/api/v1/password/reset", await lea.post(
            "/api/v1/password/reset",
            json={"token": "x" * 43, "password": "a new long password"}))

    assert check.seen == declared(app)
    assert {(p, m) for p, m in check.seen} <= {
        (p, m) for p, item in check.document["paths"].items() for m in item
    }
