"""The automatic sends' pages: one written with the campaign editor and a trigger, refused
while its trigger is wrong or its message not ready (shown, nothing changed), switched on
and off from its page and the list, test-sent, copied, deleted while it sent nothing and
kept once it did; another company's is not found. On SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from accounts.models import Company
from demo.seed import DemoVenue
from loyalty.models import Campaign, CampaignMessage
from tests.backoffice.conftest import ADMIN, audit_actions, mails_to, post_form, sign_in
from tests.conftest import Database

PAGE = "/backoffice/campaigns/automatic"
SEND = {"name": "Dix passages", "channel": "email", "subject": "Merci !", "op": "save",
        "trigger_kind": "visits", "trigger_every": "10",
        "b0.kind": "title", "b0.text": "Merci de votre fidélité"}


async def _sends(db: Database) -> list[Campaign]:
    async with db.sessionmaker() as session:
        return list(await session.scalars(
            select(Campaign).where(Campaign.automatic).order_by(Campaign.id)))


def _said(answer: httpx.Response, where: str) -> None:
    assert answer.status_code == 200, answer.text[:800]
    assert answer.headers["hx-redirect"] == where, answer.headers


async def test_a_manager_writes_switches_tests_copies_and_deletes_an_automatic_send(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    client.cookies.set("lang", "en")
    empty = await client.get(PAGE)
    assert empty.status_code == 200 and "No automatic send yet" in empty.text
    assert 'href="/backoffice/campaigns/automatic" aria-current="page"' in empty.text

    bad = await post_form(client, f"{PAGE}/new", {**SEND, "trigger_kind": "birthday",
                                                   "trigger_every": "120"})
    assert bad.status_code == 422
    assert "1 to 90 days before the birthday" in bad.text
    assert await _sends(db) == []
    coupon_only = await post_form(client, f"{PAGE}/new", {**SEND, "channel": "coupon"})
    assert coupon_only.status_code == 422 and "Choose e-mail or SMS." in coupon_only.text

    created = await post_form(client, f"{PAGE}/new", {**SEND, "subject": ""})
    [send] = await _sends(db)
    _said(created, f"{PAGE}/{send.id}?said=saved")
    assert (send.active, send.trigger_kind, send.trigger_every) == (False, "visits", 10)
    # Not ready (no subject): refused on its page, still off.
    refused = await post_form(client, f"{PAGE}/{send.id}/switch", {"on": "yes"})
    assert refused.status_code == 422 and "not ready to go" in refused.text
    assert not (await _sends(db))[0].active

    _said(await post_form(client, f"{PAGE}/{send.id}", SEND), f"{PAGE}/{send.id}?said=saved")
    _said(await post_form(client, f"{PAGE}/{send.id}/switch", {"on": "yes"}),
          f"{PAGE}/{send.id}?said=on")
    shown = await client.get(f"{PAGE}/{send.id}?said=on")
    assert 'data-on="yes"' in shown.text and "every 10 visits" in shown.text
    assert "Switched on" in shown.text
    listed = await client.get(PAGE)
    assert f'data-campaign="{send.id}" data-on="yes"' in listed.text
    _said(await post_form(client, f"{PAGE}/{send.id}/switch?from=list", {"on": "no"}),
          f"{PAGE}?said=off")
    assert not (await _sends(db))[0].active

    _said(await post_form(client, f"{PAGE}/{send.id}/test", {}),
          f"{PAGE}/{send.id}?said=tested")
    [test] = await mails_to(db, ADMIN[0])
    assert test.subject == "Merci !"

    copied = await post_form(client, f"{PAGE}/{send.id}/duplicate", {})
    copy = (await _sends(db))[-1]
    _said(copied, f"{PAGE}/{copy.id}?said=copied")
    assert copy.name == "Dix passages (2)" and not copy.active
    _said(await post_form(client, f"{PAGE}/{copy.id}/delete", {"confirm": "yes"}),
          f"{PAGE}?said=deleted")
    assert [s.id for s in await _sends(db)] == [send.id]

    # Once it sent, it is kept: switched off instead.
    async with db.sessionmaker() as session, session.begin():
        session.add(CampaignMessage(company_id=send.company_id, campaign_id=send.id,
                                    channel="email", address="a@b.fr", key="auto:x",
                                    status="sent"))
    kept = await post_form(client, f"{PAGE}/{send.id}/delete", {"confirm": "yes"})
    assert kept.status_code == 422 and "switch it off instead" in kept.text
    assert [s.id for s in await _sends(db)] == [send.id]
    assert [a for a, _ in await audit_actions(db) if a.startswith("automatic.")] == [
        "automatic.added", "automatic.changed", "automatic.switched", "automatic.switched",
        "automatic.duplicated", "automatic.deleted"]


async def test_another_companys_automatic_send_is_not_found(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    async with db.sessionmaker() as session, session.begin():
        other = Company(name="Ailleurs", currency="EUR", timezone="Europe/Paris", locale="fr")
        session.add(other)
        await session.flush()
        theirs = Campaign(company_id=other.id, name="Leur envoi", channel="email",
                          subject="x", blocks=[{"kind": "title", "text": "x"}],
                          automatic=True, trigger_kind="visits", trigger_every=3)
        session.add(theirs)
        await session.flush()
    await sign_in(client, ADMIN)
    assert (await client.get(f"{PAGE}/{theirs.id}")).status_code == 404
    answer = await post_form(client, f"{PAGE}/{theirs.id}/switch", {"on": "yes"})
    assert answer.status_code == 404
    assert not (await _sends(db))[0].active
    # A manual campaign's page does not open an automatic send either.
    assert (await client.get(f"/backoffice/campaigns/{theirs.id}")).status_code == 404
