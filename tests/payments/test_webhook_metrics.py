"""Payment webhooks are counted by provider and outcome: what an operator watches to see
that Stripe reaches the app and that its signatures hold."""

from __future__ import annotations

from prometheus_client import REGISTRY
from starlette.applications import Starlette

from demo.seed import DemoVenue
from tests.conftest import Database, client_for
from tests.payments.test_webhooks import (  # noqa: F401  (stripe_app: a fixture)
    WEBHOOK,
    _event,
    _pending_topup,
    _signed,
    stripe_app,
)


def webhooks(outcome: str) -> float:
    return REGISTRY.get_sample_value(
        "comptoir_payment_webhooks_total", {"provider": "stripe", "outcome": outcome}
    ) or 0.0


async def test_webhooks_are_counted_by_outcome(
    stripe_app: Starlette, db: Database, venue: DemoVenue  # noqa: F811
) -> None:
    _, ref = await _pending_topup(db, venue, 500)
    outcomes = ("handled", "duplicate", "ignored", "bad_signature")
    before = {outcome: webhooks(outcome) for outcome in outcomes}
    payload = _event(ref)
    async with client_for(stripe_app) as stripe_server:
        forged = await stripe_server.post(
            WEBHOOK, content=payload,
            headers={**_signed(payload), "Stripe-Signature": "t=1,v1=00"},
        )
        assert forged.status_code == 400
        for _ in range(2):  # the second time, a duplicate
            assert (await stripe_server.post(WEBHOOK, content=payload,
                                             headers=_signed(payload))).status_code == 200
        other = _event(ref, kind="customer.created")
        await stripe_server.post(WEBHOOK, content=other, headers=_signed(other))
    assert {outcome: webhooks(outcome) - before[outcome] for outcome in outcomes} == {
        "handled": 1, "duplicate": 1, "ignored": 1, "bad_signature": 1
    }
