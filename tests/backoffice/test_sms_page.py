"""The SMS page of the campaigns: the provider, its key (stored sealed, shown masked), the
sender name (a bad one refused at its field, nothing changed), the STOP line and regional
holidays, each change audited; the delivery reports' URL to paste into Brevo, renewed from
the page (the old one then dead); the credits shown, or a clear message when the provider is
down; the blocked SMS retried from the page; the editor's length counter. On SQLite and
PostgreSQL, with Brevo's API played by tests/loyalty/brevo_fake.py."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from accounts.models import Site
from demo.seed import DemoVenue
from loyalty.models import Campaign, CampaignMessage, SmsSettings
from loyalty.sms_reports import PATH as REPORTS
from loyalty.sms_settings import forget_recorders, recorder
from tests.backoffice.conftest import ADMIN, CASHIER, AppFactory, audit_actions, post_form, sign_in
from tests.conftest import Database, client_for
from tests.loyalty.brevo_fake import KEY, FakeBrevo, serve_fake_brevo

PAGE = "/backoffice/campaigns/sms"
GOOD = {"provider": "recording", "api_key": "", "sender": "LeZinc",
        "stop_mention": "STOP au 36173", "holiday_subdivision": ""}

fake_brevo = pytest_asyncio.fixture(serve_fake_brevo)


@pytest.fixture(autouse=True)
def fresh_recorders() -> Iterator[None]:
    forget_recorders()
    yield
    forget_recorders()


@pytest_asyncio.fixture
async def admin(make_app: AppFactory, venue: DemoVenue, fake_brevo: FakeBrevo
                ) -> AsyncIterator[httpx.AsyncClient]:
    async with make_app(sms_api_url=fake_brevo.url) as app, client_for(app) as client:
        await sign_in(client, ADMIN)
        client.cookies.set("lang", "en")
        yield client


async def _company(db: Database, venue: DemoVenue) -> int:
    async with db.sessionmaker() as session:
        site = await session.get(Site, venue.site_id)
        assert site is not None
        return site.company_id


async def _row(db: Database, company_id: int) -> SmsSettings | None:
    async with db.sessionmaker() as session:
        return await session.get(SmsSettings, company_id)


def _saved(answer: httpx.Response, said: str = "saved") -> None:
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["hx-redirect"].startswith(f"{PAGE}?said={said}"), answer.headers


async def test_a_manager_sets_the_sender_the_stop_line_and_the_holidays(
    admin: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    company_id = await _company(db, venue)
    first = await admin.get(PAGE)
    assert first.status_code == 200
    assert 'data-credits="100"' in first.text and "Credits left: 100" in first.text

    for sender in ("ABC", "Le Zinc", "Café", "12345", "TwelveLetter"):
        refused = await post_form(admin, PAGE, {**GOOD, "sender": sender})
        assert refused.status_code == 422, sender
        assert "A sender name has 4 to 11 letters or digits" in refused.text
    no_stop = await post_form(admin, PAGE, {**GOOD, "stop_mention": "Répondez NON"})
    assert no_stop.status_code == 422 and "Write the STOP line" in no_stop.text
    bad_region = await post_form(admin, PAGE, {**GOOD, "holiday_subdivision": "75"})
    assert bad_region.status_code == 422
    assert await _row(db, company_id) is None  # nothing saved

    _saved(await post_form(admin, PAGE, {**GOOD, "holiday_subdivision": "57"}))
    row = await _row(db, company_id)
    assert row is not None
    assert (row.provider, row.sender, row.stop_mention, row.holiday_subdivision) == (
        "recording", "LeZinc", "STOP au 36173", "57")
    shown = await admin.get(f"{PAGE}?said=saved")
    assert "SMS settings saved." in shown.text and 'value="LeZinc"' in shown.text
    assert await audit_actions(db) == [("sms.settings", "sms")]
    admin.cookies.set("lang", "fr")
    log = await admin.get("/backoffice/audit")
    assert "Réglages SMS modifiés" in log.text and "Nom d’expéditeur des SMS" in log.text


async def test_the_brevo_key_is_stored_sealed_shown_masked_and_its_credits_read(
    admin: httpx.AsyncClient, db: Database, venue: DemoVenue, fake_brevo: FakeBrevo
) -> None:
    company_id = await _company(db, venue)
    no_key = await post_form(admin, PAGE, {**GOOD, "provider": "brevo"})
    assert no_key.status_code == 422 and "Brevo needs its API key" in no_key.text
    assert await _row(db, company_id) is None

    _saved(await post_form(admin, PAGE, {**GOOD, "provider": "brevo", "api_key": KEY}))
    row = await _row(db, company_id)
    assert row is not None and row.api_key.startswith("enc:v1:") and KEY not in row.api_key
    shown = await admin.get(PAGE)
    assert KEY not in shown.text and f"…{KEY[-4:]}" in shown.text
    assert "Credits left: 50" in shown.text  # the fake's "sms" plan

    _saved(await post_form(admin, PAGE, {**GOOD, "provider": "brevo", "sender": "Zinc2"}))
    kept = await _row(db, company_id)
    assert kept is not None and kept.api_key == row.api_key and kept.sender == "Zinc2"

    fake_brevo.failing = 500
    down = await admin.get(PAGE)
    assert down.status_code == 200
    assert "The SMS provider is not answering" in down.text and "Credits left" not in down.text
    actions = [action for action, _ in await audit_actions(db)]
    assert actions == ["sms.settings", "sms.settings"]
    async with db.sessionmaker() as session:
        from domain.models import AuditEntry

        logged = (await session.scalars(select(AuditEntry.changes))).all()
    assert KEY not in str(logged) and "sms_api_key_replaced" in str(logged)


def _report_url(page: str) -> str:
    return page.split("data-report-url>", 1)[1].split("<", 1)[0]


async def test_the_reports_url_is_shown_for_brevo_and_renewed_from_the_page(
    admin: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    company_id = await _company(db, venue)
    assert "data-report-url" not in (await admin.get(PAGE)).text  # nothing saved yet
    _saved(await post_form(admin, PAGE, {**GOOD, "provider": "brevo", "api_key": KEY}))
    row = await _row(db, company_id)
    assert row is not None and row.report_token and len(row.report_token) >= 32
    shown = await admin.get(PAGE)
    url = _report_url(shown.text)
    assert url == f"http://127.0.0.1:8000{REPORTS}{row.report_token}"
    assert "Renew this URL" in shown.text and "In Brevo, add a webhook" in shown.text
    path = url.removeprefix("http://127.0.0.1:8000")
    event = {"msg_status": "delivered", "messageId": 1, "to": "33612345678"}
    assert (await admin.post(path, json=event)).status_code == 200

    unconfirmed = await post_form(admin, f"{PAGE}/report-url", {})
    assert unconfirmed.status_code == 422
    assert (await _row(db, company_id)).report_token == row.report_token  # type: ignore[union-attr]
    _saved(await post_form(admin, f"{PAGE}/report-url", {"confirm": "yes"}), "renewed")
    renewed = await _row(db, company_id)
    assert renewed is not None and renewed.report_token not in (None, row.report_token)
    done = await admin.get(f"{PAGE}?said=renewed")
    assert _report_url(done.text).endswith(f"{REPORTS}{renewed.report_token}")
    assert "New delivery reports URL made" in done.text
    assert (await admin.post(path, json=event)).status_code == 404  # the old one is dead
    assert (await admin.post(f"{REPORTS}{renewed.report_token}", json=event)).status_code == 200
    assert await audit_actions(db) == [("sms.settings", "sms"), ("sms.report_url", "sms")]
    admin.cookies.set("lang", "fr")
    french = await admin.get(PAGE)
    assert "Renouveler cette adresse" in french.text and "Accusés de réception" in french.text
    assert "Adresse des accusés de réception SMS renouvelée" in (
        await admin.get("/backoffice/audit")).text


async def test_settings_saved_before_the_reports_get_their_token_on_first_show(
    admin: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    company_id = await _company(db, venue)
    async with db.sessionmaker() as session, session.begin():
        session.add(SmsSettings(company_id=company_id, provider="brevo", api_key="",
                                sender="LeZinc", stop_mention="STOP au 36173"))
    first = await admin.get(PAGE)
    row = await _row(db, company_id)
    assert row is not None and row.report_token
    assert _report_url(first.text).endswith(row.report_token)
    assert _report_url((await admin.get(PAGE)).text) == _report_url(first.text)  # kept


async def test_the_recording_provider_down_is_said_clearly(
    admin: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    recorder(await _company(db, venue)).down = True
    admin.cookies.set("lang", "fr")
    page = await admin.get(PAGE)
    assert page.status_code == 200
    assert "Le fournisseur de SMS ne répond pas" in page.text and 'data-credits="down"' in page.text


async def _blocked(db: Database, company_id: int, count: int) -> int:
    async with db.sessionmaker() as session, session.begin():
        campaign = Campaign(company_id=company_id, name="Soirée", channel="sms",
                            status="sending", sms_text="Soirée jazz jeudi")
        session.add(campaign)
        await session.flush()
        for n in range(count):
            session.add(CampaignMessage(
                company_id=company_id, campaign_id=campaign.id, channel="sms",
                address=f"+3361234{n:04d}", key=uuid.uuid4().hex, status="blocked",
                error="no_sms_credits"))
        return campaign.id


async def test_blocked_sms_are_retried_from_the_page(
    admin: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    company_id = await _company(db, venue)
    first = await _blocked(db, company_id, 2)
    second = await _blocked(db, company_id, 1)
    page = await admin.get(PAGE)
    assert "Retry 3 blocked messages" in page.text
    assert "3 messages blocked for want of credits" in page.text

    one = await post_form(admin, f"{PAGE}/retry", {"campaign_id": str(first),
                                                   "back": f"/backoffice/campaigns/{first}"})
    assert one.status_code == 200
    assert one.headers["hx-redirect"] == f"/backoffice/campaigns/{first}?said=retried&n=2"
    _saved(await post_form(admin, f"{PAGE}/retry", {}), "retried")
    async with db.sessionmaker() as session:
        rows = (await session.execute(
            select(CampaignMessage.campaign_id, CampaignMessage.status))).all()
    assert sorted(rows) == sorted([(first, "queued")] * 2 + [(second, "queued")])
    done = await admin.get(f"{PAGE}?said=retried&n=1")
    assert "1 blocked message queued again" in done.text
    assert "Retry" not in done.text.split('id="settings"')[0].split('id="waiting"')[1]
    assert await audit_actions(db) == [("sms.retried", "sms"), ("sms.retried", "sms")]


@pytest.mark.parametrize(("text", "said"), [
    ("Bonjour", "GSM-7 · 1 message · 139 characters left"),  # 7 + newline + 13
    ("[Promo] 2€", "GSM-7 · 1 message · 133 characters left"),  # [ ] € count 2 each
    ("Crêpes", "UCS-2 · 1 message · 50 characters left"),
    ("x" * 146, "GSM-7 · 1 message · 0 characters left"),
    ("x" * 147, "GSM-7 · 2 messages · 145 characters left"),
    ("", "GSM-7 · 1 message · 147 characters left"),  # the STOP line alone
])
async def test_the_length_counter_counts_the_stop_line(
    admin: httpx.AsyncClient, text: str, said: str
) -> None:
    answer = await admin.get(f"{PAGE}/length", params={"text": text})
    assert answer.status_code == 200 and said in answer.text, answer.text


async def test_the_length_counter_speaks_french(admin: httpx.AsyncClient) -> None:
    admin.cookies.set("lang", "fr")
    answer = await admin.get(f"{PAGE}/length", params={"sms_text": "Crêpes " * 12})
    assert "UCS-2 · 2 messages · 37 caractères restants" in answer.text
    assert "Compté avec la mention STOP" in answer.text


async def test_a_cashier_may_not_see_or_change_the_sms_settings(
    make_app: AppFactory, db: Database, venue: DemoVenue
) -> None:
    async with make_app() as app, client_for(app) as client:
        await sign_in(client, CASHIER)
        assert (await client.get(PAGE)).status_code == 403
        assert (await post_form(client, PAGE, GOOD)).status_code == 403
        assert (await post_form(client, f"{PAGE}/retry", {})).status_code == 403
        renew = await post_form(client, f"{PAGE}/report-url", {"confirm": "yes"})
        assert renew.status_code == 403
    assert await _row(db, await _company(db, venue)) is None
