"""The permission matrix: every role × every route of the app × own site / another site of
the company / another company, and every live topic the same way.

One line per route pattern says who may use it: a `Permission` (then the roles of
accounts/roles.py that hold it), `PUBLIC` (everyone alike: diners, consumers, machines,
webhooks, signing in) or `STAFF` (any signed-in member of staff, on their own things). A
route of the app with no line fails the test: a new route is added to the table, with the
permission it needs, before it ships.

Each cell is one request by a member of staff of that role, signed in once for the whole
run: staff of the demo company on every site ("own"), staff given only a second site of
the company ("site"), staff of another company ("company"), and, for the roles that open
some of the back office's sections (accounts/sections.py), staff of the demo company given
none of them ("nosections": refused every route of statistics, customers, campaigns and
loyalty's settings, keeping the rest of their role). The request names the
demo company's objects (its site, tables, machines, selections, consumers…):
- a role without the permission is refused (403, or 404 as for a missing object);
- so is a role of another company for anything naming an object, and a role of another
  site for anything naming an object kept on a site (company-wide objects, such as
  selections, groups and consumers, are for every site of the company);
- a role with the permission, where it may work, is not refused (no 401, 403, 404, no way
  back to signing in, no server error).
Refused cells run before allowed ones on each line, so that a line that deletes or
archives (`once`) is refused before anything is gone; its allowed cells after the first
may find the object gone.

To add a route: add one `Line(...)` to LINES (method, pattern exactly as the app's route
path, who may use it, the path with {names} of the objects below, a body if it takes one).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from accounts.models import Company, Site, Staff, StaffSite
from accounts.roles import ROLES, Permission, can
from accounts.sections import SECTIONED, holds, opens_sections, permissions_of
from accounts.staff_admin import ROLE_ORDER, RoleName
from customers.models import Consumer, UserGroup
from demo.seed import ADDRESS, DemoVenue, demo_hash
from machines.models import Machine, Selection, SelectionProduct
from ordering.models import Category, DiningTable, Product
from pos import device
from pos.tills import NewTill, create_till
from realtime import topics
from realtime.bus import make_bus
from realtime.events import run
from realtime.topics import Viewer
from tests.api.test_bad_input import login
from tests.api.test_tenant import _theirs
from tests.conftest import Database, client_for

PUBLIC = "public"  # everyone alike, signed in or not
STAFF = "staff"  # any signed-in member of staff
NOBODY = "nobody"  # no screen at all (a machine's own channel)
Who = Permission | tuple[Permission, ...] | str  # a tuple: any one of them

ALL_ROLES = ["kitchen", "cashier", "supervisor", "manager", "admin",
             "product_manager", "user_manager", "machine_owner", "reporter"]
SCOPES = ["own", "site", "company"]
# Every role in every scope, and the roles that open a section also limited to none.
CELLS = [(role, scope) for role in ALL_ROLES for scope in SCOPES] + [
    (role, "nosections") for role in ALL_ROLES if opens_sections(role)]
PASSWORD = "matrix-demo-1"
PIN = "2468"

# The objects a path or body may name ({name}), and which are kept on a site.
ON_SITE = {"site", "table", "round", "ticket", "product", "category", "machine",
           "pos_ticket", "till", "shift", "closing", "sync_issue",
           "spare_table", "spare_table2", "spare_category", "spare_product", "spare_machine"}
COMPANY_WIDE = {"archive", "selection", "drink", "group", "consumer", "staff", "reward", "coupon",
                "spare_selection", "spare_reward", "trigger", "spare_trigger",
                "campaign", "spare_campaign", "automatic", "spare_automatic",
                "segment", "spare_segment",
                "spare_drink", "spare_consumer", "spare_staff", "spare_customer"}


@dataclass(frozen=True)
class Line:
    method: str
    pattern: str  # the app's route path, as app.routes has it
    who: Who
    path: str = ""  # with {names}; the pattern itself when empty
    body: dict[str, Any] | None = None
    once: bool = False  # deletes or archives: allowed cells after the first may find it gone
    refused_also: tuple[int, ...] = ()  # another answer that refuses on this route
    # A till's own route: asked from a till device paired at the member's site, with the
    # member switched in by PIN (a password session is not a till's: refused for all).
    till: bool = False
    whole_company: bool = False  # staff limited to some sites are refused it
    note: str = field(default="", compare=False)


P = Permission
M = "{machine}"
LINES: list[Line] = [
    # Everyone's: health, documents, the diners' and consumers' API, signing in.
    Line("GET", "/healthz", PUBLIC),
    Line("GET", "/api/v1/openapi.json", PUBLIC),
    Line("GET", "/metrics", PUBLIC),
    Line("GET", "/api/v1/tables/{token}", PUBLIC),
    Line("POST", "/api/v1/tables/{token}/start", PUBLIC),
    Line("POST", "/api/v1/tables/{token}/join", PUBLIC),
    Line("POST", "/api/v1/tables/{token}/cart/lines", PUBLIC),
    Line("PATCH", "/api/v1/tables/{token}/cart/lines/{line_id:id}", PUBLIC),
    Line("DELETE", "/api/v1/tables/{token}/cart/lines/{line_id:id}", PUBLIC),
    Line("POST", "/api/v1/tables/{token}/rounds", PUBLIC),
    Line("POST", "/api/v1/tables/{token}/customer", PUBLIC),
    Line("POST", "/api/v1/tables/{token}/reward", PUBLIC),
    Line("DELETE", "/api/v1/tables/{token}/reward", PUBLIC),
    Line("GET", "/api/v1/sites/{site_id:id}/menu", PUBLIC),
    Line("POST", "/api/v1/tables/{token}/checkout", PUBLIC),
    Line("POST", "/api/v1/tables/{token}/payments", PUBLIC),
    Line("POST", "/api/v1/tables/{token}/payments/{payment_id:id}/cancel", PUBLIC),
    Line("POST", "/api/v1/staff/login", PUBLIC),
    Line("POST", "/api/v1/staff/logout", STAFF, note="not requested: it would end the run"),
    Line("GET", "/api/v1/staff/me", STAFF),
    Line("GET", "/api/v1/machines/{token}", PUBLIC),
    Line("POST", "/api/v1/machines/{token}/brews", PUBLIC),
    Line("GET", "/api/v1/selections/{share}", PUBLIC),
    Line("POST", "/api/v1/consumers/topups", PUBLIC),
    Line("POST", "/api/v1/payments/test/{ref}", PUBLIC),
    Line("POST", "/api/v1/payments/stripe/webhook", PUBLIC),
    Line("POST", "/api/v1/payments/stripe/webhook/{company_id:id}", PUBLIC),
    # Brevo's SMS reports: the company's random token in the URL is the authority (tests/
    # loyalty/test_sms_reports.py).
    Line("POST", "/api/v1/sms/brevo/reports/{token}", PUBLIC),
    Line("POST", "/api/v1/consumers/signup", PUBLIC),
    Line("POST", "/api/v1/consumers/login", PUBLIC),
    Line("POST", "/api/v1/consumers/logout", PUBLIC),
    Line("GET", "/api/v1/consumers/me", PUBLIC),
    Line("POST", "/api/v1/password/forgot", PUBLIC),
    Line("POST", "/api/v1/consumers/password/forgot", PUBLIC),
    Line("POST", "/api/v1/password/reset", PUBLIC),
    Line("POST", "/api/v1/signup", PUBLIC),
    Line("POST", "/api/v1/signup/company", PUBLIC),
    Line("GET", "/", PUBLIC),
    Line("GET", "/lang/{code}", PUBLIC),
    Line("GET", "/t/{token}", PUBLIC),
    Line("GET", "/staff/login", PUBLIC),
    Line("GET", "/m/{token}", PUBLIC),
    Line("GET", "/m/{token}/qr.svg", PUBLIC),
    Line("GET", "/m/{token}/display", PUBLIC),
    Line("GET", "/m/{token}/signup", PUBLIC),
    Line("GET", "/m/{token}/login", PUBLIC),
    Line("GET", "/m/{token}/forgot", PUBLIC),
    Line("GET", "/account", PUBLIC),
    Line("GET", "/account/loyalty", PUBLIC),
    Line("POST", "/account/loyalty/profile", PUBLIC),  # the signed-in customer's own
    Line("GET", "/t/{token}/signup", PUBLIC),
    Line("GET", "/t/{token}/login", PUBLIC),
    Line("GET", "/t/{token}/forgot", PUBLIC),
    Line("GET", "/unsubscribe/{token}", PUBLIC),  # the signed link is the authority
    Line("POST", "/unsubscribe/{token}", PUBLIC),
    Line("GET", "/account/confirm/{token}", PUBLIC),
    Line("GET", "/s/{share}", PUBLIC),
    Line("GET", "/pay/test/{ref}", PUBLIC),
    Line("GET", "/staff/invite/{token}", PUBLIC),
    Line("POST", "/staff/invite/{token}", PUBLIC),
    Line("GET", "/account/invite/{token}", PUBLIC),
    Line("POST", "/account/invite/{token}", PUBLIC),
    Line("GET", "/signup", PUBLIC),
    Line("GET", "/signup/confirm/{token}", PUBLIC),
    Line("GET", "/signup/company", PUBLIC),
    Line("GET", "/password/forgot", PUBLIC),
    Line("GET", "/password/reset/{token}", PUBLIC),
    Line("GET", "/media/products/{key}", PUBLIC),
    # Any member of staff, on their own things.
    Line("GET", "/staff", STAFF),
    Line("GET", "/backoffice", STAFF),
    Line("GET", "/backoffice/progress", STAFF),
    # The day, live: each part of it for the roles that see it (tests/backoffice/test_live_day.py).
    Line("GET", "/backoffice/home/live", STAFF),
    Line("GET", "/backoffice/pin", STAFF),
    Line("POST", "/backoffice/pin", STAFF, body={"pin": "12a"}),  # refused at its field
    # The café's floor: POS, stations, tables (ordering/).
    Line("GET", "/api/v1/staff/sites/{site_id:id}/pos", P.FLOOR, "/api/v1/staff/sites/{site}/pos"),
    Line("GET", "/api/v1/staff/sites/{site_id:id}/stations/{station}", P.FLOOR,
         "/api/v1/staff/sites/{site}/stations/kitchen"),
    Line("POST", "/api/v1/staff/rounds/{round_id:id}/validate", P.VALIDATE,
         "/api/v1/staff/rounds/{round}/validate", {}),
    Line("POST", "/api/v1/staff/rounds/{round_id:id}/refuse", P.VALIDATE,
         "/api/v1/staff/rounds/{round}/refuse", {"reason": "non"}),
    Line("POST", "/api/v1/staff/rounds/{round_id:id}/edit", P.VALIDATE,
         "/api/v1/staff/rounds/{round}/edit", {"expected_revision": 1, "reason": "non"}),
    Line("POST", "/api/v1/staff/tickets/{ticket_id:id}/status", P.PRODUCE,
         "/api/v1/staff/tickets/{ticket}/status", {"status": "ready"}),
    Line("POST", "/api/v1/staff/tables/{table_id:id}/settle", P.SETTLE,
         "/api/v1/staff/tables/{table}/settle",
         {"method": "cash", "tendered": 10_000, "idempotency_key": "{key}"}),
    Line("POST", "/api/v1/staff/tables/{table_id:id}/free", P.FREE,
         "/api/v1/staff/tables/{table}/free", {}),
    Line("POST", "/api/v1/staff/tables/{table_id:id}/pin-limit/lift", P.LIFT_PIN_LIMIT,
         "/api/v1/staff/tables/{table}/pin-limit/lift", {}),
    Line("POST", "/api/v1/staff/products/{product_id:id}/availability", P.SOLD_OUT,
         "/api/v1/staff/products/{product}/availability", {"available": True}),
    Line("POST", "/api/v1/staff/tables/{table_id:id}/mode", P.CONFIGURE,
         "/api/v1/staff/tables/{table}/mode", {"mode": "order"}),
    Line("POST", "/api/v1/staff/sites/{site_id:id}/mode", P.CONFIGURE,
         "/api/v1/staff/sites/{site}/mode", {"mode": "order"}),
    Line("GET", "/api/v1/staff/sites/{site_id:id}/table-codes", P.PRINT,
         "/api/v1/staff/sites/{site}/table-codes"),
    Line("POST", "/api/v1/staff/sites/{site_id:id}/qr-printed", P.PRINT,
         "/api/v1/staff/sites/{site}/qr-printed", {}),
    Line("POST", "/api/v1/staff/tables/{table_id:id}/rounds", P.VALIDATE,
         "/api/v1/staff/tables/{table}/rounds",
         {"lines": [{"product_id": "{product}", "quantity": 1}], "idempotency_key": "{key}"}),
    Line("GET", "/pos/{site_id:id}", P.FLOOR, "/pos/{site}"),
    Line("GET", "/pos/{site_id:id}/tables/{table_id:id}/order", P.VALIDATE,
         "/pos/{site}/tables/{table}/order"),
    Line("GET", "/pos/{site_id:id}/station/{station}", P.FLOOR, "/pos/{site}/station/kitchen"),
    Line("GET", "/pos/{site_id:id}/qr", P.PRINT, "/pos/{site}/qr"),
    # The coffee machines (machines/): seeing them, running them.
    Line("GET", "/staff/machines", P.MACHINES),
    Line("GET", "/staff/machines/qr", P.MACHINES),
    Line("GET", "/staff/machines/{machine_id:id}", P.MACHINES, "/staff/machines/" + M),
    Line("POST", "/api/v1/staff/machines", P.RUN_MACHINES, body={
        "site_id": "{site}", "name": "Nouvelle", "model": "Jura X8", "serial": "{key}"}),
    Line("POST", "/api/v1/staff/machines/{machine_id:id}/secret", P.RUN_MACHINES,
         "/api/v1/staff/machines/{machine}/secret", {}),
    Line("POST", "/api/v1/staff/machines/{machine_id:id}/mode", P.RUN_MACHINES,
         "/api/v1/staff/machines/{machine}/mode", {"mode": "{machine_mode}"}),
    Line("DELETE", "/api/v1/staff/machines/{machine_id:id}", P.RUN_MACHINES,
         "/api/v1/staff/machines/{spare_machine}", {"confirm": "Machine de rechange"},
         once=True),
    Line("POST", "/api/v1/staff/machines/{machine_id:id}/groups", P.RUN_MACHINES,
         "/api/v1/staff/machines/{machine}/groups", {"group_id": "{group}"}),
    Line("DELETE", "/api/v1/staff/machines/{machine_id:id}/groups/{group_id:id}",
         P.RUN_MACHINES, "/api/v1/staff/machines/{machine}/groups/{group}", once=True),
    Line("POST", "/api/v1/staff/machines/{machine_id:id}/selection", P.RUN_MACHINES,
         "/api/v1/staff/machines/{machine}/selection", {"selection_id": "{selection}"}),
    Line("GET", "/backoffice/machines/new", P.RUN_MACHINES),
    Line("POST", "/backoffice/machines/new", P.RUN_MACHINES, body={
        "step": "place", "model": "Jura X8", "serial": "{key}", "site_id": "{site}",
        "mode": "open"}, refused_also=(422,), note="another site's: refused at its field"),
    Line("GET", "/backoffice/machines/{machine_id:id}", P.RUN_MACHINES,
         "/backoffice/machines/" + M),
    Line("POST", "/backoffice/machines/{machine_id:id}", P.RUN_MACHINES,
         "/backoffice/machines/" + M, {"name": "{machine_name}", "mode": "{machine_mode}"}),
    Line("POST", "/backoffice/machines/{machine_id:id}/move", P.RUN_MACHINES,
         "/backoffice/machines/{machine}/move", {"site_id": "{site}", "confirm": "yes"}),
    # The machines' selections, drinks and prices.
    Line("GET", "/staff/selections", (P.PRODUCTS, P.MACHINES)),  # read only with machines
    Line("GET", "/staff/selections/{selection_id:id}", (P.PRODUCTS, P.MACHINES),
         "/staff/selections/{selection}"),
    Line("GET", "/staff/selections/{selection_id:id}/drinks", (P.PRODUCTS, P.MACHINES),
         "/staff/selections/{selection}/drinks"),
    Line("POST", "/api/v1/staff/selections", P.PRODUCTS, body={
        "name": "Carte {key}", "model": "Jura X8"}),
    Line("PATCH", "/api/v1/staff/selections/{selection_id:id}", P.PRODUCTS,
         "/api/v1/staff/selections/{selection}", {"name": "{selection_name}"}),
    Line("DELETE", "/api/v1/staff/selections/{selection_id:id}", P.PRODUCTS,
         "/api/v1/staff/selections/{spare_selection}", once=True),
    Line("POST", "/api/v1/staff/selections/{selection_id:id}/drinks", P.PRODUCTS,
         "/api/v1/staff/selections/{selection}/drinks",
         {"name": "Thé", "type": "hot_water", "price": 1}),
    Line("POST", "/api/v1/staff/selections/{selection_id:id}/order", P.PRODUCTS,
         "/api/v1/staff/selections/{selection}/order", {"order": ["{drink}"]}),
    Line("PATCH", "/api/v1/staff/drinks/{drink_id:id}", P.PRODUCTS,
         "/api/v1/staff/drinks/{drink}", {"price": 120}),
    Line("DELETE", "/api/v1/staff/drinks/{drink_id:id}", P.PRODUCTS,
         "/api/v1/staff/drinks/{spare_drink}", once=True),
    Line("POST", "/api/v1/staff/drinks/{drink_id:id}/move", P.PRODUCTS,
         "/api/v1/staff/drinks/{drink}/move", {"direction": "down"}),
    # The machines' consumers and groups, recharges and credit.
    Line("GET", "/staff/groups", (P.PEOPLE, P.MACHINES)),  # the names with people only
    Line("POST", "/api/v1/staff/consumers/{consumer_id:id}/credit", P.MANAGE_PEOPLE,
         "/api/v1/staff/consumers/{consumer}/credit",
         {"amount": 5, "idempotency_key": "{key}", "note": "cadeau"}),
    Line("POST", "/api/v1/staff/consumers/{consumer_id:id}/approve", P.MANAGE_PEOPLE,
         "/api/v1/staff/consumers/{consumer}/approve", {"role": "consumer"}),
    Line("POST", "/api/v1/staff/consumer-policy", P.MANAGE_PEOPLE,
         body={"topup_amounts": [10, 20]}),
    Line("POST", "/api/v1/staff/groups", P.MANAGE_PEOPLE, body={"name": "Équipe {key}"}),
    Line("PATCH", "/api/v1/staff/groups/{group_id:id}", P.MANAGE_PEOPLE,
         "/api/v1/staff/groups/{group}", {"name": "{group_name}"}),
    Line("POST", "/api/v1/staff/groups/{group_id:id}/members", P.MANAGE_PEOPLE,
         "/api/v1/staff/groups/{group}/members", {"consumer_id": "{consumer}"}),
    Line("DELETE", "/api/v1/staff/groups/{group_id:id}/members/{consumer_id:id}",
         P.MANAGE_PEOPLE, "/api/v1/staff/groups/{group}/members/{spare_consumer}", once=True),
    Line("POST", "/backoffice/groups/topups", P.MANAGE_PEOPLE, body={"amounts": "10, 20"}),
    Line("POST", "/backoffice/groups/{group_id:id}", P.MANAGE_PEOPLE,
         "/backoffice/groups/{group}", {"name": "{group_name}"}),
    Line("GET", "/backoffice/people", P.PEOPLE),
    Line("POST", "/backoffice/people/approve", P.MANAGE_PEOPLE,
         body={"consumer-{consumer}": "1", "role": "consumer"}, refused_also=(422,),
         note="another company's consumer: approved nowhere, the form answers 422"),
    Line("GET", "/backoffice/people/invite", P.MANAGE_PEOPLE),
    Line("POST", "/backoffice/people/invite", P.MANAGE_PEOPLE,
         body={"name": "Invitée", "email": "invitee-{key}@exemple.fr"}),
    Line("GET", "/backoffice/people/{consumer_id:id}", P.PEOPLE, "/backoffice/people/{consumer}"),
    Line("POST", "/backoffice/people/{consumer_id:id}", P.MANAGE_PEOPLE,
         "/backoffice/people/{consumer}", {"name": "{consumer_name}"}),
    Line("GET", "/backoffice/people/{consumer_id:id}/delete", P.MANAGE_PEOPLE,
         "/backoffice/people/{consumer}/delete"),
    Line("POST", "/backoffice/people/{consumer_id:id}/delete", P.MANAGE_PEOPLE,
         "/backoffice/people/{spare_consumer}/delete", {"confirm": "yes"}, once=True),
    # The loyalty customers (the customers' section): company-wide, as consumers are.
    Line("GET", "/backoffice/customers", P.CUSTOMERS),
    Line("GET", "/backoffice/customers.csv", P.CUSTOMERS),
    Line("GET", "/backoffice/customers/new", P.CUSTOMERS),
    Line("POST", "/backoffice/customers/new", P.CUSTOMERS,
         body={"name": "Cliente", "email": "cliente-{key}@exemple.fr"}),
    Line("GET", "/backoffice/customers/{consumer_id:id}", P.CUSTOMERS,
         "/backoffice/customers/{consumer}"),
    Line("POST", "/backoffice/customers/{consumer_id:id}/points", P.CUSTOMERS,
         "/backoffice/customers/{consumer}/points",
         {"kind": "visit", "points": 1, "reason": "Oubli", "idempotency_key": "{uuid}"},
         note="a member of some sites names one of them: without, the form's 422"),
    Line("GET", "/backoffice/customers/{consumer_id:id}/edit", P.CUSTOMERS,
         "/backoffice/customers/{consumer}/edit"),
    Line("POST", "/backoffice/customers/{consumer_id:id}/edit", P.CUSTOMERS,
         "/backoffice/customers/{consumer}/edit",
         {"name": "{consumer_name}", "email": "{consumer_email}"}),
    Line("GET", "/backoffice/customers/{consumer_id:id}/delete", P.CUSTOMERS,
         "/backoffice/customers/{consumer}/delete"),
    Line("POST", "/backoffice/customers/{consumer_id:id}/delete", P.CUSTOMERS,
         "/backoffice/customers/{spare_customer}/delete", {"confirm": "yes"}, once=True),
    Line("GET", "/account/outbox", P.READ_MAIL),
    # Payments, company, sites, tables, menu, staff, audit: the venue's set-up.
    Line("GET", "/staff/machines/payments", P.CONFIGURE),
    Line("GET", "/api/v1/staff/payment-settings", P.CONFIGURE),
    Line("POST", "/api/v1/staff/payment-settings", P.CONFIGURE, body={"provider": "test"}),
    Line("GET", "/backoffice/company", P.CONFIGURE),
    Line("POST", "/backoffice/company", P.CONFIGURE, body={"name": ""}),
    Line("POST", "/backoffice/sites", P.CONFIGURE, body={"name": "Site {key}"}),
    Line("GET", "/backoffice/sites/{site_id:id}", P.CONFIGURE, "/backoffice/sites/{site}"),
    Line("POST", "/backoffice/sites/{site_id:id}", P.CONFIGURE, "/backoffice/sites/{site}",
         {"name": "Café de la Gare", "address": ADDRESS, "table_mode": "order"}),
    Line("POST", "/backoffice/sites/{site_id:id}/archive", P.CONFIGURE,
         "/backoffice/sites/{site}/archive", {"archived": "false"}),
    Line("GET", "/backoffice/tables", P.CONFIGURE),
    Line("POST", "/backoffice/tables/sites/{site_id:id}/tables", P.CONFIGURE,
         "/backoffice/tables/sites/{site}/tables", {"label": "T {key}"}),
    Line("POST", "/backoffice/tables/sites/{site_id:id}/range", P.CONFIGURE,
         "/backoffice/tables/sites/{site}/range", {"range": "X1-X2"}),
    Line("GET", "/backoffice/tables/sites/{site_id:id}/qr", P.PRINT,
         "/backoffice/tables/sites/{site}/qr"),
    Line("GET", "/backoffice/tables/sites/{site_id:id}/qr.pdf", P.PRINT,
         "/backoffice/tables/sites/{site}/qr.pdf"),
    Line("POST", "/backoffice/tables/sites/{site_id:id}/printed", P.PRINT,
         "/backoffice/tables/sites/{site}/printed", {}),
    Line("POST", "/backoffice/tables/{table_id:id}", P.CONFIGURE, "/backoffice/tables/{table}",
         {"label": "{table_label}"}),
    Line("POST", "/backoffice/tables/{table_id:id}/archive", P.CONFIGURE,
         "/backoffice/tables/{spare_table}/archive", {"confirm": "yes"}, once=True),
    Line("POST", "/backoffice/tables/{table_id:id}/token", P.CONFIGURE,
         "/backoffice/tables/{spare_table2}/token", {"confirm": "yes"}),
    Line("GET", "/backoffice/menu", P.CONFIGURE),
    Line("GET", "/backoffice/menu/{site_id:id}", P.CONFIGURE, "/backoffice/menu/{site}"),
    Line("GET", "/backoffice/menu/{site_id:id}/categories/new", P.CONFIGURE,
         "/backoffice/menu/{site}/categories/new"),
    Line("POST", "/backoffice/menu/{site_id:id}/categories/new", P.CONFIGURE,
         "/backoffice/menu/{site}/categories/new", {"name": "Cat {key}", "station": "bar"}),
    Line("POST", "/backoffice/menu/{site_id:id}/categories/order", P.CONFIGURE,
         "/backoffice/menu/{site}/categories/order", {"order": "{category},{category}"}),
    Line("GET", "/backoffice/menu/categories/{category_id:id}", P.CONFIGURE,
         "/backoffice/menu/categories/{category}"),
    Line("POST", "/backoffice/menu/categories/{category_id:id}", P.CONFIGURE,
         "/backoffice/menu/categories/{category}", {"name": "{category_name}", "station": "bar"}),
    Line("POST", "/backoffice/menu/categories/{category_id:id}/archive", P.CONFIGURE,
         "/backoffice/menu/categories/{spare_category}/archive", {"confirm": "yes"}, once=True),
    Line("POST", "/backoffice/menu/categories/{category_id:id}/restore", P.CONFIGURE,
         "/backoffice/menu/categories/{spare_category}/restore", {}),
    Line("POST", "/backoffice/menu/categories/{category_id:id}/move", P.CONFIGURE,
         "/backoffice/menu/categories/{category}/move", {"direction": "up"}),
    Line("GET", "/backoffice/menu/{site_id:id}/products/new", P.CONFIGURE,
         "/backoffice/menu/{site}/products/new"),
    Line("POST", "/backoffice/menu/{site_id:id}/products/new", P.CONFIGURE,
         "/backoffice/menu/{site}/products/new",
         {"reference": "R{key}", "category_id": "{category}", "name": "Nouveau", "price": "1",
          "vat_rate": "10"}),
    Line("POST", "/backoffice/menu/{site_id:id}/products/order", P.CONFIGURE,
         "/backoffice/menu/{site}/products/order",
         {"order": "{product},{product}", "category_id": "{category}"}),
    Line("GET", "/backoffice/menu/products/{product_id:id}", P.CONFIGURE,
         "/backoffice/menu/products/{product}"),
    Line("POST", "/backoffice/menu/products/{product_id:id}", P.CONFIGURE,
         "/backoffice/menu/products/{spare_product}",
         {"reference": "SPARE", "category_id": "{spare_category}", "name": "Rechange",
          "price": "1", "vat_rate": "10"}),
    Line("POST", "/backoffice/menu/products/{product_id:id}/archive", P.CONFIGURE,
         "/backoffice/menu/products/{spare_product}/archive", {"confirm": "yes"}, once=True),
    Line("POST", "/backoffice/menu/products/{product_id:id}/restore", P.CONFIGURE,
         "/backoffice/menu/products/{spare_product}/restore", {}),
    Line("POST", "/backoffice/menu/products/{product_id:id}/move", P.CONFIGURE,
         "/backoffice/menu/products/{product}/move", {"direction": "up"}),
    Line("GET", "/backoffice/menu/{site_id:id}/import", P.CONFIGURE,
         "/backoffice/menu/{site}/import"),
    Line("POST", "/backoffice/menu/{site_id:id}/import/preview", P.CONFIGURE,
         "/backoffice/menu/{site}/import/preview", {}),
    Line("POST", "/backoffice/menu/{site_id:id}/import/apply", P.CONFIGURE,
         "/backoffice/menu/{site}/import/apply", {}),
    Line("GET", "/backoffice/menu/{site_id:id}/export.{kind}", P.CONFIGURE,
         "/backoffice/menu/{site}/export.csv"),
    Line("GET", "/backoffice/menu/template.{kind}", P.CONFIGURE, "/backoffice/menu/template.csv"),
    Line("POST", "/backoffice/menu/products/{product_id:id}/photo", P.CONFIGURE,
         "/backoffice/menu/products/{spare_product}/photo", {}),
    Line("POST", "/backoffice/menu/products/{product_id:id}/photo/delete", P.CONFIGURE,
         "/backoffice/menu/products/{spare_product}/photo/delete", {}),
    Line("GET", "/backoffice/staff", P.CONFIGURE),
    Line("POST", "/backoffice/staff", P.CONFIGURE, body={
        "email": "new-{key}@cafe-de-la-gare.fr", "name": "Nouvelle", "role": "cashier",
        "all_sites": True}),
    Line("GET", "/backoffice/staff/new", P.CONFIGURE),
    Line("GET", "/backoffice/staff/{staff_id:id}", P.CONFIGURE, "/backoffice/staff/{staff}"),
    Line("POST", "/backoffice/staff/{staff_id:id}", P.CONFIGURE, "/backoffice/staff/{staff}",
         {"role": "cashier", "all_sites": True}),
    Line("POST", "/backoffice/staff/{staff_id:id}/pin-reset", P.CONFIGURE,
         "/backoffice/staff/{staff}/pin-reset", {"confirm": "yes"}),
    Line("POST", "/backoffice/staff/{staff_id:id}/deactivate", P.CONFIGURE,
         "/backoffice/staff/{spare_staff}/deactivate", {"confirm": "yes"}),
    Line("POST", "/backoffice/staff/{staff_id:id}/activate", P.CONFIGURE,
         "/backoffice/staff/{spare_staff}/activate", {"confirm": "yes"}),
    Line("GET", "/backoffice/audit", P.AUDIT),
    # Loyalty's settings: the rules, the rewards (archived and brought back on a spare, so
    # that the till's lines still find the reward offered).
    Line("GET", "/backoffice/loyalty/settings", P.LOYALTY),
    Line("POST", "/backoffice/loyalty/settings", P.LOYALTY, body={
        "points_per_visit": "0", "points_per_unit": "1", "cap_per_visit": "0", "min_delay": "0",
        "min_delay_unit": "minutes", "referrer_points": "0", "referred_points": "0",
        "profile_points": "0"}),
    Line("GET", "/backoffice/loyalty/rewards", P.LOYALTY),
    Line("GET", "/backoffice/loyalty/rewards/new", P.LOYALTY),
    Line("POST", "/backoffice/loyalty/rewards/new", P.LOYALTY, body={
        "name": "Remise {key}", "cost_points": "5", "effect": "amount_off", "amount": "1,00"}),
    Line("GET", "/backoffice/loyalty/rewards/{reward_id:id}", P.LOYALTY,
         "/backoffice/loyalty/rewards/{reward}"),
    Line("POST", "/backoffice/loyalty/rewards/{reward_id:id}", P.LOYALTY,
         "/backoffice/loyalty/rewards/{reward}", {"name": "Un café offert", "cost_points": "10",
                                                  "effect": "amount_off", "amount": "1,50"}),
    Line("POST", "/backoffice/loyalty/rewards/{reward_id:id}/archive", P.LOYALTY,
         "/backoffice/loyalty/rewards/{spare_reward}/archive", {"confirm": "yes"}),
    Line("POST", "/backoffice/loyalty/rewards/{reward_id:id}/restore", P.LOYALTY,
         "/backoffice/loyalty/rewards/{spare_reward}/restore"),
    # The till (pos/): the device's pairing and its switch of user are any device's (their
    # own tests: tests/pos/test_till_device.py); what is done on a till is its member's.
    Line("GET", "/till/pair", PUBLIC),
    Line("GET", "/till", PUBLIC),
    Line("GET", "/till-sw.js", PUBLIC),
    Line("GET", "/till.webmanifest", PUBLIC),
    Line("GET", "/api/v1/till", PUBLIC),
    Line("POST", "/api/v1/till/pair", PUBLIC),
    Line("POST", "/api/v1/till/switch", PUBLIC),
    Line("POST", "/api/v1/till/lock", PUBLIC),
    # The offline sync is the device's own (a locked till still uploads): a paired till's
    # cookie, nothing else (tests/pos/test_till_sync_api.py).
    Line("POST", "/api/v1/till/sync", PUBLIC, body={"sales": []}),
    Line("GET", "/api/v1/till/catalog", PUBLIC),
    Line("GET", "/till/clock", P.CLOCK, till=True),
    Line("POST", "/till/clock", P.CLOCK, body={"action": "in", "key": "{key}"}, till=True),
    Line("POST", "/api/v1/till/clock", P.CLOCK, body={"action": "in", "key": "{key}"},
         till=True),
    Line("GET", "/till/tickets/{ticket_id:id}", P.SELL, "/till/tickets/{pos_ticket}"),
    Line("POST", "/till/tickets/{ticket_id:id}/browser-print", P.SELL,
         "/till/tickets/{pos_ticket}/browser-print", {"idempotency_key": "{key}"}, till=True),
    Line("POST", "/till/tickets/{ticket_id:id}/print", P.SELL,
         "/till/tickets/{pos_ticket}/print", {}, till=True),
    # The tills and the hours in the back office.
    Line("GET", "/backoffice/tills", P.TILLS),
    Line("POST", "/backoffice/tills", P.TILLS,
         body={"site_id": "{site}", "name": "Matrice", "prefix": "X9"},
         refused_also=(422,)),
    Line("POST", "/backoffice/tills/{till_id:id}/pairing", P.TILLS,
         "/backoffice/tills/{till}/pairing", {}),
    Line("POST", "/backoffice/tills/{till_id:id}/printer", P.TILLS,
         "/backoffice/tills/{till}/printer", {"printer": "192.168.1.50"}),
    Line("POST", "/backoffice/tills/{till_id:id}/revoke", P.TILLS,
         "/backoffice/tills/{till}/revoke", {"confirm": "yes"}),
    Line("GET", "/backoffice/hours", P.HOURS),
    Line("GET", "/backoffice/hours.csv", P.HOURS),
    Line("POST", "/backoffice/hours/shifts/{shift_id:id}/close", P.HOURS,
         "/backoffice/hours/shifts/{shift}/close",
         {"clocked_out_at": "2030-01-01T10:00", "reason": "Oubli"}, refused_also=(422,)),
    # Selling, correcting, reporting at the till: the sell permission lets a member in;
    # what needs more (a discount, a refund, a void, an X, a Z, the drawer, training) is
    # approved by a supervisor's PIN there (409 approval_needed otherwise: their tests).
    Line("GET", "/till/sell", P.SELL, till=True),
    Line("POST", "/api/v1/till/sales", P.SELL, till=True, body={
        "uuid": "{uuid}", "lines": [{"product_id": "{product}", "quantity": 1}],
        "payments": [{"method": "card", "amount": "{product_price}"}]}),
    Line("POST", "/api/v1/till/customers/search", P.SELL, till=True, body={"q": "Léa"}),
    Line("GET", "/api/v1/till/customers/{customer_id:id}", P.SELL,
         "/api/v1/till/customers/{consumer}", till=True),
    Line("POST", "/api/v1/till/customers/{customer_id:id}/rewards", P.SELL,
         "/api/v1/till/customers/{consumer}/rewards",
         {"reward_id": "{reward}", "idempotency_key": "{uuid}"}, till=True,
         note="the programme is off: 409 loyalty_off, not a refusal"),
    Line("POST", "/api/v1/till/customers/give-back", P.SELL, till=True,
         body={"reward_key": "{uuid}", "customer_id": "{consumer}"},
         note="nothing was taken under that key: 200, nothing given back"),
    Line("POST", "/api/v1/till/coupons", P.SELL, till=True,
         body={"token": "{coupon}", "idempotency_key": "{uuid}"},
         note="used by the first allowed cell: the others' 409 coupon_used is no refusal"),
    Line("POST", "/api/v1/till/approval", P.SELL, till=True,
         body={"permission": "discount", "uuid": "{uuid}"}),
    Line("GET", "/till/tickets", P.SELL, till=True),
    Line("GET", "/till/tickets/{ticket_id:id}/refund", P.SELL,
         "/till/tickets/{pos_ticket}/refund", till=True),
    Line("POST", "/api/v1/till/tickets/{ticket_id:id}/refund", P.SELL,
         "/api/v1/till/tickets/{pos_ticket}/refund",
         {"uuid": "{uuid}", "whole": True, "reason": "Erreur", "method": "cash"}, till=True),
    Line("POST", "/api/v1/till/tickets/{ticket_id:id}/void", P.SELL,
         "/api/v1/till/tickets/{pos_ticket}/void", {"uuid": "{uuid}", "reason": "Erreur"},
         till=True),
    Line("POST", "/api/v1/till/drawer", P.SELL, body={"reason": "Monnaie"}, till=True),
    Line("POST", "/api/v1/till/training", P.SELL, body={"on": False}, till=True),
    Line("GET", "/till/reports", P.SELL, till=True),
    Line("POST", "/api/v1/till/reports/x", P.SELL, body={}, till=True),
    Line("GET", "/till/reports/z/{closing_id:id}", P.REPORT, "/till/reports/z/{closing}",
         till=True),
    Line("POST", "/api/v1/till/reports/z", P.SELL,
         body={"uuid": "{uuid}", "counted_cash": 0}, till=True),
    Line("POST", "/api/v1/till/reports/out-of-service", P.SELL,
         body={"till_id": "{till}", "reason": "Panne"}, till=True),
    # The records in the back office: closings of one's sites; the archives, the chains
    # and the key are the whole company's.
    Line("GET", "/backoffice/records", P.CLOSE),
    Line("POST", "/backoffice/records/close", P.CLOSE, body={
        "uuid": "{uuid}", "site_id": "{site}", "kind": "year", "period": "2020"},
        refused_also=(422,)),
    Line("POST", "/backoffice/records/check", P.CLOSE, body={}, whole_company=True),
    Line("POST", "/backoffice/records/issues/{issue_id:id}/dealt", P.CLOSE,
         "/backoffice/records/issues/{sync_issue}/dealt", {"note": "Vu"}),
    Line("GET", "/backoffice/records/export/archive", P.CLOSE,
         "/backoffice/records/export/archive?year=2020", whole_company=True),
    Line("GET", "/backoffice/records/export/public-key.pem", P.CLOSE),  # public: any site
    Line("GET", "/backoffice/records/archives/{archive_id:id}/export", P.CLOSE,
         "/backoffice/records/archives/{archive}/export", whole_company=True),
    # The statistics (a site-limited member: their sites' figures) and each member's own
    # dashboard: {widget} is the member's own widget (another's answers as missing).
    Line("GET", "/backoffice/stats", P.REPORT),
    Line("GET", "/backoffice/stats/hours", P.REPORT, "/backoffice/stats/hours?format=csv"),
    Line("GET", "/backoffice/stats/consumption", P.REPORT,
         "/backoffice/stats/consumption?by=machine&format=xlsx"),
    Line("GET", "/backoffice/loyalty", P.REPORT, "/backoffice/loyalty?site={site}"),
    Line("GET", "/backoffice/dashboard", P.REPORT),
    Line("GET", "/backoffice/dashboard/widgets/new", P.REPORT),
    Line("POST", "/backoffice/dashboard/widgets", P.REPORT,
         body={"title": "Matrice", "measure": "revenue"}),
    Line("GET", "/backoffice/dashboard/widgets/{widget_id:id}", P.REPORT,
         "/backoffice/dashboard/widgets/{widget}"),
    Line("GET", "/backoffice/dashboard/widgets/{widget_id:id}/edit", P.REPORT,
         "/backoffice/dashboard/widgets/{widget}/edit"),
    Line("POST", "/backoffice/dashboard/widgets/{widget_id:id}", P.REPORT,
         "/backoffice/dashboard/widgets/{widget}", {"title": "Matrice", "measure": "brews"}),
    Line("POST", "/backoffice/dashboard/widgets/{widget_id:id}/move", P.REPORT,
         "/backoffice/dashboard/widgets/{widget}/move", {"direction": "down"}),
    Line("POST", "/backoffice/dashboard/widgets/{widget_id:id}/remove", P.REPORT,
         "/backoffice/dashboard/widgets/{widget}/remove", {"confirm": "yes"}),
    # Loyalty's settings: the coupons' triggers, the company's (tests/backoffice/
    # test_coupon_triggers.py).
    Line("GET", "/backoffice/loyalty/coupons", P.LOYALTY),
    Line("POST", "/backoffice/loyalty/coupons", P.LOYALTY, body={
        "kind": "visits", "every": 10, "reward_id": "{reward}", "valid_days": 30},
        refused_also=(422,), note="another company's reward: refused at its field"),
    Line("GET", "/backoffice/loyalty/coupons/{trigger_id:id}", P.LOYALTY,
         "/backoffice/loyalty/coupons/{trigger}"),
    Line("POST", "/backoffice/loyalty/coupons/{trigger_id:id}", P.LOYALTY,
         "/backoffice/loyalty/coupons/{trigger}",
         {"kind": "visits", "every": 10, "reward_id": "{reward}", "valid_days": 30}),
    Line("POST", "/backoffice/loyalty/coupons/{trigger_id:id}/switch", P.LOYALTY,
         "/backoffice/loyalty/coupons/{trigger}/switch", {"active": True}),
    Line("POST", "/backoffice/loyalty/coupons/{trigger_id:id}/duplicate", P.LOYALTY,
         "/backoffice/loyalty/coupons/{trigger}/duplicate", {}),
    Line("POST", "/backoffice/loyalty/coupons/{trigger_id:id}/delete", P.LOYALTY,
         "/backoffice/loyalty/coupons/{spare_trigger}/delete", {"confirm": "yes"}, once=True),
    # The campaigns' SMS settings, blocked sends and length counter, the company's (tests/
    # backoffice/test_sms_page.py).
    Line("GET", "/backoffice/campaigns/sms", P.CAMPAIGNS),
    Line("POST", "/backoffice/campaigns/sms", P.CAMPAIGNS, body={
        "provider": "recording", "sender": "Matrix", "stop_mention": "STOP au 36173",
        "holiday_subdivision": ""}),
    Line("POST", "/backoffice/campaigns/sms/retry", P.CAMPAIGNS, body={}),
    Line("POST", "/backoffice/campaigns/sms/report-url", P.CAMPAIGNS, body={"confirm": "yes"}),
    Line("GET", "/backoffice/campaigns/sms/length", P.CAMPAIGNS,
         "/backoffice/campaigns/sms/length?text=Bonjour"),
    Line("GET", "/backoffice/campaigns", P.CAMPAIGNS),
    Line("GET", "/backoffice/campaigns/new", P.CAMPAIGNS),
    Line("POST", "/backoffice/campaigns/new", P.CAMPAIGNS, body={
        "name": "Matrice", "channel": "email", "subject": "Bonjour", "op": "save",
        "b0.kind": "title", "b0.text": "Bonjour"}),
    Line("GET", "/backoffice/campaigns/preview", P.CAMPAIGNS),
    Line("GET", "/backoffice/campaigns/{campaign_id:id}", P.CAMPAIGNS,
         "/backoffice/campaigns/{campaign}"),
    Line("POST", "/backoffice/campaigns/{campaign_id:id}", P.CAMPAIGNS,
         "/backoffice/campaigns/{campaign}", {"op": "add:text", "name": "Matrice",
                                              "channel": "email"}),
    Line("POST", "/backoffice/campaigns/{campaign_id:id}/test", P.CAMPAIGNS,
         "/backoffice/campaigns/{campaign}/test", {}),
    Line("POST", "/backoffice/campaigns/{campaign_id:id}/schedule", P.CAMPAIGNS,
         "/backoffice/campaigns/{campaign}/schedule", {"send_at": "2099-01-01T10:00"}),
    Line("POST", "/backoffice/campaigns/{campaign_id:id}/cancel", P.CAMPAIGNS,
         "/backoffice/campaigns/{campaign}/cancel", {}),
    Line("POST", "/backoffice/campaigns/{campaign_id:id}/send", P.CAMPAIGNS,
         "/backoffice/campaigns/{campaign}/send", {"confirm": "yes"}),
    Line("POST", "/backoffice/campaigns/{campaign_id:id}/duplicate", P.CAMPAIGNS,
         "/backoffice/campaigns/{campaign}/duplicate", {}),
    Line("POST", "/backoffice/campaigns/{campaign_id:id}/delete", P.CAMPAIGNS,
         "/backoffice/campaigns/{spare_campaign}/delete", {"confirm": "yes"}, once=True),
    # Campaigns' segments, the company's (tests/backoffice/test_segment_pages.py).
    # The automatic sends (tests/loyalty/test_automatic.py).
    Line("GET", "/backoffice/campaigns/automatic", P.CAMPAIGNS),
    Line("GET", "/backoffice/campaigns/automatic/new", P.CAMPAIGNS),
    Line("POST", "/backoffice/campaigns/automatic/new", P.CAMPAIGNS, body={
        "op": "add:text", "name": "Matrice", "channel": "email"}),
    Line("GET", "/backoffice/campaigns/automatic/{campaign_id:id}", P.CAMPAIGNS,
         "/backoffice/campaigns/automatic/{automatic}"),
    Line("POST", "/backoffice/campaigns/automatic/{campaign_id:id}", P.CAMPAIGNS,
         "/backoffice/campaigns/automatic/{automatic}", {"op": "add:text", "name": "Matrice",
                                                          "channel": "email"}),
    Line("POST", "/backoffice/campaigns/automatic/{campaign_id:id}/switch", P.CAMPAIGNS,
         "/backoffice/campaigns/automatic/{automatic}/switch", {"on": "yes"}),
    Line("POST", "/backoffice/campaigns/automatic/{campaign_id:id}/test", P.CAMPAIGNS,
         "/backoffice/campaigns/automatic/{automatic}/test", {}),
    Line("POST", "/backoffice/campaigns/automatic/{campaign_id:id}/duplicate", P.CAMPAIGNS,
         "/backoffice/campaigns/automatic/{automatic}/duplicate", {}),
    Line("POST", "/backoffice/campaigns/automatic/{campaign_id:id}/delete", P.CAMPAIGNS,
         "/backoffice/campaigns/automatic/{spare_automatic}/delete", {"confirm": "yes"},
         once=True),
    Line("GET", "/backoffice/campaigns/segments", P.CAMPAIGNS),
    Line("GET", "/backoffice/campaigns/segments/new", P.CAMPAIGNS),
    Line("POST", "/backoffice/campaigns/segments/new", P.CAMPAIGNS, body={
        "name": "Habitués", "c0_kind": "site", "c0_site_id": "{site}", "c0_months": "0"},
        refused_also=(422,), note="another company's site: refused at its field"),
    Line("POST", "/backoffice/campaigns/segments/preview", P.CAMPAIGNS,
         body={"match": "all", "c0_kind": "visits", "c0_at_least": "1", "c0_months": "3"}),
    Line("POST", "/backoffice/campaigns/segments/rows", P.CAMPAIGNS,
         body={"match": "all", "op": "add", "new_kind": "consent"}),
    Line("GET", "/backoffice/campaigns/segments/{segment_id:id}", P.CAMPAIGNS,
         "/backoffice/campaigns/segments/{segment}"),
    Line("POST", "/backoffice/campaigns/segments/{segment_id:id}", P.CAMPAIGNS,
         "/backoffice/campaigns/segments/{segment}", {"name": "Habitués", "match": "any"}),
    Line("POST", "/backoffice/campaigns/segments/{segment_id:id}/duplicate", P.CAMPAIGNS,
         "/backoffice/campaigns/segments/{segment}/duplicate", {}),
    Line("POST", "/backoffice/campaigns/segments/{segment_id:id}/delete", P.CAMPAIGNS,
         "/backoffice/campaigns/segments/{spare_segment}/delete", {"confirm": "yes"},
         once=True),
]


def _walk(routes: list[BaseRoute], prefix: str = "") -> list[tuple[str, str]]:
    """Every (method, path) of the app, Mounts included; websockets apart (their topics are
    the matrix below); static files are everyone's."""
    found: list[tuple[str, str]] = []
    for route in routes:
        if isinstance(route, Mount):
            if route.routes:
                found += _walk(list(route.routes), prefix + route.path)
            else:
                found.append(("GET", prefix + route.path))
        elif isinstance(route, Route):
            found += [(m, prefix + route.path) for m in sorted(route.methods or ()) if m != "HEAD"]
        else:
            assert isinstance(route, WebSocketRoute), route
    return found


def test_every_route_has_its_line(tmp_path: Any) -> None:
    """A route with no line (or a line for a route that is gone) fails: add it to LINES."""
    from app import create_app
    from tests.conftest import test_settings

    app = create_app(test_settings(f"sqlite+aiosqlite:///{tmp_path}/x.db"))
    routes = set(_walk(list(app.routes))) - {("GET", "/static")}
    listed = [(line.method, line.pattern) for line in LINES]
    assert len(listed) == len(set(listed)), "a route is listed twice"
    assert sorted(routes - set(listed)) == [], "routes with no line in LINES"
    assert sorted(set(listed) - routes) == [], "lines for routes the app no longer has"


def test_the_roles_are_the_ones_tested() -> None:
    """Every role of accounts/roles.py is in the matrix and may be given in the back office;
    the reporter changes nothing; the machines' roles never reach the floor."""
    assert set(ROLES) == set(ALL_ROLES) == set(ROLE_ORDER)
    assert set(RoleName.__origin__.__args__) == set(ALL_ROLES)  # type: ignore[attr-defined]
    changes = set(Permission) - {P.REPORT, P.MACHINES, P.PEOPLE, P.READ_MAIL, P.AUDIT,
                                 P.HOURS, P.FLOOR, P.CLOCK}
    assert not ROLES["reporter"] & changes
    for role in ("product_manager", "user_manager", "machine_owner", "reporter"):
        assert not can(role, P.FLOOR) and not can(role, P.CONFIGURE), role
    assert not can("machine_owner", P.PEOPLE) and not can("reporter", P.PEOPLE)


def test_a_member_given_no_section_is_refused_every_line_of_the_sections() -> None:
    """The "nosections" cells expect a refusal on every line that needs only a section's
    permission (the statistics' REPORT, and CUSTOMERS, CAMPAIGNS, LOYALTY as they come)."""
    sectioned = [line for line in LINES if isinstance(line.who, Permission)
                 and line.who in SECTIONED]
    assert any(line.who == P.REPORT for line in sectioned)
    for line in sectioned:
        for role, scope in CELLS:
            if scope == "nosections":
                assert not expected(line, role, scope), (line.pattern, role)
    assert expected(next(line for line in LINES if line.who == P.CONFIGURE),
                    "manager", "nosections")


def _names(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(re.findall(r"{(\w+)}", value))
    if isinstance(value, list):
        return set().union(*(_names(v) for v in value)) if value else set()
    if isinstance(value, dict):
        return set().union(*(_names(k) | _names(v) for k, v in value.items())) if value else set()
    return set()


def expected(line: Line, role: str, scope: str) -> bool:
    """May this role, in this scope, use the line's route on the demo company's objects?"""
    if line.who in (PUBLIC, STAFF):
        return True
    wanted = line.who if isinstance(line.who, tuple) else (line.who,)
    held = permissions_of(role, frozenset() if scope == "nosections" else None)
    if not any(Permission(p) in held for p in wanted):
        return False
    named = _names(line.path or line.pattern) | _names(line.body)
    if scope == "site" and line.whole_company:
        return False
    if scope == "company":
        return not named & (ON_SITE | COMPANY_WIDE)
    if scope == "site":
        return not named & ON_SITE
    return True


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = re.fullmatch(r"{(\w+)}", value)
        if whole and whole.group(1) in ids:
            return ids[whole.group(1)]
        return re.sub(r"{(\w+)}", lambda m: str(ids[m.group(1)]), value)
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {_fill(k, ids): _fill(v, ids) for k, v in value.items()}
    return value


async def _objects(app: Starlette, db: Database, venue: DemoVenue) -> dict[str, Any]:
    """The demo company's objects by {name}, with spares for the lines that delete."""
    ids: dict[str, Any] = dict(vars(await _theirs(app, db, venue)))
    async with db.sessionmaker() as session, session.begin():
        site = await session.get(Site, ids["site"])
        assert site is not None
        machine = await session.get(Machine, ids["machine"])
        selection = await session.get(Selection, ids["selection"])
        group = await session.get(UserGroup, ids["group"])
        consumer = await session.get(Consumer, ids["consumer"])
        table = await session.get(DiningTable, ids["table"])
        category = await session.get(Category, ids["category"])
        assert machine and selection and group and consumer and table and category
        from pos.models import Ticket as TillTicket

        ticket = await session.get(TillTicket, ids["pos_ticket"])
        assert ticket is not None
        ids["till"] = ticket.till_id
        product_row = await session.get(Product, ids["product"])
        assert product_row is not None
        ids["product_price"] = product_row.price
        closing, archive = await _closing_and_archive(session, ticket)
        from datetime import UTC, datetime

        from pos.models import SyncIssue

        issue = SyncIssue(company_id=ticket.company_id, site_id=ticket.site_id,
                          till_id=ticket.till_id, uuid=str(uuid.uuid4()), kind="refused",
                          detail="{}", created_at=datetime.now(UTC))
        session.add(issue)
        await session.flush()
        from loyalty.models import Reward

        reward = Reward(company_id=site.company_id, name="Un café offert", cost_points=10,
                        effect="amount_off", amount=150)
        spare_reward = Reward(company_id=site.company_id, name="Rechange", cost_points=10,
                              effect="percent_off", percent=10)
        session.add_all([reward, spare_reward])
        await session.flush()
        from loyalty.models import Coupon

        coupon = Coupon(company_id=site.company_id, reward_id=reward.id,
                        token=uuid.uuid4().hex, expires_at=datetime(2099, 1, 1, tzinfo=UTC))
        session.add(coupon)
        await session.flush()
        from loyalty.models import CouponTrigger

        triggers = [CouponTrigger(company_id=site.company_id, kind="visits", every=10,
                                  reward_id=reward.id, valid_days=30) for _ in range(2)]
        session.add_all(triggers)
        await session.flush()
        from loyalty.models import Campaign

        campaigns = [Campaign(company_id=site.company_id, name=f"Matrice {n}", channel="email",
                              subject="Bonjour", blocks=[{"kind": "title", "text": "Bonjour"}])
                     for n in range(2)]
        session.add_all(campaigns)
        await session.flush()
        ids.update(campaign=campaigns[0].id, spare_campaign=campaigns[1].id)
        automatic = [Campaign(company_id=site.company_id, name=f"Auto {n}", channel="email",
                              subject="Bonjour", blocks=[{"kind": "title", "text": "Bonjour"}],
                              automatic=True, trigger_kind="visits", trigger_every=5)
                     for n in range(2)]
        session.add_all(automatic)
        await session.flush()
        ids.update(automatic=automatic[0].id, spare_automatic=automatic[1].id)
        from loyalty.models import Segment

        segments = [Segment(company_id=site.company_id, name=f"Segment {n}", definition={})
                    for n in (1, 2)]
        session.add_all(segments)
        await session.flush()
        ids.update(segment=segments[0].id, spare_segment=segments[1].id)
        ids.update(closing=closing, archive=archive, sync_issue=issue.id, reward=reward.id,
                   spare_reward=spare_reward.id, coupon=coupon.token, trigger=triggers[0].id,
                   spare_trigger=triggers[1].id)
        ids.update(machine_mode=machine.mode, machine_name=machine.name,
                   selection_name=selection.name, group_name=group.name,
                   consumer_name=consumer.name, consumer_email=consumer.email,
                   table_label=table.label,
                   category_name=category.name)
        tables = [DiningTable(site_id=site.id, label=f"Rechange {n}",
                              token=uuid.uuid4().hex, position=100 + n) for n in (1, 2)]
        spare_category = Category(site_id=site.id, name="Rechange", station="bar", position=99)
        session.add_all([*tables, spare_category])
        await session.flush()
        spare_product = Product(site_id=site.id, category_id=spare_category.id,
                                name="Rechange", reference="SPARE", price=100, position=0)
        spare_selection = Selection(company_id=site.company_id, model="Jura X8",
                                    name="Carte de rechange", share_token=uuid.uuid4().hex)
        spare_consumer = Consumer(company_id=site.company_id, email="rechange@exemple.fr",
                                  name="Rechange", password_hash="x")
        spare_customer = Consumer(company_id=site.company_id, email="client-rechange@exemple.fr",
                                  name="Client de rechange", password_hash="x")
        spare_staff = Staff(company_id=site.company_id, email="rechange@cafe-de-la-gare.fr",
                            name="Rechange", role="cashier", password_hash="x")
        spare_machine = Machine(site_id=site.id, model="Jura X8", serial="SPARE-1",
                                name="Machine de rechange", token=uuid.uuid4().hex,
                                settings_pin="1234", maintenance_pin="5678")
        spare_drink = SelectionProduct(selection_id=selection.id, name="Rechange",
                                       type="hot_water", position=99)
        session.add_all([spare_product, spare_selection, spare_consumer, spare_staff,
                         spare_machine, spare_drink, spare_customer])
        await session.flush()
        ids.update(spare_table=tables[0].id, spare_table2=tables[1].id,
                   spare_category=spare_category.id, spare_product=spare_product.id,
                   spare_selection=spare_selection.id, spare_consumer=spare_consumer.id,
                   spare_staff=spare_staff.id, spare_machine=spare_machine.id,
                   spare_drink=spare_drink.id, spare_customer=spare_customer.id)
        from customers.models import GroupMember
        session.add(GroupMember(group_id=group.id, consumer_id=spare_consumer.id))
    return ids


async def _closing_and_archive(session: AsyncSession, ticket: Any) -> tuple[int, int]:
    """A day closed (yesterday, the demo site's) and an archive kept, as records."""
    from datetime import UTC, date, datetime, timedelta

    from pos.closings import CloseDay, close_day
    from pos.models import StoredArchive
    from pos.signing import sealing_box
    from realtime.events import Tx

    tx = Tx(session)
    yesterday = date.today() - timedelta(days=2)
    closing = await close_day(tx, sealing_box("test-secret"), CloseDay(
        uuid.uuid4(), ticket.company_id, ticket.site_id, yesterday, ticket.staff_id, 0))
    archive = StoredArchive(company_id=ticket.company_id, period_start=date(2020, 1, 1),
                            period_end=date(2020, 12, 31), created_at=datetime.now(UTC),
                            name="archive-2020.zip", sha256="0" * 64, size=4, data=b"PK..")
    session.add(archive)
    await session.flush()
    return closing.id, archive.id


async def _staff_everywhere(db: Database, venue: DemoVenue) -> dict[tuple[str, str], str]:
    """A member of staff of each role in each scope: their e-mail."""
    emails: dict[tuple[str, str], str] = {}
    async with db.sessionmaker() as session, session.begin():
        site = await session.get(Site, venue.site_id)
        assert site is not None
        kiosk = Site(company_id=site.company_id, name="Le Kiosque", address="2 rue Haute")
        other = Company(name="Autre Café SAS", currency="EUR")
        session.add_all([kiosk, other])
        await session.flush()
        session.add(Site(company_id=other.id, name="L'Autre Café", address="3 rue Basse"))
        password = demo_hash(PASSWORD)
        for role, scope in CELLS:
            email = f"{role}.{scope}@matrix.test"
            member = Staff(company_id=other.id if scope == "company" else site.company_id,
                           email=email, name=f"{role} {scope}", role=role,
                           password_hash=password, all_sites=scope != "site",
                           all_sections=scope != "nosections", pin_hash=demo_hash(PIN))
            session.add(member)
            await session.flush()
            if scope == "site":
                session.add(StaffSite(staff_id=member.id, site_id=kiosk.id))
            emails[role, scope] = email
    return emails


async def _own_widgets(db: Database, emails: dict[tuple[str, str], str]
                       ) -> dict[tuple[str, str], int]:
    """A dashboard widget of each member's own: {widget} in their cells."""
    from backoffice.models import DashboardWidget

    found: dict[tuple[str, str], int] = {}
    async with db.sessionmaker() as session, session.begin():
        for cell, email in emails.items():
            member = await session.scalar(select(Staff).where(Staff.email == email))
            assert member is not None
            widget = DashboardWidget(company_id=member.company_id, staff_id=member.id,
                                     title="Matrice", measure="revenue", filters={})
            session.add(widget)
            await session.flush()
            found[cell] = widget.id
    return found


async def _till_device(app: Starlette, db: Database, email: str,
                       number: int) -> tuple[httpx.AsyncClient, str]:
    """A till at the member's site (their company's first, or the one they work at),
    paired as a new client, with the member switched in by PIN; the client and its CSRF."""
    async with db.sessionmaker() as session:
        member = await session.scalar(select(Staff).where(Staff.email == email))
        assert member is not None
        site_id = await session.scalar(
            select(Site.id).where(Site.company_id == member.company_id).order_by(Site.id)
            if member.all_sites else
            select(StaffSite.site_id).where(StaffSite.staff_id == member.id))
    assert site_id is not None
    company_id, member_id = member.company_id, member.id
    bus = make_bus(None)
    try:
        till = await run(db.sessionmaker, bus, lambda tx: create_till(tx, NewTill(
            company_id, site_id, f"M{number}", f"Matrice {number}", member_id)))
        code = await run(db.sessionmaker, bus, lambda tx: device.issue_pairing(
            tx, company_id, till.id, member_id))
    finally:
        await bus.close()
    client = client_for(app)
    paired = await client.post("/api/v1/till/pair", json={"code": code})
    assert paired.status_code == 200, paired.text
    switched = await client.post("/api/v1/till/switch",
                                 json={"staff_id": member_id, "pin": PIN})
    assert switched.status_code == 200, switched.text
    me = await client.get("/api/v1/staff/me")
    return client, me.json()["csrf_token"]


def _sections_tell(line: Line) -> bool:
    """Does a member given no section answer otherwise than one given all of them? Only
    on the lines of a section's permission (and the floor's, which they keep)."""
    wanted = line.who if isinstance(line.who, tuple) else (line.who,)
    return any(p in SECTIONED or p == P.FLOOR for p in wanted)


def _refused(response: httpx.Response, line: Line) -> bool:
    return response.status_code in (403, 404, *line.refused_also)


def _not_refused(response: httpx.Response) -> bool:
    location = response.headers.get("location", "") + response.headers.get("hx-redirect", "")
    return (response.status_code < 500 and response.status_code not in (401, 403, 404)
            and "/staff/login" not in location)


@pytest.mark.filterwarnings("ignore")
async def test_every_role_on_every_route_where_it_may_and_nowhere_else(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    ids = await _objects(app, db, venue)
    emails = await _staff_everywhere(db, venue)
    widgets = await _own_widgets(db, emails)
    clients: dict[tuple[str, str], tuple[httpx.AsyncClient, str]] = {}
    anonymous = client_for(app)
    try:
        for cell, email in emails.items():
            client = client_for(app)
            clients[cell] = (client, await login(client, email, PASSWORD))
        tills: dict[tuple[str, str], tuple[httpx.AsyncClient, str]] = {}
        wrong: list[str] = []
        for line in LINES:
            if line.note.startswith("not requested"):
                continue
            if line.who == PUBLIC:
                if line.method == "GET" and not _names(line.pattern):
                    response = await anonymous.get(line.path or line.pattern)
                    if response.status_code >= 500:
                        wrong.append(f"{line.method} {line.pattern} anonymous: "
                                     f"{response.status_code}")
                continue  # everyone's alike: their own tests cover them
            cells = sorted(CELLS,
                           key=lambda c: expected(line, *c))  # refused cells first
            done = False
            for role, scope in cells:
                if scope == "nosections" and not _sections_tell(line):
                    continue  # as "own" on every other line: asked there already
                client, csrf = clients[role, scope]
                if line.till:
                    if (role, scope) not in tills:
                        tills[role, scope] = await _till_device(
                            app, db, emails[role, scope], len(tills) + 1)
                    client, csrf = tills[role, scope]
                ids["key"] = uuid.uuid4().hex[:12]
                ids["uuid"] = str(uuid.uuid4())
                ids["widget"] = widgets[role, scope]
                url = _fill(line.path or line.pattern, ids)
                headers = {"x-csrf-token": csrf}
                if line.method != "GET":
                    headers["accept"] = "application/json"
                response = await client.request(
                    line.method, url, headers=headers,
                    json=_fill(line.body, ids) if line.body is not None else None,
                )
                allowed = expected(line, role, scope)
                ok = (_not_refused(response) or (line.once and done and
                                                 response.status_code == 404)
                      ) if allowed else _refused(response, line)
                done = done or (allowed and ok)
                if not ok:
                    wrong.append(f"{line.method} {url} {role}/{scope}: expected "
                                 f"{'allowed' if allowed else 'refused'}, got "
                                 f"{response.status_code} {response.text[:120]!r}")
        assert not wrong, "\n".join([f"{len(wrong)} cells wrong:", *wrong])
    finally:
        await anonymous.aclose()
        for client, _ in [*clients.values(), *tills.values()]:
            await client.aclose()


# The live topics: every kind registered, by whom each may be watched.
TOPICS: dict[str, list[tuple[str, Who]]] = {
    "table": [("table:{table}", P.FLOOR)],
    "site": [("site:{site}:pos", P.FLOOR), ("site:{site}:station:kitchen", P.FLOOR)],
    "menu": [("menu:{site}", PUBLIC)],
    "machine": [("machine:{machine}", P.MACHINES)],
    "device": [("device:{machine}", NOBODY)],  # the machine's own socket only
    "user": [("user:{consumer}", P.PEOPLE)],
    "session": [("session:{key}", NOBODY)],  # put there by the server, never subscribed
    "till": [("till:{till}:{key}", NOBODY)],  # the till's own page: its key, not a role
    "stats": [("stats:{company}", P.REPORT)],  # the company's figures changed: any of its sites
}


def _viewer(role: str, scope: str, ids: dict[str, Any], company_id: int,
            kiosk: int) -> Viewer:
    return Viewer(staff_id=1, role=role, company_id=company_id + (scope == "company"),
                  sites=frozenset({kiosk}) if scope == "site" else None,
                  sections=frozenset() if scope == "nosections" else None)


async def test_every_role_on_every_live_topic(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    assert set(topics._kinds) == set(TOPICS), "a topic kind with no line in TOPICS"
    ids = await _objects(app, db, venue) | {"key": "a" * 43}
    async with db.sessionmaker() as session:
        ids["company"] = await session.scalar(select(Site.company_id).where(
            Site.id == venue.site_id))
    async with db.sessionmaker() as session, session.begin():
        site = await session.get(Site, venue.site_id)
        assert site is not None
        kiosk = Site(company_id=site.company_id, name="Le Kiosque", address="2 rue Haute")
        session.add(kiosk)
        await session.flush()
        company_id, kiosk_id = site.company_id, kiosk.id
        # The other company's id, for the "company" scope: the next one.
        assert await session.scalar(select(Company.id).where(Company.id == company_id + 1)) in (
            None, company_id + 1)
    wrong: list[str] = []
    async with db.sessionmaker() as session:
        for kind_name, lines in TOPICS.items():
            kind = topics._kinds[kind_name]
            for template, who in lines:
                topic = _fill(template, ids)
                parsed = topics.parse(topic)
                assert parsed is not None and parsed[0] is kind, topic
                for role, scope in CELLS:
                    viewer = _viewer(role, scope, ids, company_id, kiosk_id)
                    if who == NOBODY:
                        allowed = False
                    elif who == PUBLIC:
                        allowed = True
                    else:
                        assert isinstance(who, Permission)
                        allowed = holds(viewer, who) and (scope in ("own", "nosections") or (
                            scope == "site" and kind_name in ("user", "stats")))
                    got = await kind.authorize(session, parsed[1], viewer)
                    if got != allowed:
                        wrong.append(f"{topic} {role}/{scope}: {got}, expected {allowed}")
    assert not wrong, "\n".join(wrong)


async def test_the_staff_form_offers_every_role_with_its_line(
    app: Starlette, venue: DemoVenue
) -> None:
    """An administrator may give every role; the form says what each may do, in French."""
    async with client_for(app) as admin:
        await login(admin, "admin@cafe-de-la-gare.fr", "admin-demo")
        page = await admin.get("/backoffice/staff/new")
    assert page.status_code == 200
    for role in ALL_ROLES:
        assert f'<option value="{role}"' in page.text, role
    for words in ("Responsable produits", "Gestionnaire des utilisateurs",
                  "Propriétaire des machines", "Lecteur des statistiques",
                  "Consulte les statistiques et les rapports, ne modifie rien."):
        assert words in page.text.replace("&#39;", "'"), words
