"""The machines JSON API (/api/v1): consumers, brews, payments, webhooks, staff."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.context import consumer_id_of, staff_of, viewer_of
from accounts.service import NotSignedIn, StaffIdentity
from customers import service as consumers
from customers import views as customer_views
from customers.models import Consumer
from machines import admin_service, brew_service, selection_service, views
from machines.errors import SignInRequired
from machines.live import MachineTopic
from machines.scanned_machines import remember_machine
from payments import service as payment_service
from payments.checkout import checkout
from payments.models import ProviderPayment
from payments.runtime import runtime_of
from realtime.events import Tx
from realtime.models import current_version
from web.body import read_body
from web.htmx import json_reply
from web.state import app_state, device_of, locale_of, run_tx


def _now() -> datetime:
    return datetime.now(UTC)


async def machine_state(request: Request) -> Response:
    """The machine as this visitor sees it: status, drinks with their prices, credit."""
    viewer = await viewer_of(request)

    async def op(tx: Tx) -> dict[str, Any]:
        machine = await brew_service.machine_by_token(tx.session, request.path_params["token"])
        remember_machine(request, machine.id)
        found = await brew_service.offer(tx.session, machine, consumer_id_of(request))
        topic = views.machine_topic(machine.id)
        view = await views.machine_view(tx.session, machine.id)
        view["version"] = await current_version(tx.session, topic)
        kind = MachineTopic()
        out: dict[str, Any] = {
            "machine": kind.present(view, kind.audience(view, viewer)),
            "drinks": found.drinks,
            "allowed": found.grant is not None,
            "refusal": getattr(found.refusal, "code", None),
            "topics": [topic],
            "consumer": None,
        }
        if found.consumer is not None:
            out["consumer"] = {
                "id": found.consumer.id,
                "name": found.consumer.name,
                "balance": await customer_views.balance_of(tx.session, found.consumer.id),
            }
            out["topics"].append(customer_views.user_topic(found.consumer.id))
        return out

    return json_reply(await run_tx(request, op), request)


def _brew(brew: Any) -> dict[str, Any]:
    return {k: v for k, v in views.brew_dict(brew).items() if k != "consumer_id"}


async def start_brew(request: Request) -> Response:
    body = await read_body(request)
    runtime = runtime_of(request)
    token = request.path_params["token"]

    async def op(tx: Tx) -> brew_service.Requested:
        company_id = await _company_of_token(tx, token)
        provider = await runtime.provider_for(tx.session, company_id)
        return await brew_service.request(
            tx, token, body.integer("product_id"), consumer_id_of(request),
            device_of(request), body.raw("idempotency_key"), _now(), provider.name,
        )

    result = await run_tx(request, op)
    remember_machine(request, result.brew.machine_id)
    out: dict[str, Any] = {"brew": _brew(result.brew), "duplicate": result.duplicate}
    if result.payment is not None:
        out["payment"] = await checkout(request, result.payment, f"/m/{token}")
        out["redirect"] = out["payment"]["checkout_url"]
    return json_reply(out, request, 200 if result.duplicate else 201)


# Consumers


async def _company_of_token(tx: Tx, token: object) -> int:
    machine = await brew_service.machine_by_token(tx.session, token)
    return (await views.company_of_machine(tx.session, machine)).id


async def signup(request: Request) -> Response:
    body = await read_body(request)
    base = app_state(request).settings.public_url

    async def op(tx: Tx) -> int:
        company_id = await _company_of_token(tx, body.raw("machine"))
        consumer = await consumers.signup(
            tx, company_id, body.raw("email"), body.raw("name"), body.raw("password"), base,
            locale_of(request),
        )
        return consumer.id

    consumer_id = await run_tx(request, op)
    request.session["consumer_id"] = consumer_id
    data = {"consumer": {"id": consumer_id}, "redirect": "/account/outbox"}
    return json_reply(data, request, 201)


async def login(request: Request) -> Response:
    body = await read_body(request)

    async def op(tx: Tx) -> int:
        company_id = await _company_of_token(tx, body.raw("machine"))
        consumer = await consumers.login(tx, company_id, body.raw("email"), body.raw("password"))
        return consumer.id

    consumer_id = await run_tx(request, op)
    request.session["consumer_id"] = consumer_id
    back = body.text("machine")
    return json_reply({"consumer": {"id": consumer_id},
                "redirect": f"/m/{back}" if back else "/account"}, request)


async def logout(request: Request) -> Response:
    request.session.pop("consumer_id", None)
    return json_reply({"ok": True, "refresh": True}, request)


def _consumer(request: Request) -> int:
    consumer_id = consumer_id_of(request)
    if consumer_id is None:
        raise SignInRequired()
    return consumer_id


async def me(request: Request) -> Response:
    consumer_id = _consumer(request)

    async def op(tx: Tx) -> dict[str, Any]:
        view = await customer_views.user_view(tx.session, consumer_id)
        view["version"] = await current_version(tx.session, customer_views.user_topic(consumer_id))
        return view

    return json_reply(await run_tx(request, op), request)


async def topup(request: Request) -> Response:
    consumer_id = _consumer(request)
    body = await read_body(request)
    runtime = runtime_of(request)
    key = brew_service.check_key(body.raw("idempotency_key"))

    async def op(tx: Tx) -> ProviderPayment:
        consumer = await tx.session.get(Consumer, consumer_id)
        if consumer is None:
            raise SignInRequired()
        provider = await runtime.provider_for(tx.session, consumer.company_id)
        return await payment_service.start_topup(
            tx, consumer_id, body.integer("amount"), key, provider.name, _now()
        )

    payment = await run_tx(request, op)
    started = await checkout(request, payment, "/account")
    return json_reply({"payment": started, "redirect": started["checkout_url"]}, request, 201)


# Staff


async def _staff(request: Request) -> StaffIdentity:
    staff = await staff_of(request)
    if staff is None:
        raise NotSignedIn()
    return staff


def _machine(machine: Any) -> dict[str, Any]:
    return {"id": machine.id, "name": machine.name, "mode": machine.mode,
            "serial": machine.serial, "model": machine.model, "token": machine.token,
            "selection_id": machine.selection_id}


async def add_machine(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    added = await run_tx(
        request,
        lambda tx: admin_service.add_machine(
            tx, staff, body.integer("site_id"), body.text("name") or "",
            body.text("model") or "", body.text("serial") or "", body.raw("mode") or "open",
        ),
    )
    return json_reply({"machine": _machine(added.machine), "secret": added.secret}, request, 201)


async def rotate_secret(request: Request) -> Response:
    staff = await _staff(request)
    secret = await run_tx(
        request,
        lambda tx: admin_service.rotate_secret(tx, staff, request.path_params["machine_id"]),
    )
    return json_reply({"secret": secret}, request)


async def set_mode(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    machine = await run_tx(
        request,
        lambda tx: admin_service.set_mode(
            tx, staff, request.path_params["machine_id"], body.raw("mode")
        ),
    )
    return json_reply({"machine": _machine(machine)}, request)


async def delete_machine(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    await run_tx(
        request,
        lambda tx: admin_service.delete_machine(
            tx, staff, request.path_params["machine_id"], body.raw("confirm")
        ),
    )
    return json_reply({"ok": True, "redirect": "/staff/machines"}, request)


async def manual_credit(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    posted = await run_tx(
        request,
        lambda tx: admin_service.manual_credit(
            tx, staff, request.path_params["consumer_id"], body.money("amount"),
            body.raw("idempotency_key"), body.raw("note"),
        ),
    )
    return json_reply({"entry": {"id": posted.entry.id, "amount": posted.entry.amount,
                          "balance_after": posted.entry.balance_after},
                "duplicate": posted.duplicate}, request)


async def approve(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    consumer = await run_tx(
        request,
        lambda tx: consumers.approve(
            tx, staff, request.path_params["consumer_id"], body.raw("role")
        ),
    )
    return json_reply({"consumer": {"id": consumer.id, "verified": consumer.verified,
                             "role": consumer.role}}, request)


async def create_group(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    group = await run_tx(
        request,
        lambda tx: admin_service.create_group(
            tx, staff, body.raw("name"), body.money("recharge_amount") or 0,
            body.raw("recharge_every"), body.raw("recharge_at") or "07:00",
        ),
    )
    return json_reply({"group": {"id": group.id, "name": group.name}}, request, 201)


async def add_member(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    await run_tx(
        request,
        lambda tx: admin_service.add_member(
            tx, staff, request.path_params["group_id"], body.integer("consumer_id")
        ),
    )
    return json_reply({"ok": True}, request)


async def attach_group(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    await run_tx(
        request,
        lambda tx: admin_service.attach_group(
            tx, staff, request.path_params["machine_id"], body.integer("group_id"),
            body.integer("selection_id"),
        ),
    )
    return json_reply({"ok": True}, request)


async def set_policy(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    policy = await run_tx(
        request,
        lambda tx: admin_service.set_policy(
            tx, staff, body.flag("require_approval"), body.raw("topup_amounts")
        ),
    )
    return json_reply({"require_approval": policy.require_approval,
                "topup_amounts": policy.topup_amounts}, request)


async def shared_selection(request: Request) -> Response:
    data = await run_tx(
        request, lambda tx: selection_service.selection_view(tx, request.path_params["share"])
    )
    return json_reply(data, request)


routes = [
    Route("/machines/{token}", machine_state, methods=["GET"]),
    Route("/machines/{token}/brews", start_brew, methods=["POST"]),
    Route("/consumers/signup", signup, methods=["POST"]),
    Route("/consumers/login", login, methods=["POST"]),
    Route("/consumers/logout", logout, methods=["POST"]),
    Route("/consumers/me", me, methods=["GET"]),
    Route("/consumers/topups", topup, methods=["POST"]),
    Route("/selections/{share}", shared_selection, methods=["GET"]),
    Route("/staff/machines", add_machine, methods=["POST"]),
    Route("/staff/machines/{machine_id:int}/secret", rotate_secret, methods=["POST"]),
    Route("/staff/machines/{machine_id:int}/mode", set_mode, methods=["POST"]),
    Route("/staff/machines/{machine_id:int}", delete_machine, methods=["DELETE"]),
    Route("/staff/machines/{machine_id:int}/groups", attach_group, methods=["POST"]),
    Route("/staff/consumers/{consumer_id:int}/credit", manual_credit, methods=["POST"]),
    Route("/staff/consumers/{consumer_id:int}/approve", approve, methods=["POST"]),
    Route("/staff/consumer-policy", set_policy, methods=["POST"]),
    Route("/staff/groups", create_group, methods=["POST"]),
    Route("/staff/groups/{group_id:int}/members", add_member, methods=["POST"]),
]
