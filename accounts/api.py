"""Staff sign-in for API clients and the sign-in page alike."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from accounts import service
from accounts.context import staff_of
from web.body import read_body
from web.htmx import json_reply
from web.state import app_state


async def login(request: Request) -> Response:
    body = await read_body(request)
    async with app_state(request).sessionmaker() as session:
        staff = await service.login(session, body.raw("email"), body.raw("password"))
    request.session["staff_id"] = staff.id
    return json_reply(
        {"staff": {"id": staff.id, "name": staff.name, "role": staff.role},
         "csrf_token": request.session["csrf"], "redirect": "/staff"},
        request,
    )


async def logout(request: Request) -> Response:
    request.session.pop("staff_id", None)
    return json_reply({"ok": True, "redirect": "/staff/login"}, request)


async def me(request: Request) -> Response:
    staff = await staff_of(request)
    if staff is None:
        raise service.NotSignedIn()
    return JSONResponse(
        {"staff": {"id": staff.id, "name": staff.name, "role": staff.role},
         "csrf_token": request.session["csrf"]}
    )


routes = [
    Route("/staff/login", login, methods=["POST"]),
    Route("/staff/logout", logout, methods=["POST"]),
    Route("/staff/me", me, methods=["GET"]),
]
