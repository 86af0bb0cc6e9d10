"""A diner's customer account from the table (`/t/{token}/signup`, `/login`, `/forgot`):
the machines' account pages, posting to the same customers API with the table as the place
(`t:{token}`, ordering/places.py); signed in, the diner is back at the table, where
"Collect my points" waits. A café without machines has its customers sign up here."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from loyalty.profiles import asked_of
from ordering.places import PREFIX, table_place
from web.state import app_state
from web.templating import page


async def table_account_form(request: Request) -> Response:
    token = request.path_params["token"]
    async with app_state(request).sessionmaker() as session:
        place = await table_place(session, token)
        asked = await asked_of(session, place.company_id)
    name = request.url.path.rsplit("/", 1)[-1]  # signup, login or forgot
    return page(request, f"machines/{name}.html", token=token, machine=None,
                place=PREFIX + token, here=f"/t/{token}", venue=place.venue, asked=asked,
                signed_up=request.query_params.get("signed_up") == "1")


routes = [
    Route("/t/{token}/signup", table_account_form),
    Route("/t/{token}/login", table_account_form),
    Route("/t/{token}/forgot", table_account_form),
]
