"""HTML pages: a machine's page (from its QR code), its display, accounts, payments, staff.

Pages render the same fragments the live channel pushes; their forms post to /api/v1.
"""

from __future__ import annotations

import io
from typing import Any

import segno
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.context import consumer_id_of, staff_of, viewer_of
from accounts.models import Site
from accounts.roles import Permission
from accounts.tenant import owned_by
from customers import service as consumers
from customers import views as customer_views
from customers.models import Consumer, OutboxMail
from customers.policy import policy
from errors import NotFound
from loyalty.profiles import asked_of
from machines import brew_service, machine_setup, selection_service, views
from machines.access import Charge
from machines.live import MachineTopic
from machines.models import Machine, Selection
from machines.scanned_machines import remember_machine
from payments.runtime import runtime_of
from realtime.events import Tx
from realtime.models import current_version
from web.redirects import redirect
from web.state import app_state, run_tx
from web.templating import page


def machine_url(request: Request, token: str) -> str:
    return f"{app_state(request).settings.public_url}/m/{token}"


def qr(url: str) -> segno.QRCode:
    return segno.make(url, error="m")


async def machine_page(request: Request) -> Response:
    token = request.path_params["token"]
    viewer = await viewer_of(request)

    async def op(tx: Tx) -> dict[str, Any]:
        machine = await brew_service.machine_by_token(tx.session, token)
        remember_machine(request, machine.id)
        found = await brew_service.offer(tx.session, machine, consumer_id_of(request))
        topic = views.machine_topic(machine.id)
        view = await views.machine_view(tx.session, machine.id)
        view["version"] = await current_version(tx.session, topic)
        kind = MachineTopic()
        context: dict[str, Any] = {
            "token": token,
            "offer": found,
            "view": kind.present(view, kind.audience(view, viewer)),
            "currency": view["currency"],
            "topics": [topic],
            "user": None,
            "low_credit": False,
        }
        if found.consumer is not None:
            user_topic = customer_views.user_topic(found.consumer.id)
            user = await customer_views.user_view(tx.session, found.consumer.id)
            user["version"] = await current_version(tx.session, user_topic)
            context["user"] = user
            context["topics"].append(user_topic)
            context["low_credit"] = _short_of_credit(found, user["balance"])
        return context

    return page(request, "machines/machine.html", **await run_tx(request, op))


def _short_of_credit(found: brew_service.Offer, balance: int) -> bool:
    """Paying from credit that covers none of the priced drinks: the page says to top up."""
    if found.grant is None or found.grant.charge is not Charge.CREDIT:
        return False
    prices = [d["price"] for d in found.drinks if d["price"] > 0]
    return bool(prices) and balance < min(prices)


async def machine_qr(request: Request) -> Response:
    """The QR code as an SVG image, as the machine's display shows it."""
    token = request.path_params["token"]
    async with app_state(request).sessionmaker() as session:
        await brew_service.machine_by_token(session, token)
    buffer = io.BytesIO()
    # A standalone image needs its XML namespace (unlike the SVG inlined in pages).
    qr(machine_url(request, token)).save(buffer, kind="svg", scale=8, border=2, xmldecl=False)
    return Response(buffer.getvalue(), media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=3600"})


async def machine_display(request: Request) -> Response:
    """What the machine's own screen shows: its name, its QR code, its live status."""
    token = request.path_params["token"]
    async with app_state(request).sessionmaker() as session:
        machine = await brew_service.machine_by_token(session, token)
        view = await views.machine_view(session, machine.id)
        view["version"] = await current_version(session, views.machine_topic(machine.id))
    remember_machine(request, machine.id)  # the screen watches the machine's topic
    shown = MachineTopic().present(view, "public")
    return page(request, "machines/display.html", token=token, view=shown,
                topics=[views.machine_topic(machine.id)], url=machine_url(request, token))


async def account_form(request: Request) -> Response:
    token = request.path_params["token"]
    async with app_state(request).sessionmaker() as session:
        machine = await brew_service.machine_by_token(session, token)
        company = await views.company_of_machine(session, machine)
        asked = await asked_of(session, company.id)  # the venue's loyalty fields, to sign up
    name = request.url.path.rsplit("/", 1)[-1]  # signup, login or forgot
    return page(request, f"machines/{name}.html", token=token, machine=machine, asked=asked,
                signed_up=request.query_params.get("signed_up") == "1")


async def account_page(request: Request) -> Response:
    consumer_id = consumer_id_of(request)
    if consumer_id is None:
        return page(request, "machines/no_account.html", status=401)
    async with app_state(request).sessionmaker() as session:
        consumer = await session.get(Consumer, consumer_id)
        if consumer is None:
            return page(request, "machines/no_account.html", status=401)
        user = await customer_views.user_view(session, consumer_id)
        user["version"] = await current_version(session, customer_views.user_topic(consumer_id))
        rules = await policy(session, consumer.company_id)
    return page(request, "machines/account.html", user=user, amounts=rules.topup_amounts,
                topics=[customer_views.user_topic(consumer_id)])


async def confirm_email(request: Request) -> Response:
    """The mailed link confirms the address and signs nobody in: whoever holds the link
    (a mail read over a shoulder, a forwarded message) gains nothing but the confirmation.
    The page leads to signing in with the password, at a machine of the account's company."""
    consumer = await run_tx(
        request, lambda tx: consumers.confirm(tx, request.path_params["token"])
    )
    async with app_state(request).sessionmaker() as session:
        token = await session.scalar(
            select(Machine.token).join(Site, Site.id == Machine.site_id)
            .where(Site.company_id == consumer.company_id).order_by(Machine.id).limit(1)
        )
    return page(request, "machines/confirmed.html", consumer=consumer,
                sign_in=f"/m/{token}/login" if token else None)


async def outbox(request: Request) -> Response:
    """The mail a server would have sent, while none is configured: for the company's
    administrators only (it holds confirmation links). With SMTP there is no such page."""
    if app_state(request).settings.smtp_url:
        raise NotFound()
    staff = await staff_of(request)
    if staff is None:
        return redirect("/staff/login")
    staff.require(Permission.READ_MAIL)
    async with app_state(request).sessionmaker() as session:
        mails = (
            await session.scalars(
                select(OutboxMail)
                .join(Consumer, Consumer.id == OutboxMail.consumer_id)
                .where(owned_by(staff, Consumer.company_id))
                .order_by(OutboxMail.id.desc()).limit(50)
            )
        ).all()
    return page(request, "machines/outbox.html", mails=mails, staff=staff)


async def shared_selection(request: Request) -> Response:
    data = await run_tx(
        request, lambda tx: selection_service.selection_view(tx, request.path_params["share"])
    )
    return page(request, "machines/selection.html", **data)


# Staff


async def staff_machines(request: Request) -> Response:
    staff = await staff_of(request)
    if staff is None:
        return redirect("/staff/login")
    staff.require(Permission.MACHINES)
    viewer = await viewer_of(request)
    state = app_state(request)
    chosen = request.query_params.get("site", "")
    site_id = int(chosen) if chosen.isdecimal() and len(chosen) < 19 else None
    number = request.query_params.get("page", "1")
    wanted = int(number) if number.isdecimal() and len(number) < 7 else 1
    search = request.query_params.get("q", "")[:100]
    async with state.sessionmaker() as session:
        listing = await machine_setup.listing(session, staff, site_id, wanted, search)
        machines = listing.rows
        sites = [s for s in (await session.scalars(
            select(Site).where(owned_by(staff, Site.company_id)).order_by(Site.name, Site.id)
        )).all() if staff.may_use(s.id)]
        cards: list[dict[str, Any]] = []
        kind = MachineTopic()
        for machine in machines:
            view = await views.machine_view(session, machine.id)
            view["version"] = await current_version(session, views.machine_topic(machine.id))
            shown = kind.present(view, kind.audience(view, viewer))
            cards.append({"machine": machine, "view": shown})
        # Consumers' names, e-mails and balances: for the roles that see people only.
        sees_people = staff.may(Permission.PEOPLE)
        waiting = (
            await session.scalars(
                select(Consumer)
                .where(owned_by(staff, Consumer.company_id), Consumer.verified.is_(False))
                .order_by(Consumer.id)
            )
        ).all() if sees_people else []
        people = (
            await session.scalars(
                select(Consumer).where(owned_by(staff, Consumer.company_id))
                .order_by(Consumer.name).limit(200)
            )
        ).all() if sees_people else []
        balances = {c.id: await customer_views.balance_of(session, c.id) for c in people}
        rows = await session.execute(
            select(Selection.id, Selection.share_token)
            .where(owned_by(staff, Selection.company_id))
        )
        shares = {selection_id: share for selection_id, share in rows}
        rules = await policy(session, staff.company_id)
        payment_provider = await runtime_of(request).provider_for(session, staff.company_id)
    return page(
        request, "machines/staff.html", staff=staff, cards=cards, waiting=waiting,
        listing=listing, sites=sites, site_id=site_id, q=search,
        site_names={s.id: s.name for s in sites} if len(sites) > 1 else {},
        currency=cards[0]["view"]["currency"] if cards else "EUR",
        people=people, balances=balances, shares=shares, rules=rules,
        show_pins=staff.may(Permission.RUN_MACHINES), sees_people=sees_people,
        manage_people=sees_people and staff.may(Permission.MANAGE_PEOPLE),
        payments=staff.may(Permission.CONFIGURE),
        provider=payment_provider.name,
        topics=[views.machine_topic(c["machine"].id) for c in cards][:20],
    )


async def qr_sheet(request: Request) -> Response:
    staff = await staff_of(request)
    if staff is None:
        return redirect("/staff/login")
    staff.require(Permission.MACHINES)
    async with app_state(request).sessionmaker() as session:
        machines = (
            await session.scalars(
                select(Machine)
                .join(Site, Site.id == Machine.site_id)
                .where(owned_by(staff, Site.company_id))
                .order_by(Machine.name)
            )
        ).all()
    cards = [
        {"label": m.name, "url": machine_url(request, m.token),
         "svg": qr(machine_url(request, m.token)).svg_inline(scale=4, border=2)}
        for m in machines if staff.may_use(m.site_id)  # a site-limited member: their sites'
    ]
    return page(request, "machines/qr_sheet.html", cards=cards)


routes = [
    Route("/m/{token}", machine_page),
    Route("/m/{token}/qr.svg", machine_qr),
    Route("/m/{token}/display", machine_display),
    Route("/m/{token}/signup", account_form),
    Route("/m/{token}/login", account_form),
    Route("/m/{token}/forgot", account_form),
    Route("/account", account_page),
    Route("/account/confirm/{token}", confirm_email),
    Route("/account/outbox", outbox),
    Route("/s/{share}", shared_selection),
    Route("/staff/machines", staff_machines),
    Route("/staff/machines/qr", qr_sheet),
]
