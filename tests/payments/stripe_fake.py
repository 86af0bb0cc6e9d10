"""A small Stripe API on 127.0.0.1 for the tests: the real `stripe` package talks HTTP to it.

It keeps what Stripe would (Checkout Sessions, refunds), answers a repeated
Idempotency-Key with the first response as Stripe does, records every request, and can be
told to refuse the next calls with an API error.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fake_http import served


@dataclass
class Call:
    method: str
    path: str
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeStripe:
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    replies: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    error: tuple[int, dict[str, Any]] | None = None  # the answer to every call, while set

    def posted(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.method == "POST" and c.path == path]

    def pay(self, session_id: str) -> str:
        """The payer completed the session with a card: it now has a PaymentIntent."""
        intent = f"pi_{uuid.uuid4().hex[:24]}"
        self.sessions[session_id].update(
            payment_intent=intent, payment_status="paid", status="complete"
        )
        return intent

    def refuse(self, status: int = 400, message: str = "Invalid currency: xyz.") -> None:
        self.error = (status, {"error": {"type": "invalid_request_error",
                                         "code": "parameter_invalid", "message": message}})

    def app(self) -> Starlette:
        async def record(request: Request) -> Call:
            form = await request.form()
            call = Call(request.method, request.url.path,
                        {k: str(v) for k, v in form.multi_items()}, dict(request.headers))
            self.calls.append(call)
            return call

        async def idempotent(request: Request, make: Any) -> Response:
            call = await record(request)
            if self.error is not None:
                return JSONResponse(self.error[1], status_code=self.error[0])
            key = call.headers.get("idempotency-key")
            if key is None or key not in self.replies:
                reply = (200, make(call.form))
                if key is None:
                    return JSONResponse(reply[1], status_code=reply[0])
                self.replies[key] = reply
            status, body = self.replies[key]
            return JSONResponse(body, status_code=status, headers={"Idempotent-Replayed": "true"})

        def new_session(form: dict[str, str]) -> dict[str, Any]:
            session_id = f"cs_test_{uuid.uuid4().hex}"
            session = {
                "id": session_id, "object": "checkout.session", "mode": form.get("mode"),
                "url": f"https://checkout.stripe.com/c/pay/{session_id}",
                "amount_total": int(form["line_items[0][price_data][unit_amount]"]),
                "currency": form["line_items[0][price_data][currency]"],
                "client_reference_id": form.get("client_reference_id"),
                "payment_intent": None, "payment_status": "unpaid", "status": "open",
            }
            self.sessions[session_id] = session
            return session

        def new_refund(form: dict[str, str]) -> dict[str, Any]:
            refund = {"id": f"re_{uuid.uuid4().hex[:24]}", "object": "refund",
                      "payment_intent": form["payment_intent"], "status": "succeeded"}
            self.refunds.append(refund)
            return refund

        async def sessions(request: Request) -> Response:
            return await idempotent(request, new_session)

        async def one_session(request: Request) -> Response:
            await record(request)
            found = self.sessions.get(request.path_params["session_id"])
            if found is None:
                return JSONResponse({"error": {"type": "invalid_request_error",
                                               "message": "No such checkout.session"}}, 404)
            return JSONResponse(found)

        async def refunds(request: Request) -> Response:
            return await idempotent(request, new_refund)

        return Starlette(routes=[
            Route("/v1/checkout/sessions", sessions, methods=["POST"]),
            Route("/v1/checkout/sessions/{session_id}", one_session, methods=["GET"]),
            Route("/v1/refunds", refunds, methods=["POST"]),
        ])


async def serve_fake_stripe() -> AsyncIterator[FakeStripe]:
    fake = FakeStripe()
    async with served(fake.app()) as url:
        fake.url = f"{url}"
        yield fake
