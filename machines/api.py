"""The machines JSON API (/api/v1): a machine from its QR code, brews, shared selections,
and what managers do with machines, consumers' credit and groups."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from accounts.api import STAFF
from accounts.context import consumer_id_of, staff_of, viewer_of
from accounts.service import NotSignedIn, StaffIdentity
from api.endpoint import SIGNED_IN, Endpoint, Param, Reply, Tag
from customers import service as consumers
from customers import views as customer_views
from customers.errors import BadKey, InsufficientCredit, SignInRequired
from errors import Forbidden, NotFound
from machines import admin_service, brew_service, selection_service, views
from machines.commands import (
    AddMachine,
    AddMember,
    Approve,
    AttachGroup,
    DeleteMachine,
    GroupSettings,
    ManualCredit,
    SetMode,
    SetPolicy,
    StartBrew,
)
from machines.errors import (
    AccountNotReady,
    GroupNameTaken,
    MachineBusy,
    MachineInAlert,
    MachineOffline,
    NotAuthorised,
    SerialTaken,
    UnknownMachine,
)
from machines.live import MachineTopic
from machines.scanned_machines import remember_machine
from machines.schemas import (
    Approved,
    BrewStarted,
    CreditPosted,
    GroupCreated,
    MachineAdded,
    MachineChanged,
    MachineState,
    Policy,
    Secret,
    SharedSelection,
)
from payments.checkout import checkout
from payments.errors import PaymentProviderError, PaymentsUnavailable
from payments.runtime import runtime_of
from realtime.events import Tx
from realtime.models import current_version
from web.commands import command
from web.htmx import json_reply
from web.state import device_of, run_tx

MACHINES = Tag("machines", "Coffee machines, from their QR code (docs/machines.md).")
TOKEN = Param("MachineToken", "token", "The machine's token, as in its QR code (/m/{token}).",
              {"type": "string", "minLength": 1, "maxLength": 64})
SHARE = Param("ShareToken", "share", "The token of a selection's share link (/s/{share}).",
              {"type": "string", "maxLength": 64})
MACHINE_ID = Param("MachineId", "machine_id", "A machine's id (from the staff pages or when "
                   "added).")
CONSUMER_ID = Param("ConsumerId", "consumer_id", "A consumer's id.")
GROUP_ID = Param("GroupId", "group_id", "A user group's id.")
OK = Reply({"type": "object", "required": ["ok"], "properties": {
    "ok": {"const": True},
    "redirect": {"type": "string", "description": "For the pages: where to go next."}}},
    "Done.")
# What every staff route may answer besides its own errors.
STAFF_ERRORS = [NotSignedIn, Forbidden, NotFound]


def _now() -> datetime:
    return datetime.now(UTC)


async def machine_state(request: Request) -> Response:
    """Status (online, busy, alerts, current brew), the drinks and prices for this visitor,
    whether they may brew (and if not, the error a brew would get), and the topics to watch
    (`machine:{id}`, `user:{id}` when signed in)."""
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
    """Checks access for the machine's mode, that the machine is online, free and has what
    the drink needs, charges the credit (prepaid/custom members) and sends the command; in
    payment mode the brew waits for the payment at `payment.checkout_url`. A refused brew
    charges nothing. The same `idempotency_key` returns the first brew (200, `duplicate`)
    and charges once."""
    brew = await command(request, StartBrew)
    token = request.path_params["token"]
    runtime = runtime_of(request)

    async def op(tx: Tx) -> brew_service.Requested:
        machine = await brew_service.machine_by_token(tx.session, token)
        company = await views.company_of_machine(tx.session, machine)
        provider = await runtime.provider_for(tx.session, company.id)
        return await brew_service.request(
            tx, token, brew.product_id, consumer_id_of(request), device_of(request),
            brew.idempotency_key, _now(), provider.name,
        )

    result = await run_tx(request, op)
    remember_machine(request, result.brew.machine_id)
    out: dict[str, Any] = {"brew": _brew(result.brew), "duplicate": result.duplicate}
    if result.payment is not None:
        out["payment"] = await checkout(request, result.payment, f"/m/{token}")
        out["redirect"] = out["payment"]["checkout_url"]
    return json_reply(out, request, 200 if result.duplicate else 201, offsite=True)


async def shared_selection(request: Request) -> Response:
    """A product selection's drinks and the machines using it, by its share link."""
    data = await run_tx(
        request, lambda tx: selection_service.selection_view(tx, request.path_params["share"])
    )
    return json_reply(data, request)


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
    """Needs the run-machines permission. Creates the selection and group the mode needs, and
    returns the device secret once."""
    staff = await _staff(request)
    new = await command(request, AddMachine)
    added = await run_tx(request, lambda tx: admin_service.add_machine(tx, staff, new))
    return json_reply({"machine": _machine(added.machine), "secret": added.secret}, request, 201)


async def rotate_secret(request: Request) -> Response:
    """The old secret stops working; the new one is shown once."""
    staff = await _staff(request)
    secret = await run_tx(
        request,
        lambda tx: admin_service.rotate_secret(tx, staff, request.path_params["machine_id"]),
    )
    return json_reply({"secret": secret}, request)


async def set_machine_mode(request: Request) -> Response:
    """Creates the selection and group the mode needs when missing."""
    staff = await _staff(request)
    chosen = await command(request, SetMode)
    machine = await run_tx(
        request,
        lambda tx: admin_service.set_mode(
            tx, staff, request.path_params["machine_id"], chosen.mode
        ),
    )
    return json_reply({"machine": _machine(machine)}, request)


async def delete_machine(request: Request) -> Response:
    """`confirm` must be the machine's name: its usage data goes with it."""
    staff = await _staff(request)
    typed = await command(request, DeleteMachine)
    await run_tx(
        request,
        lambda tx: admin_service.delete_machine(
            tx, staff, request.path_params["machine_id"], typed.confirm
        ),
    )
    return json_reply({"ok": True, "redirect": "/staff/machines"}, request)


async def credit_consumer(request: Request) -> Response:
    """Adds credit (a `manual` ledger entry); the same key credits once."""
    staff = await _staff(request)
    given = await command(request, ManualCredit)
    posted = await run_tx(
        request,
        lambda tx: admin_service.manual_credit(
            tx, staff, request.path_params["consumer_id"], given
        ),
    )
    return json_reply({"entry": {"id": posted.entry.id, "amount": posted.entry.amount,
                                 "balance_after": posted.entry.balance_after},
                       "duplicate": posted.duplicate}, request)


async def approve_consumer(request: Request) -> Response:
    """Marks the account verified and gives it a role (consumer, staff, guest)."""
    staff = await _staff(request)
    approval = await command(request, Approve)
    consumer = await run_tx(
        request,
        lambda tx: consumers.approve(
            tx, staff, request.path_params["consumer_id"], approval.role
        ),
    )
    return json_reply({"consumer": {"id": consumer.id, "verified": consumer.verified,
                                    "role": consumer.role}}, request)


async def create_group(request: Request) -> Response:
    """Optionally with a regular recharge: `recharge_every` day, week or month at
    `recharge_at` (local time, HH:MM); it runs once per period."""
    staff = await _staff(request)
    settings = await command(request, GroupSettings)
    group = await run_tx(request, lambda tx: admin_service.create_group(tx, staff, settings))
    return json_reply({"group": {"id": group.id, "name": group.name}}, request, 201)


async def add_group_member(request: Request) -> Response:
    """Idempotent."""
    staff = await _staff(request)
    member = await command(request, AddMember)
    await run_tx(
        request,
        lambda tx: admin_service.add_member(
            tx, staff, request.path_params["group_id"], member.consumer_id
        ),
    )
    return json_reply({"ok": True}, request)


async def attach_group(request: Request) -> Response:
    """In custom mode, optionally with the group's own selection."""
    staff = await _staff(request)
    link = await command(request, AttachGroup)
    await run_tx(
        request,
        lambda tx: admin_service.attach_group(
            tx, staff, request.path_params["machine_id"], link.group_id, link.selection_id
        ),
    )
    return json_reply({"ok": True}, request)


async def set_consumer_policy(request: Request) -> Response:
    """Whether new consumers wait for an administrator's approval, and the top-up amounts
    offered (1 to 8 amounts); what is left out stays as it was."""
    staff = await _staff(request)
    change = await command(request, SetPolicy)
    policy = await run_tx(request, lambda tx: admin_service.set_policy(tx, staff, change))
    return json_reply({"require_approval": policy.require_approval,
                       "topup_amounts": policy.topup_amounts}, request)


routes = [
    Endpoint("/machines/{token}", machine_state, "GET", tag=MACHINES,
             summary="A machine as this visitor sees it", params=[TOKEN],
             responses={200: Reply(MachineState, "The machine.")}, errors=[UnknownMachine]),
    Endpoint("/machines/{token}/brews", start_brew, "POST", tag=MACHINES,
             summary="Start a brew", params=[TOKEN], body=StartBrew,
             responses={201: Reply(BrewStarted, "Started."),
                        200: Reply(BrewStarted, "A retry: the brew this key already started.")},
             errors=[SignInRequired, InsufficientCredit, AccountNotReady, NotAuthorised,
                     UnknownMachine, MachineOffline, MachineBusy, MachineInAlert,
                     PaymentsUnavailable, PaymentProviderError, BadKey]),
    Endpoint("/selections/{share}", shared_selection, "GET", tag=MACHINES,
             summary="A shared selection", params=[SHARE],
             responses={200: Reply(SharedSelection, "The selection.")}, errors=[NotFound]),
    Endpoint("/staff/machines", add_machine, "POST", tag=STAFF, summary="Add a machine",
             body=AddMachine, responses={201: Reply(MachineAdded, "Added.")},
             errors=[*STAFF_ERRORS, SerialTaken], security=SIGNED_IN),
    Endpoint("/staff/machines/{machine_id:id}/secret", rotate_secret, "POST", tag=STAFF,
             summary="Issue a new device secret", params=[MACHINE_ID],
             responses={200: Reply(Secret, "The new secret.")}, errors=STAFF_ERRORS,
             security=SIGNED_IN),
    Endpoint("/staff/machines/{machine_id:id}/mode", set_machine_mode, "POST", tag=STAFF,
             summary="Set a machine's mode", params=[MACHINE_ID], body=SetMode,
             responses={200: Reply(MachineChanged, "Set.")}, errors=STAFF_ERRORS,
             security=SIGNED_IN),
    Endpoint("/staff/machines/{machine_id:id}", delete_machine, "DELETE", tag=STAFF,
             summary="Delete a machine and its usage data", params=[MACHINE_ID],
             body=DeleteMachine, responses={200: OK}, errors=STAFF_ERRORS, security=SIGNED_IN),
    Endpoint("/staff/machines/{machine_id:id}/groups", attach_group, "POST", tag=STAFF,
             summary="Let a group use a machine", params=[MACHINE_ID], body=AttachGroup,
             responses={200: OK}, errors=STAFF_ERRORS, security=SIGNED_IN),
    Endpoint("/staff/consumers/{consumer_id:id}/credit", credit_consumer, "POST", tag=STAFF,
             summary="Credit a consumer by hand", params=[CONSUMER_ID], body=ManualCredit,
             responses={200: Reply(CreditPosted, "Credited (or the retry of it).")},
             errors=STAFF_ERRORS, security=SIGNED_IN),
    Endpoint("/staff/consumers/{consumer_id:id}/approve", approve_consumer, "POST", tag=STAFF,
             summary="Approve a consumer", params=[CONSUMER_ID], body=Approve,
             responses={200: Reply(Approved, "Approved.")}, errors=STAFF_ERRORS,
             security=SIGNED_IN),
    Endpoint("/staff/consumer-policy", set_consumer_policy, "POST", tag=STAFF,
             summary="Set the consumer rules", body=SetPolicy,
             responses={200: Reply(Policy, "The rules now.")},
             errors=[NotSignedIn, Forbidden], security=SIGNED_IN),
    Endpoint("/staff/groups", create_group, "POST", tag=STAFF, summary="Create a user group",
             body=GroupSettings, responses={201: Reply(GroupCreated, "Created.")},
             errors=[*STAFF_ERRORS, GroupNameTaken], security=SIGNED_IN),
    Endpoint("/staff/groups/{group_id:id}/members", add_group_member, "POST", tag=STAFF,
             summary="Add a consumer to a group", params=[GROUP_ID], body=AddMember,
             responses={200: OK}, errors=STAFF_ERRORS, security=SIGNED_IN),
]
