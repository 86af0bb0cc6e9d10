"""A small Brevo API on 127.0.0.1 for the tests: the real `brevo-python` SDK talks HTTP to it.

It answers as Brevo's API reference says: POST /v3/transactionalSMS/sms (messageId,
reference, smsCount, usedCredits, remainingCredits; 402 not_enough_credits; 400
invalid_parameter), GET /v3/account (the plans, one of type "sms" with its credits), 401
for another key. It records every request and can be told to fail as a server would.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fake_http import served

KEY = "xkeysib-test-0123456789"


@dataclass
class Call:
    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class FakeBrevo:
    url: str = ""
    credits: float = 50.0
    credits_per_sms: float = 1.0
    refused: set[str] = field(default_factory=set)  # recipients answered with a 400
    failing: int | None = None  # the status of every answer while set (a 500: it is down)
    calls: list[Call] = field(default_factory=list)

    def sms(self) -> list[Call]:
        return [c for c in self.calls if c.path == "/v3/transactionalSMS/sms"]

    def app(self) -> Starlette:
        async def record(request: Request) -> Call | Response:
            raw = await request.body()
            call = Call(request.method, request.url.path, json.loads(raw) if raw else {},
                        dict(request.headers))
            self.calls.append(call)
            if request.headers.get("api-key") != KEY:
                return JSONResponse({"code": "unauthorized", "message": "Key not found"}, 401)
            if self.failing is not None:
                return Response("upstream error", self.failing)
            return call

        async def send_sms(request: Request) -> Response:
            call = await record(request)
            if isinstance(call, Response):
                return call
            body = call.body
            if body["recipient"] in self.refused:
                return JSONResponse({"code": "invalid_parameter",
                                     "message": "Invalid recipient number"}, 400)
            # Brevo's own count; the tests send plain text, 160 then 153 a part.
            length = len(body["content"])
            count = 1 if length <= 160 else math.ceil(length / 153)
            cost = count * self.credits_per_sms
            if cost > self.credits:
                return JSONResponse({"code": "not_enough_credits",
                                     "message": "Not enough credits"}, 402)
            self.credits -= cost
            return JSONResponse({"reference": uuid.uuid4().hex, "messageId": len(self.sms()),
                                 "smsCount": count, "usedCredits": cost,
                                 "remainingCredits": self.credits}, 201)

        async def account(request: Request) -> Response:
            call = await record(request)
            if isinstance(call, Response):
                return call
            return JSONResponse({
                "organization_id": "org1", "user_id": 1, "enterprise": False,
                "email": "cafe@example.com", "firstName": "Ana", "lastName": "Café",
                "companyName": "Le Comptoir",
                "plan": [{"type": "free", "creditsType": "sendLimit", "credits": 300},
                         {"type": "sms", "creditsType": "sendLimit", "credits": self.credits}],
            })

        return Starlette(routes=[
            Route("/v3/transactionalSMS/sms", send_sms, methods=["POST"]),
            Route("/v3/account", account, methods=["GET"]),
        ])


async def serve_fake_brevo() -> AsyncIterator[FakeBrevo]:
    fake = FakeBrevo()
    async with served(fake.app()) as url:
        fake.url = f"{url}/v3"
        yield fake
