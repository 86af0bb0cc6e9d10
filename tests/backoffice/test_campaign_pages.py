"""The campaigns pages: a draft written with the block editor (blocks added, moved,
removed, nothing saved until "save"), previewed escaped, test-sent to the member's own
address through the outbox, scheduled in the venue's time zone, cancelled, copied and
deleted; refusals shown with nothing changed; audited. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from sqlalchemy import select, update
from starlette.applications import Starlette

from customers.models import Consumer
from demo.seed import DemoVenue
from loyalty import campaign_send, ledger
from loyalty.models import Campaign, LoyaltyProfile
from realtime.bus import make_bus
from tests.backoffice.conftest import (
    ADMIN,
    CASHIER,
    audit_actions,
    mails_to,
    post_form,
    sign_in,
)
from tests.conftest import Database, client_for

PAGE = "/backoffice/campaigns"
DRAFT = {"name": "Jeudi", "channel": "email", "subject": "Happy hour", "op": "save",
         "b0.kind": "logo", "b1.kind": "title", "b1.text": "Jeudi <script>x</script>",
         "b2.kind": "button", "b2.label": "Réserver", "b2.url": "https://zinc.example/r"}


async def _campaigns(db: Database) -> list[Campaign]:
    async with db.sessionmaker() as session:
        return list(await session.scalars(select(Campaign).order_by(Campaign.id)))


def _said(answer: httpx.Response, where: str) -> None:
    assert answer.status_code == 200, answer.text[:800]
    assert answer.headers["hx-redirect"] == where, answer.headers


async def test_a_manager_writes_tests_schedules_cancels_copies_and_deletes(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    client.cookies.set("lang", "en")
    empty = await client.get(PAGE)
    assert empty.status_code == 200 and "No campaign yet" in empty.text

    # The editor's buttons change the form, save nothing.
    added = await post_form(client, f"{PAGE}/new", {**DRAFT, "op": "add:coupon"})
    assert added.status_code == 200 and added.text.count('data-block="') == 4
    assert 'data-block="coupon"' in added.text and await _campaigns(db) == []
    moved = await post_form(client, f"{PAGE}/new", {**DRAFT, "op": "up:2"})
    blocks = [part.split('"')[0] for part in moved.text.split('data-block="')[1:]]
    assert blocks == ["logo", "button", "title"]
    removed = await post_form(client, f"{PAGE}/new", {**DRAFT, "op": "remove:0"})
    assert removed.text.count('data-block="') == 2

    bad = await post_form(client, f"{PAGE}/new", {**DRAFT, "b2.url": "javascript:alert(1)"})
    assert bad.status_code == 422 and "links start with https://" in bad.text
    assert await _campaigns(db) == []

    created = await post_form(client, f"{PAGE}/new", DRAFT)
    [campaign] = await _campaigns(db)
    _said(created, f"{PAGE}/{campaign.id}?said=saved")
    assert [b["kind"] for b in campaign.blocks] == ["logo", "title", "button"]
    shown = await client.get(f"{PAGE}/{campaign.id}?said=saved")
    assert "Draft saved" in shown.text
    assert "<script>x" not in shown.text
    framed = await client.get(f"{PAGE}/preview", params={"b0.kind": "title",
                                                         "b0.text": "Jeudi <script>x</script>"})
    assert "Jeudi &lt;script&gt;" in framed.text and "<script>x" not in framed.text

    _said(await post_form(client, f"{PAGE}/{campaign.id}/test", {}),
          f"{PAGE}/{campaign.id}?said=tested")
    [mail] = await mails_to(db, ADMIN[0])
    assert mail.subject == "Happy hour" and mail.mime is not None
    assert "text/html" in mail.mime and "Réserver: https://zinc.example/r" in mail.body

    unconfirmed = await post_form(client, f"{PAGE}/{campaign.id}/send", {})
    assert unconfirmed.status_code == 422
    past = await post_form(client, f"{PAGE}/{campaign.id}/schedule",
                           {"send_at": "2020-01-01T10:00"})
    assert past.status_code == 422 and "time to come" in past.text
    _said(await post_form(client, f"{PAGE}/{campaign.id}/schedule",
                          {"send_at": "2099-06-01T18:30"}),
          f"{PAGE}/{campaign.id}?said=scheduled")
    [campaign] = await _campaigns(db)
    assert campaign.status == "scheduled" and campaign.send_at is not None
    assert campaign.send_at.astimezone(UTC) == datetime(2099, 6, 1, 16, 30, tzinfo=UTC)
    listed = await client.get(PAGE)
    assert 'data-status="scheduled"' in listed.text

    edit = await post_form(client, f"{PAGE}/{campaign.id}", DRAFT)
    assert edit.status_code == 422  # scheduled: not edited
    _said(await post_form(client, f"{PAGE}/{campaign.id}/cancel", {}),
          f"{PAGE}/{campaign.id}?said=cancelled")
    again = await post_form(client, f"{PAGE}/{campaign.id}/cancel", {})
    assert again.status_code == 422 and "cannot do that now" in again.text

    copied = await post_form(client, f"{PAGE}/{campaign.id}/duplicate", {})
    original, copy = await _campaigns(db)
    _said(copied, f"{PAGE}/{copy.id}?said=copied")
    assert (original.status, copy.status, copy.blocks) == ("cancelled", "draft",
                                                            original.blocks)
    _said(await post_form(client, f"{PAGE}/{copy.id}/send", {"confirm": "yes"}),
          f"{PAGE}/{copy.id}?said=sent")
    refused = await post_form(client, f"{PAGE}/{copy.id}/delete", {"confirm": "yes"})
    assert refused.status_code == 422 and len(await _campaigns(db)) == 2
    results = await client.get(f"{PAGE}/{copy.id}")
    assert 'data-result="sent"' in results.text
    _said(await post_form(client, f"{PAGE}/{original.id}/delete", {"confirm": "yes"}),
          f"{PAGE}?said=deleted")
    assert [c.id for c in await _campaigns(db)] == [copy.id]

    target = f"campaign:{campaign.id}"
    assert await audit_actions(db) == [
        ("campaign.added", target), ("campaign.scheduled", target),
        ("campaign.cancelled", target), ("campaign.duplicated", f"campaign:{copy.id}"),
        ("campaign.sent", f"campaign:{copy.id}"), ("campaign.deleted", target)]
    client.cookies.set("lang", "fr")
    log = await client.get("/backoffice/audit")
    assert "Campagne programmée" in log.text


async def test_the_live_preview_renders_what_is_typed(
    client: httpx.AsyncClient, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    answer = await client.get(f"{PAGE}/preview", params={
        "channel": "email", "b0.kind": "title", "b0.text": "Bonjour <b>vous</b>",
        "b1.kind": "image", "b1.url": "http://not-https.example/a.png"})
    assert answer.status_code == 200 and "<h1" in answer.text
    assert "Bonjour &lt;b&gt;vous" in answer.text
    assert "'unsafe-inline'" in answer.headers["content-security-policy"]
    assert "sandbox" in answer.headers["content-security-policy"]
    assert "not-https" not in answer.text  # a block not right yet is left out


async def test_a_cashier_may_not_open_campaigns(
    client: httpx.AsyncClient, venue: DemoVenue
) -> None:
    await sign_in(client, CASHIER)
    assert (await client.get(PAGE)).status_code == 403


async def test_a_sent_mail_unsubscribes_in_one_click_and_the_results_count_it(
    app: Starlette, client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    email, _ = venue.consumers[0]
    async with db.sessionmaker() as session, session.begin():
        zoe = await session.scalar(select(Consumer).where(Consumer.email == email))
        assert zoe is not None
        await ledger.ensure_profile(session, zoe.company_id, zoe.id)
        await session.execute(update(LoyaltyProfile).values(email_consent_at=None))
        await session.execute(update(LoyaltyProfile).where(
            LoyaltyProfile.consumer_id == zoe.id).values(email_consent_at=datetime.now(UTC)))
        campaign = Campaign(company_id=zoe.company_id, name="Jeudi", channel="email",
                            subject="Happy hour", blocks=[{"kind": "text", "text": "Venez"}])
        session.add(campaign)
        await session.flush()
        zoe_id, campaign_id = zoe.id, campaign.id
    await sign_in(client, ADMIN)
    client.cookies.set("lang", "en")
    page = await client.get(f"{PAGE}/{campaign_id}")
    assert "1 customer will receive it." in page.text
    _said(await post_form(client, f"{PAGE}/{campaign_id}/send", {"confirm": "yes"}),
          f"{PAGE}/{campaign_id}?said=sent")
    bus = make_bus(None)
    try:
        await campaign_send.sweep_once(db.sessionmaker, bus, app.state.comptoir.settings,
                                       campaign_send.whole_base)
    finally:
        await bus.close()
    [mail] = await mails_to(db, email)
    found = re.search(r"https?://[^/\s]+(/unsubscribe/\S+)", mail.body)
    assert found is not None, mail.body
    async with client_for(app) as mail_client:  # no session, no CSRF token: RFC 8058
        done = await mail_client.post(found.group(1), data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200 and 'id="unsubscribed"' in done.text
    async with db.sessionmaker() as session:
        profile = await session.get(LoyaltyProfile, zoe_id)
        assert profile is not None and profile.email_consent_at is None
    results = await client.get(f"{PAGE}/{campaign_id}")
    assert 'data-result="sent">1<' in results.text
    assert 'data-result="unsubscribed">1<' in results.text
