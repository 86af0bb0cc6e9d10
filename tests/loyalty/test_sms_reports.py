"""Brevo's SMS delivery reports, POSTed to the company's URL: a delivered SMS counted in the
campaign's results, a replay changing nothing, a wrong token or another company's message
left alone, a hard bounce failing the message, a STOP withdrawing the SMS consent, a body
that is not an event refused. The rules first (no database), then through the app on SQLite
and PostgreSQL, the SMS sent by the dispatcher through Brevo's API as tests/loyalty/
brevo_fake.py plays it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select
from starlette.applications import Starlette

from loyalty import sms_dispatch
from loyalty.campaign_results import results_of
from loyalty.models import CampaignMessage, LoyaltyProfile, SmsSettings
from loyalty.sms_errors import BadSmsReport
from loyalty.sms_reports import PATH, Kind, SmsEvent, event_of, move, read, says_stop
from loyalty.sms_settings import box
from realtime.bus import make_bus
from tests.conftest import Database, client_for
from tests.conftest import test_settings as settings_for
from tests.loyalty.brevo_fake import KEY, FakeBrevo, serve_fake_brevo
from tests.loyalty.test_sms_dispatch import at, company, customer, numbers, queue

fake_brevo = pytest_asyncio.fixture(serve_fake_brevo)


@pytest.mark.parametrize(("body", "event"), [
    ({"msg_status": "delivered", "messageId": 123, "to": "33612345678"},
     SmsEvent(Kind.DELIVERED, "123", "33612345678")),
    ({"msg_status": "hard_bounce", "messageId": 7},
     SmsEvent(Kind.FAILED, "7", "", "sms_hard_bounce")),
    ({"event": "hardBounce", "messageId": "7"}, SmsEvent(Kind.FAILED, "7", "", "sms_hard_bounce")),
    ({"msg_status": "error", "messageId": 7}, SmsEvent(Kind.FAILED, "7", "", "sms_provider_error")),
    ({"msg_status": "soft_bounce", "messageId": 7}, SmsEvent(Kind.OTHER, "7")),
    ({"event": "softBounce", "messageId": 7}, SmsEvent(Kind.OTHER, "7")),
    ({"msg_status": "sent", "messageId": 7}, SmsEvent(Kind.OTHER, "7")),
    ({"event": "unsubscribe", "to": "33612345678"}, SmsEvent(Kind.STOP, "", "33612345678")),
    ({"msg_status": "replied", "reply": "Stop", "messageId": 7}, SmsEvent(Kind.STOP, "7")),
    ({"msg_status": "replied", "reply": "merci, à jeudi", "messageId": 7},
     SmsEvent(Kind.OTHER, "7")),
    ({"msg_status": "delivered", "messageId": True}, SmsEvent(Kind.DELIVERED)),
])
def test_each_brevo_event_means_one_thing(body: dict[str, Any], event: SmsEvent) -> None:
    assert event_of(body) == event


@pytest.mark.parametrize("body", [
    None, "delivered", 3, [], [{"msg_status": "delivered"}] * 501, {"messageId": 1},
    {"msg_status": ""}, {"msg_status": 4}, [{"msg_status": "delivered"}, "x"],
])
def test_a_body_that_is_no_event_is_refused(body: object) -> None:
    with pytest.raises(BadSmsReport):
        read(body)


def test_delivered_never_goes_back_and_a_failure_after_it_is_ignored() -> None:
    assert move(Kind.DELIVERED, "sent") == "delivered"
    assert move(Kind.FAILED, "sent") == "failed"
    for status in ("delivered", "failed", "queued", "held", "blocked", "sending"):
        assert move(Kind.DELIVERED, status) is None, status
        assert move(Kind.FAILED, status) is None, status
    assert move(Kind.OTHER, "sent") is None and move(Kind.STOP, "sent") is None


@pytest.mark.parametrize(("reply", "stop"), [
    ("STOP", True), (" stop ", True), ("Stop!", True), ("ARRET", True), ("arrêt", True),
    ("STOP SVP", True), ("Stoppez", False), ("", False), ("Non merci", False),
])
def test_a_reply_says_stop_by_its_first_word(reply: str, stop: bool) -> None:
    assert says_stop(reply) is stop


@pytest_asyncio.fixture
async def app(db: Database, fake_brevo: FakeBrevo) -> AsyncIterator[Starlette]:
    from app import create_app

    application = create_app(settings_for(db.url, sms_api_url=fake_brevo.url))
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture
async def brevo(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """Brevo's servers: no cookie, no CSRF token, JSON."""
    async with client_for(app) as client:
        yield client


async def _on_brevo(db: Database, fake: FakeBrevo) -> tuple[int, str]:
    """A company sending through Brevo: (company, its reports' token)."""
    company_id = await company(db)
    token = uuid.uuid4().hex
    async with db.sessionmaker() as session, session.begin():
        row = await session.get(SmsSettings, company_id)
        assert row is not None
        row.provider = "brevo"
        row.api_key = box(settings_for(db.url, sms_api_url=fake.url)).seal(KEY)
        row.stop_mention, row.report_token = "STOP au [STOP_CODE]", token
    return company_id, token


async def _sent(db: Database, fake: FakeBrevo, company_id: int, count: int = 2,
                consumers: list[int | None] | None = None) -> int:
    """A campaign's SMS sent by the dispatcher through Brevo; the campaign."""
    campaign_id = await queue(db, company_id, numbers(count), consumers=consumers)
    bus = make_bus(None)
    try:
        assert await sms_dispatch.dispatch_once(
            db.sessionmaker, bus, settings_for(db.url, sms_api_url=fake.url),
            at("2026-07-08 10:00")) == count
    finally:
        await bus.close()
    return campaign_id


async def _through_brevo(db: Database, fake: FakeBrevo, count: int = 2) -> tuple[int, int, str]:
    """(company, campaign, token): a company on Brevo whose campaign's SMS were sent."""
    company_id, token = await _on_brevo(db, fake)
    return company_id, await _sent(db, fake, company_id, count), token


async def _rows(db: Database, company_id: int) -> list[tuple[str | None, str, str]]:
    async with db.sessionmaker() as session:
        return [(m.provider_id, m.status, m.error) for m in (await session.scalars(
            select(CampaignMessage).where(CampaignMessage.company_id == company_id)
            .order_by(CampaignMessage.id))).all()]


def _event(status: str, message_id: int, **more: Any) -> dict[str, Any]:
    """As Brevo writes one (https://developers.brevo.com/docs/transactional-webhooks)."""
    return {"id": 26570, "to": "33612340000", "sms_count": 1, "credits_used": 1,
            "messageId": message_id, "remaining_credit": 48, "msg_status": status,
            "date": "2026-07-08 10:00:05", "type": "marketing",
            "reference": uuid.uuid4().hex, **more}


async def test_a_delivered_sms_is_counted_in_the_campaigns_results_and_a_replay_changes_nothing(
    db: Database, fake_brevo: FakeBrevo, brevo: httpx.AsyncClient
) -> None:
    company_id, campaign_id, token = await _through_brevo(db, fake_brevo)
    assert await _rows(db, company_id) == [("1", "sent", ""), ("2", "sent", "")]

    answer = await brevo.post(PATH + token, json=_event("delivered", 1))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"received": True, "outcomes": ["delivered"]}
    assert await _rows(db, company_id) == [("1", "delivered", ""), ("2", "sent", "")]
    async with db.sessionmaker() as session:
        results = await results_of(session, campaign_id, "sms")
    assert (results.sent, results.delivered, results.failed) == (2, 1, 0)

    for late in ("delivered", "sent", "soft_bounce", "hard_bounce"):  # replayed, late
        again = await brevo.post(PATH + token, json=_event(late, 1))
        assert again.json() == {"received": True, "outcomes": ["ignored"]}, late
    assert await _rows(db, company_id) == [("1", "delivered", ""), ("2", "sent", "")]


async def test_a_hard_bounce_fails_the_message_and_a_soft_one_leaves_it_sent(
    db: Database, fake_brevo: FakeBrevo, brevo: httpx.AsyncClient
) -> None:
    company_id, campaign_id, token = await _through_brevo(db, fake_brevo)
    batch = [_event("soft_bounce", 1), _event("hard_bounce", 2)]  # Brevo's batched form
    answer = await brevo.post(PATH + token, json=batch)
    assert answer.json() == {"received": True, "outcomes": ["ignored", "failed"]}
    assert await _rows(db, company_id) == [("1", "sent", ""), ("2", "failed", "sms_hard_bounce")]
    late = await brevo.post(PATH + token, json=_event("delivered", 2))
    assert late.json()["outcomes"] == ["ignored"]  # failed stays failed
    async with db.sessionmaker() as session:
        results = await results_of(session, campaign_id, "sms")
    assert (results.sent, results.delivered, results.failed) == (1, 0, 1)


async def test_a_wrong_token_is_not_found_and_changes_nothing(
    db: Database, fake_brevo: FakeBrevo, brevo: httpx.AsyncClient
) -> None:
    company_id, _, token = await _through_brevo(db, fake_brevo)
    for wrong in (uuid.uuid4().hex, token[:-1], token + "x", "x" * 70):
        answer = await brevo.post(PATH + wrong, json=_event("delivered", 1))
        assert answer.status_code == 404, wrong
        assert answer.json()["error"]["code"] == "not_found"
    garbled = await brevo.post(PATH + uuid.uuid4().hex, content=b"{",
                               headers={"content-type": "application/json"})
    assert garbled.status_code == 404  # the token first: nothing is read of a stranger
    assert await _rows(db, company_id) == [("1", "sent", ""), ("2", "sent", "")]


async def test_another_companys_message_with_the_same_id_is_not_touched(
    db: Database, fake_brevo: FakeBrevo, brevo: httpx.AsyncClient
) -> None:
    ours, _, token = await _through_brevo(db, fake_brevo)
    fake_brevo.calls.clear()  # their own Brevo account numbers its messages from 1 too
    theirs, _, their_token = await _through_brevo(db, fake_brevo)
    answer = await brevo.post(PATH + token, json=[_event("delivered", 1),
                                                  _event("hard_bounce", 2)])
    assert answer.json()["outcomes"] == ["delivered", "failed"]
    assert await _rows(db, ours) == [("1", "delivered", ""), ("2", "failed", "sms_hard_bounce")]
    assert await _rows(db, theirs) == [("1", "sent", ""), ("2", "sent", "")]
    await brevo.post(PATH + their_token, json=_event("delivered", 2))
    assert await _rows(db, theirs) == [("1", "sent", ""), ("2", "delivered", "")]
    assert await _rows(db, ours) == [("1", "delivered", ""), ("2", "failed", "sms_hard_bounce")]


async def _sms_consent(db: Database, consumer_id: int) -> datetime | None:
    async with db.sessionmaker() as session:
        return await session.scalar(select(LoyaltyProfile.sms_consent_at).where(
            LoyaltyProfile.consumer_id == consumer_id))


async def test_a_stop_reply_or_an_unsubscribe_withdraws_the_sms_consent(
    db: Database, fake_brevo: FakeBrevo, brevo: httpx.AsyncClient
) -> None:
    company_id, token = await _on_brevo(db, fake_brevo)
    first, second, third = [await customer(db, company_id, True) for _ in range(3)]
    campaign_id = await _sent(db, fake_brevo, company_id, 3, [first, second, third])
    chatty = await brevo.post(PATH + token, json=_event("replied", 1, reply="Merci !"))
    assert chatty.json()["outcomes"] == ["ignored"]
    assert await _sms_consent(db, first) is not None

    stop = await brevo.post(PATH + token, json=_event("replied", 1, reply="STOP"))
    assert stop.json()["outcomes"] == ["unsubscribed"]
    assert await _sms_consent(db, first) is None
    # The unsubscribe event names the number only: its last message's customer.
    gone = await brevo.post(PATH + token, json={"event": "unsubscribe", "to": "33612340002"})
    assert gone.json()["outcomes"] == ["unsubscribed"]
    assert await _sms_consent(db, third) is None
    assert await _sms_consent(db, second) is not None
    async with db.sessionmaker() as session:
        assert (await results_of(session, campaign_id, "sms")).unsubscribed == 2
    nobody = await brevo.post(PATH + token, json={"event": "unsubscribe", "to": "33700000000"})
    assert nobody.json()["outcomes"] == ["ignored"]


@pytest.mark.parametrize("body", [b"{", b"[]", b'"delivered"', b'{"messageId": 1}',
                                  b"\xff\xfe"])
async def test_a_body_that_is_not_an_event_is_refused_with_a_message(
    db: Database, fake_brevo: FakeBrevo, brevo: httpx.AsyncClient, body: bytes
) -> None:
    company_id, _, token = await _through_brevo(db, fake_brevo, 1)
    answer = await brevo.post(PATH + token, content=body,
                              headers={"content-type": "application/json"})
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "bad_sms_report" and "msg_status" in error["message"]
    assert await _rows(db, company_id) == [("1", "sent", "")]


async def test_the_reports_need_no_session_and_no_csrf_token(
    db: Database, fake_brevo: FakeBrevo, brevo: httpx.AsyncClient
) -> None:
    """As Brevo sends them: JSON from its servers, no cookie, no Origin."""
    company_id, _, token = await _through_brevo(db, fake_brevo, 1)
    answer = await brevo.post(PATH + token, json=_event("delivered", 1))
    assert answer.status_code == 200 and "set-cookie" not in answer.headers
    assert await _rows(db, company_id) == [("1", "delivered", "")]
