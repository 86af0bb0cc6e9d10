"""A diner's phone against a real server: an HTTP client with its cookie, and sockets."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from accounts.models import Company, Staff
from accounts.passwords import hash_password
from tests.conftest import Database

WAIT = 10.0  # seconds before a message that should have come is declared lost


class Phone:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.AsyncClient(base_url=base_url, timeout=WAIT)

    async def __aenter__(self) -> Phone:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def scan(self, token: str) -> dict[str, Any]:
        """Open the table's page (which sets the session cookie), then read its state."""
        page = await self.http.get(f"/t/{token}")
        assert page.status_code == 200, page.text
        assert self.http.cookies.get("comptoir")
        state = await self.http.get(f"/api/v1/tables/{token}")
        assert state.status_code == 200, state.text
        data: dict[str, Any] = state.json()
        return data

    async def sign_in(self, email: str, password: str) -> None:
        """Sign in as staff (the cookie then carries the staff id)."""
        response = await self.http.post(
            "/api/v1/staff/login", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.text

    async def start(self, token: str, name: str) -> str:
        response = await self.http.post(f"/api/v1/tables/{token}/start", json={"name": name})
        assert response.status_code == 201, response.text
        pin: str = response.json()["pin"]
        return pin

    async def join(self, token: str, name: str, pin: str) -> None:
        response = await self.http.post(
            f"/api/v1/tables/{token}/join", json={"name": name, "pin": pin}
        )
        assert response.status_code == 200, response.text

    async def add(self, token: str, product_id: int, quantity: int = 1) -> dict[str, Any]:
        response = await self.http.post(
            f"/api/v1/tables/{token}/cart/lines",
            json={"client_id": uuid.uuid4().hex, "product_id": product_id,
                  "quantity": quantity},
        )
        assert response.status_code == 201, response.text
        line: dict[str, Any] = response.json()["line"]
        return line

    def socket(
        self, fmt: str = "json", origin: str | None = None, cookie: str | None = None
    ) -> Any:
        """A websocket carrying this phone's cookie, or `cookie` (an async context manager)."""
        url = self.base_url.replace("http://", "ws://") + f"/ws?format={fmt}"
        headers = {"Cookie": f"comptoir={cookie or self.http.cookies['comptoir']}"}
        return connect(url, origin=origin, additional_headers=headers)  # type: ignore[arg-type]


async def send(ws: ClientConnection, type: str, *topics: str) -> None:
    await ws.send(json.dumps({"type": type, "topics": list(topics)}))


async def receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
    return message


async def subscribe(ws: ClientConnection, topic: str) -> dict[str, Any]:
    """Subscribe and return the snapshot."""
    await send(ws, "subscribe", topic)
    snapshot = await receive(ws)
    assert (snapshot["type"], snapshot["topic"]) == ("snapshot", topic), snapshot
    return snapshot


async def another_company_admin(db: Database) -> tuple[str, str]:
    """An admin of a second company (staff who must not see the first one's things):
    the email and password to sign in with."""
    async with db.sessionmaker() as session, session.begin():
        company = Company(name="Autre Café SAS", currency="EUR")
        session.add(company)
        await session.flush()
        session.add(Staff(company_id=company.id, email="patron@autre-cafe.fr", name="Patron",
                          role="admin", password_hash=hash_password("autre-demo")))
    return "patron@autre-cafe.fr", "autre-demo"
