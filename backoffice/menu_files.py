"""The menu's files: spreadsheet import (preview, then apply), export, the template, and
products' photos (upload, removal, and the route that serves them to every menu)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.context import staff_of
from accounts.service import StaffIdentity
from backoffice import forms
from backoffice.menu_pages import signed_in
from errors import NotFound
from ordering import menu_admin, menu_import
from ordering.menu_errors import ImportRefused
from ordering.menu_import import Plan
from ordering.menu_sheets import EXAMPLE, WRITTEN, XLSX_TYPE, write_csv, write_xlsx
from ordering.photos import MAX_BYTES, TYPES, PhotoStore, checked_photo, store_for
from web.body_limit import body_limit
from web.i18n import gettext
from web.redirects import redirect
from web.state import app_state, locale_of, run_tx
from web.templating import page
from web.upload import read_upload

MAX_FILE = 5 * 1024 * 1024
# The whole multipart body: the file and the form around it. Past this the server stops
# reading (web/body_limit.py); up to it, read_upload answers a clear error for the file.
UPLOAD_BODY = MAX_FILE + 64 * 1024


def photo_store(request: Request) -> PhotoStore:
    """The app's one store (an object storage's client is made once, then shared)."""
    store: PhotoStore | None = getattr(request.app.state, "photo_store", None)
    if store is None:
        store = request.app.state.photo_store = store_for(app_state(request).settings)
    return store


# Import and export ------------------------------------------------------------------------

async def import_page(request: Request) -> Response:
    if await staff_of(request) is None:
        return redirect("/staff/login")
    staff = await signed_in(request)
    site = await run_tx(request, lambda tx: menu_admin.menu_site(
        tx, staff, request.path_params["site_id"]))
    return page(request, "backoffice/menu_import.html", staff=staff, site=site,
                columns=WRITTEN)


def _problems(request: Request, plan_rows: list[Any]) -> list[dict[str, Any]]:
    locale = locale_of(request)
    return [
        {"line": row.line, "reference": row.reference, "name": row.name,
         "problems": [(p.field, gettext(locale, p.message) % dict(p.params) if p.params
                       else gettext(locale, p.message)) for p in row.problems]}
        for row in plan_rows
    ]


def _preview(request: Request, plan: Plan, applied: bool, status: int = 200) -> Response:
    return page(
        request, "backoffice/_menu_import_preview.html", status=status, applied=applied,
        rows=plan.rows, created=len(plan.created), changed=len(plan.changed),
        unchanged=plan.unchanged, invalid=_problems(request, plan.invalid),
    )


async def _own_site(request: Request, staff: StaffIdentity) -> None:
    """Whose site it is, before reading 5 MB for it."""
    await run_tx(request, lambda tx: menu_admin.menu_site(
        tx, staff, request.path_params["site_id"]))


@body_limit(UPLOAD_BODY)
async def import_preview(request: Request) -> Response:
    """Every row checked and what it would do; nothing written."""
    staff = await signed_in(request)
    await _own_site(request, staff)
    upload = await read_upload(request, "file", MAX_FILE)
    plan = await run_tx(request, lambda tx: menu_import.preview(
        tx, staff, request.path_params["site_id"], upload.filename, upload.data))
    return _preview(request, plan, applied=False, status=200 if plan.ok else 422)


@body_limit(UPLOAD_BODY)
async def import_apply(request: Request) -> Response:
    """All the rows in one transaction, or none (the invalid ones listed)."""
    staff = await signed_in(request)
    await _own_site(request, staff)
    upload = await read_upload(request, "file", MAX_FILE)
    try:
        plan = await run_tx(request, lambda tx: menu_import.apply(
            tx, staff, request.path_params["site_id"], upload.filename, upload.data))
    except ImportRefused as refused:
        return _preview(request, Plan(rows=0, invalid=refused.invalid), applied=False,
                        status=422)
    return _preview(request, plan, applied=True)


def _download(data: bytes, filename: str, kind: str) -> Response:
    media = XLSX_TYPE if kind == "xlsx" else "text/csv; charset=utf-8"
    return Response(data, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{filename}.{kind}"'})


def _write(kind: str, rows: Sequence[Sequence[str]]) -> bytes:
    return write_xlsx(rows) if kind == "xlsx" else write_csv(rows)


async def export(request: Request) -> Response:
    """The site's menu in the template's columns: importing it back changes nothing."""
    if await staff_of(request) is None:
        return redirect("/staff/login")
    staff = await signed_in(request)
    kind = request.path_params["kind"]
    if kind not in ("csv", "xlsx"):
        raise NotFound()
    site, rows = await run_tx(request, lambda tx: menu_import.export(
        tx, staff, request.path_params["site_id"]))
    return _download(_write(kind, rows), f"menu-{site.id}", kind)


async def template(request: Request) -> Response:
    """The empty template, with two example rows to replace."""
    await signed_in(request)
    kind = request.path_params["kind"]
    if kind not in ("csv", "xlsx"):
        raise NotFound()
    return _download(_write(kind, EXAMPLE), "menu-template", kind)


# Photos -----------------------------------------------------------------------------------

@body_limit(UPLOAD_BODY)
async def photo_upload(request: Request) -> Response:
    """A JPEG, PNG or WebP of at most 5 MB, checked and re-encoded before it is kept."""
    staff = await signed_in(request)
    product_id = request.path_params["product_id"]
    # Whose product it is, before reading 5 MB for it.
    await run_tx(request, lambda tx: menu_admin.product_of(tx, staff, product_id))
    upload = await read_upload(request, "photo", MAX_BYTES)
    store = photo_store(request)
    key = await checked_photo(store, upload.data)
    try:
        old = await run_tx(request, lambda tx: menu_admin.set_photo(tx, staff, product_id, key))
    except Exception:
        await store.delete(key)
        raise
    if old:
        await store.delete(old)
    return forms.done(request, f"/backoffice/menu/products/{product_id}")


async def photo_delete(request: Request) -> Response:
    staff = await signed_in(request)
    product_id = request.path_params["product_id"]
    old = await run_tx(request, lambda tx: menu_admin.set_photo(tx, staff, product_id, None))
    if old:
        await photo_store(request).delete(old)
    return forms.done(request, f"/backoffice/menu/products/{product_id}")


async def photo(request: Request) -> Response:
    """A product's photo, for every menu (the key is random and never reused: cached)."""
    key = request.path_params["key"]
    data = await photo_store(request).get(key)
    if data is None:
        raise NotFound()
    return Response(data, media_type=TYPES[key.rsplit(".", 1)[1]], headers={
        "Cache-Control": "public, max-age=31536000, immutable"})


routes = [
    Route("/backoffice/menu/{site_id:id}/import", import_page),
    Route("/backoffice/menu/{site_id:id}/import/preview", import_preview, methods=["POST"]),
    Route("/backoffice/menu/{site_id:id}/import/apply", import_apply, methods=["POST"]),
    Route("/backoffice/menu/{site_id:id}/export.{kind}", export),
    Route("/backoffice/menu/template.{kind}", template),
    Route("/backoffice/menu/products/{product_id:id}/photo", photo_upload, methods=["POST"]),
    Route("/backoffice/menu/products/{product_id:id}/photo/delete", photo_delete,
          methods=["POST"]),
    Route("/media/products/{key}", photo),
]
