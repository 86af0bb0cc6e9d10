"""Builds the Starlette app: routes, middleware, lifespan, event subscribers. Nothing else."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from accounts import api as accounts_api
from accounts.context import viewer_of
from api import service as service_api
from backoffice import audit_pages as backoffice_audit
from backoffice import automatic_pages as backoffice_automatic
from backoffice import campaign_pages as backoffice_campaigns
from backoffice import company_pages as backoffice_company
from backoffice import coupon_pages as backoffice_coupons
from backoffice import customer_pages as backoffice_customers
from backoffice import dashboard_pages as backoffice_dashboard
from backoffice import group_pages as backoffice_groups
from backoffice import hours_pages as backoffice_hours
from backoffice import loyalty_pages as backoffice_loyalty_settings
from backoffice import loyalty_stats as backoffice_loyalty
from backoffice import machine_pages as backoffice_machines
from backoffice import menu_files, menu_pages, rollups, signup_pages, stats_topic
from backoffice import pages as backoffice_pages
from backoffice import people_pages as backoffice_people
from backoffice import records_pages as backoffice_records
from backoffice import reward_pages as backoffice_rewards
from backoffice import segment_pages as backoffice_segments
from backoffice import sms_pages as backoffice_sms
from backoffice import staff_pages as backoffice_staff
from backoffice import stats_pages as backoffice_stats
from backoffice import tables_pages as backoffice_tables
from backoffice import till_pages as backoffice_tills
from backoffice.onboarding_facts import site_missing
from customers import sweeper as customers_sweeper
from customers import topups
from customers.api import Accounts, Prefixed
from customers.reset_api import PasswordResets
from customers.reset_pages import routes as reset_pages
from customers.views import add_part as add_user_view_part
from db.engine import make_engine, make_sessionmaker
from domain import outbox_sweeper
from loyalty import automatic, campaign_send, coupon_sweep, sms_dispatch, sms_report_api
from loyalty import hearing as loyalty_points
from loyalty import pages as loyalty_pages
from loyalty import profile_pages as loyalty_profile
from loyalty import unsubscribe_pages as unsubscribe
from loyalty.signup_profile import ProfileAtSignUp
from loyalty.views import user_points
from machines import api as machines_api
from machines import pages as machines_pages
from machines import payment_outcome as brew_payments
from machines import staff_api as machines_staff_api
from machines import staff_pages as machines_staff_pages
from machines import sweeper as machines_sweeper
from machines.device import device_socket
from machines.live import register_all as register_machine_topics
from machines.places import MachinePlaces
from machines.views import user_brews
from ordering import account_pages as table_accounts
from ordering import api as ordering_api
from ordering import pages as ordering_pages
from ordering import payment_api, pos_api, readiness
from ordering import payment_outcome as table_payments
from ordering import sweeper as ordering_sweeper
from ordering.config import OrderingConfig
from ordering.live import register_all
from ordering.places import PREFIX as TABLE_PLACE
from ordering.places import TablePlaces
from payments import api as payments_api
from payments import pages as payments_pages
from payments.runtime import PaymentsRuntime, refund_due
from pos import archives as pos_archives
from pos import clock_routes as till_clock
from pos import (
    customer_api,
    receipt_pages,
    sale_api,
    sell_pages,
    sync_api,
    till_api,
    till_offline,
    till_pages,
    till_reports,
    till_tickets,
)
from pos.signing import sealing_box
from realtime.bus import make_bus
from realtime.hub import Hub
from settings import ROOT, Settings
from telemetry.metrics import process_ended
from web import ratelimit, session_store
from web.body_limit import BodyLimit
from web.errors import handlers
from web.gc_policy import GcPolicy, warm_up
from web.headers import BrowserHeaders
from web.live import KeepRawSend, live_endpoint
from web.metrics import metrics_endpoint
from web.request_log import RequestLog
from web.security import SessionIdentity
from web.sessions import ServerSessions
from web.state import AppState
from web.timers import every


def assemble(config: OrderingConfig) -> None:
    """What the rooms are told at assembly: their live topics, the customer's view of
    brews, who hears which domain event, and what a site needs before it sells. Tests
    assemble the same way."""
    register_all(config)
    register_machine_topics()
    sync_api.assemble()  # the till's topic, and the Z waiting for tills that sync offline
    session_store.register()  # the end of a session, heard by the sockets it opened
    add_user_view_part(user_brews)
    add_user_view_part(user_points)
    loyalty_points.register()  # points for visits heard from the till, tables, machines
    table_payments.register(config)
    brew_payments.register()
    topups.register()
    rollups.register()  # the statistics' rollups hear sales, bills, brews, top-ups
    stats_topic.register()
    readiness.use(site_missing)  # a site's POS sells once the checklist's blocking steps are done


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    config = OrderingConfig(
        pin_length=settings.pin_length,
        pin_limit=settings.pin_max_failures,
        pin_window_s=settings.pin_failure_window_s,
        pin_table_limit=settings.pin_table_max_failures,
        pin_table_pace_s=settings.pin_table_pace_s,
        idle_s=settings.session_idle_s,
        table_sockets=settings.ws_max_per_table,
    )
    assemble(config)
    payments = PaymentsRuntime.from_settings(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        bus = make_bus(settings.redis_url)
        sessionmaker = make_sessionmaker(engine)
        hub = Hub(sessionmaker, settings.event_hold_s)
        state = AppState(settings, engine, sessionmaker, bus, hub)
        app.state.comptoir = state
        app.state.ordering = config  # read by ordering.config.config_of
        app.state.payments = payments
        await warm_up(engine)
        collector = app.state.gc_policy = GcPolicy()
        # Each room's timers: safe in every process at once (conditional writes, claims).
        jobs: list[tuple[str, float, Callable[[], Awaitable[object]]]] = [
            ("idle tables", settings.sweep_interval_s,
             partial(ordering_sweeper.sweep_once, state, config)),
            ("machines", settings.machine_sweep_s,
             partial(machines_sweeper.sweep_once, sessionmaker, bus, settings)),
            ("customers", settings.machine_sweep_s,
             partial(customers_sweeper.sweep_once, sessionmaker, bus, settings)),
            ("refunds", settings.machine_sweep_s,
             partial(refund_due, sessionmaker, bus, payments)),
            ("outbox", settings.outbox_sweep_s,
             partial(outbox_sweeper.sweep_once, sessionmaker, bus)),
            ("coupons", settings.coupon_sweep_s,
             partial(coupon_sweep.sweep_once, sessionmaker, bus)),
            ("automatic", settings.coupon_sweep_s,
             partial(automatic.sweep_once, sessionmaker, bus)),
            ("sms", settings.sms_dispatch_s,
             partial(sms_dispatch.dispatch_once, sessionmaker, bus, settings)),
            ("campaigns", settings.outbox_sweep_s,
             partial(campaign_send.sweep_once, sessionmaker, bus, settings,
                     backoffice_campaigns.RESOLVE)),
            ("tries", settings.sweep_interval_s, partial(ratelimit.forget_expired, sessionmaker)),
            ("sessions", settings.sweep_interval_s,
             partial(session_store.forget_expired, sessionmaker)),
            ("archives", settings.sweep_interval_s,
             partial(pos_archives.sweep_once, sessionmaker, bus,
                     sealing_box(settings.secret_key))),
        ]
        tasks = [
            asyncio.create_task(state.hub.run(bus), name="hub"),
            *(asyncio.create_task(every(s, job, name), name=name) for name, s, job in jobs),
            asyncio.create_task(collector.run(), name="gc"),
        ]
        # What start-up made lives for ever: frozen out of GC passes.
        collector.start(freeze=settings.gc_freeze_at_start)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            collector.stop()
            await payments.close()
            await bus.close()
            await engine.dispose()
            process_ended()  # its open sockets and connections leave the workers' sums

    # Consumers sign up and in at a machine or a table (its token as `t:{token}`).
    places = Prefixed(MachinePlaces(), {TABLE_PLACE: TablePlaces()})
    routes = [
        *service_api.routes,
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Mount("/api/v1", routes=ordering_api.routes + payment_api.routes + pos_api.routes
              + accounts_api.routes + machines_api.routes
              + machines_staff_api.routes + payments_api.routes
              + Accounts(places, ProfileAtSignUp()).routes() + PasswordResets(places).routes()
              + signup_pages.routes + till_api.routes + till_clock.api_routes
              + till_tickets.api_routes + till_reports.api_routes + sale_api.routes
              + customer_api.routes              + sync_api.routes + till_offline.api_routes
              + sms_report_api.routes),
        WebSocketRoute("/ws", live_endpoint(viewer_of)),
        WebSocketRoute("/ws/device", device_socket),
        Mount("/static", StaticFiles(directory=ROOT / "static"), name="static"),
        *ordering_pages.routes,
        *machines_pages.routes,
        *loyalty_pages.routes,
        *loyalty_profile.routes,
        *unsubscribe.routes,
        *table_accounts.routes,
        *payments_pages.routes,
        *machines_staff_pages.routes,
        *backoffice_tables.routes,
        *backoffice_staff.routes,
        *backoffice_people.routes,
        *backoffice_loyalty_settings.routes,
        *backoffice_rewards.routes,
        *backoffice_customers.routes,
        *signup_pages.pages,
        *reset_pages,
        *menu_pages.routes,
        *menu_files.routes,
        *backoffice_pages.routes,
        *backoffice_company.routes,
        *backoffice_audit.routes,
        *backoffice_machines.routes,
        *backoffice_groups.routes,
        *backoffice_tills.routes,
        *backoffice_records.routes,
        *till_pages.routes,
        *till_offline.routes,
        *backoffice_hours.routes,
        *backoffice_stats.routes,
        *backoffice_loyalty.routes,
        *backoffice_dashboard.routes,
        *backoffice_coupons.routes,
        *backoffice_sms.routes,
        *backoffice_campaigns.routes,
        *backoffice_automatic.routes,
        *backoffice_segments.routes,
        *till_clock.routes,
        *receipt_pages.routes,
        *till_tickets.routes,
        *till_reports.routes,
        *sell_pages.routes,
    ]
    middleware = [
        Middleware(KeepRawSend),  # first: outermost, sees the server's own send
        Middleware(RequestLog),  # each request's id, log line and latency
        Middleware(BodyLimit),  # bodies counted as they arrive, refused past their limit
        Middleware(BrowserHeaders, public_url=settings.public_url),  # CSRF refusals too
        Middleware(ServerSessions, secure=settings.secure_cookies),  # kept in the database
        Middleware(SessionIdentity, allowed_origins=settings.allowed_origins,
                   open_paths=(unsubscribe.PATH,)),
    ]
    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers=handlers(settings.public_url),
        lifespan=lifespan,
    )
