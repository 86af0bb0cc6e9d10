"""Limits on guessing hold when the guesses come all at once: of a burst, only the tries
within the limit are checked; the others answer 429 with `Retry-After` and are not checked.

A check is what a caller can tell apart: 403 `wrong_pin` or 401 `bad_login` (the guess was
compared), 429 (it was not). Runs on SQLite and PostgreSQL; the same burst over two app
processes is in tests/deploy/test_limits.py.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from contextlib import AsyncExitStack

import httpx
from starlette.applications import Starlette

from demo.seed import DemoVenue
from tests.api.test_bad_input import ADMIN, CASHIER, KITCHEN, expect, login
from tests.conftest import client_for

BURST = 40
DEVICE_LIMIT, TABLE_LIMIT, TABLE_PACE_S = 5, 10, 30  # the settings' defaults
SIGN_IN_LIMIT = 10


def outcomes(responses: list[httpx.Response]) -> Counter[tuple[int, str]]:
    return Counter((r.status_code, r.json()["error"]["code"]) for r in responses)


def retry_after(response: httpx.Response) -> int:
    seconds = int(response.headers["retry-after"])
    assert seconds > 0
    return seconds


async def open_table(app: Starlette, venue: DemoVenue, lea: httpx.AsyncClient) -> tuple[str, str]:
    token = venue.table_tokens[0][1]
    started = await lea.post(f"/api/v1/tables/{token}/start", json={"name": "Léa"})
    assert started.status_code == 201, started.text
    return token, started.json()["pin"]


def wrong_for(pin: str) -> str:
    return "000000" if pin != "000000" else "111111"


async def test_forty_wrong_pins_at_once_from_one_phone_get_five_checks(
    app: Starlette, venue: DemoVenue
) -> None:
    async with client_for(app) as lea, client_for(app) as eve, client_for(app) as tom:
        token, pin = await open_table(app, venue, lea)
        join = f"/api/v1/tables/{token}/join"
        await eve.get(f"/api/v1/tables/{token}")  # her cookie: one device from here on
        guesses = [eve.post(join, json={"name": "Eve", "pin": wrong_for(pin)})
                   for _ in range(BURST)]
        burst = await asyncio.gather(*guesses)
        assert outcomes(burst) == {
            (403, "wrong_pin"): DEVICE_LIMIT, (429, "pin_locked"): BURST - DEVICE_LIMIT,
        }
        for refused in (r for r in burst if r.status_code == 429):
            assert retry_after(refused) <= 600

        # The phone is out of tries, even with the right PIN; the table is not slowed.
        refused = await eve.post(join, json={"name": "Eve", "pin": pin})
        expect(refused, 429, "pin_locked")
        assert 590 <= retry_after(refused) <= 600
        joined = await tom.post(join, json={"name": "Tom", "pin": pin})
        assert joined.status_code == 200, joined.text


async def test_a_friend_with_the_right_pin_joins_at_once_after_a_strangers_wrong_guesses(
    app: Starlette, venue: DemoVenue
) -> None:
    """Issue 12, item 5: five wrong PINs from a stranger used to lock the whole table for
    ten minutes. Now they lock the stranger's phone only."""
    async with client_for(app) as lea, client_for(app) as eve, client_for(app) as zoe:
        token, pin = await open_table(app, venue, lea)
        join = f"/api/v1/tables/{token}/join"
        for _ in range(DEVICE_LIMIT):
            expect(await eve.post(join, json={"name": "Eve", "pin": wrong_for(pin)}),
                   403, "wrong_pin")
        expect(await eve.post(join, json={"name": "Eve", "pin": pin}), 429, "pin_locked")

        joined = await zoe.post(join, json={"name": "Zoé", "pin": pin})  # another phone
        assert joined.status_code == 200, joined.text
        members = (await lea.get(f"/api/v1/tables/{token}")).json()["table"]["session"]
        assert [m["name"] for m in members["members"]] == ["Léa", "Zoé"]
        expect(await eve.post(join, json={"name": "Eve", "pin": pin}), 429, "pin_locked")


async def test_a_right_pin_in_a_burst_of_wrong_ones_gets_in_only_within_the_limit(
    app: Starlette, venue: DemoVenue
) -> None:
    async with client_for(app) as lea, client_for(app) as eve:
        token, pin = await open_table(app, venue, lea)
        join = f"/api/v1/tables/{token}/join"
        await eve.get(f"/api/v1/tables/{token}")
        burst = await asyncio.gather(*(  # the right PIN eighth in the burst
            eve.post(join, json={"name": "Eve", "pin": pin if n == 7 else wrong_for(pin)})
            for n in range(BURST)
        ))
        members = (await lea.get(f"/api/v1/tables/{token}")).json()["table"]["session"]
        got_in = [m["name"] for m in members["members"]] == ["Léa", "Eve"]
        statuses = Counter(r.status_code for r in burst)
        if got_in:  # the right PIN was taken within her five tries; after it, she is a member.
            # A right PIN gives its try back, so a wrong one in flight may still take it:
            # the wrong PINs checked never exceed the device's five.
            assert statuses[403] <= DEVICE_LIMIT, statuses
        else:
            assert statuses == {403: DEVICE_LIMIT, 429: BURST - DEVICE_LIMIT}, statuses


async def test_forty_phones_guessing_at_once_slow_the_table_until_staff_lift_it(
    app: Starlette, venue: DemoVenue
) -> None:
    async with AsyncExitStack() as stack:
        lea, friend, pos, kitchen = [
            await stack.enter_async_context(client_for(app)) for _ in range(4)
        ]
        phones = [await stack.enter_async_context(client_for(app)) for _ in range(BURST)]
        token, pin = await open_table(app, venue, lea)
        join = f"/api/v1/tables/{token}/join"
        for phone in (*phones, friend):
            await phone.get(f"/api/v1/tables/{token}")  # each its own device
        burst = await asyncio.gather(*(
            phone.post(join, json={"name": "X", "pin": wrong_for(pin)}) for phone in phones
        ))
        assert outcomes(burst) == {
            (403, "wrong_pin"): TABLE_LIMIT, (429, "pin_slowed"): BURST - TABLE_LIMIT,
        }
        for refused in (r for r in burst if r.status_code == 429):
            assert retry_after(refused) <= TABLE_PACE_S

        # Slowed for everyone, the party's friend too; staff see it on the POS.
        slowed = await friend.post(join, json={"name": "Zoé", "pin": pin})
        expect(slowed, 429, "pin_slowed")
        assert retry_after(slowed) <= TABLE_PACE_S
        table_id = (await lea.get(f"/api/v1/tables/{token}")).json()["table"]["table"]["id"]
        await login(pos, *CASHIER)
        board = f"/api/v1/staff/sites/{venue.site_id}/pos"
        alerts = (await pos.get(board)).json()["alerts"]
        assert [(a["table_id"], a["kind"], a["failures"]) for a in alerts] == [
            (table_id, "pin_slowed", TABLE_LIMIT)
        ]

        page = await pos.get(f"/pos/{venue.site_id}", headers={"accept-language": "fr"})
        assert f'hx-post="/api/v1/staff/tables/{table_id}/pin-limit/lift"' in page.text
        assert "Lever le ralentissement" in page.text

        # Kitchen staff may not lift it; a cashier may, and the friend gets in at once.
        lift = f"/api/v1/staff/tables/{table_id}/pin-limit/lift"
        await login(kitchen, *KITCHEN)
        expect(await kitchen.post(lift, json={}), 403, "forbidden")
        lifted = await pos.post(lift, json={})
        assert lifted.status_code == 200, lifted.text
        assert (await pos.get(board)).json()["alerts"] == []
        joined = await friend.post(join, json={"name": "Zoé", "pin": pin})
        assert joined.status_code == 200, joined.text


async def test_the_table_takes_ten_wrong_pins_then_one_try_per_pace(
    app: Starlette, venue: DemoVenue
) -> None:
    async with AsyncExitStack() as stack:
        lea = await stack.enter_async_context(client_for(app))
        token, pin = await open_table(app, venue, lea)
        join = f"/api/v1/tables/{token}/join"
        for number in range(TABLE_LIMIT):
            phone = await stack.enter_async_context(client_for(app))
            wrong = await phone.post(join, json={"name": "X", "pin": wrong_for(pin)})
            expect(wrong, 403, "wrong_pin")
            assert "retry-after" not in wrong.headers, number
        late = await stack.enter_async_context(client_for(app))
        refused = await late.post(join, json={"name": "Y", "pin": pin})
        expect(refused, 429, "pin_slowed")
        assert TABLE_PACE_S - 2 <= retry_after(refused) <= TABLE_PACE_S


async def test_forty_wrong_staff_passwords_at_once_get_the_limits_checks(
    app: Starlette,
) -> None:
    async with client_for(app) as guesser, client_for(app) as cashier:
        for email in (CASHIER[0], "nobody@cafe-de-la-gare.fr"):  # known or not, alike
            burst = await asyncio.gather(*(
                guesser.post("/api/v1/staff/login", json={"email": email, "password": "guess"})
                for _ in range(BURST)
            ))
            assert outcomes(burst) == {
                (401, "bad_login"): SIGN_IN_LIMIT,
                (429, "too_many_sign_ins"): BURST - SIGN_IN_LIMIT,
            }, email
            for refused in (r for r in burst if r.status_code == 429):
                assert retry_after(refused) <= 600
        # The address is out of tries, even with the right password, from any client...
        refused = await cashier.post(
            "/api/v1/staff/login", json={"email": CASHIER[0], "password": CASHIER[1]}
        )
        expect(refused, 429, "too_many_sign_ins")
        assert retry_after(refused) > 500
        # ... while other staff still sign in.
        await login(cashier, *ADMIN)


async def test_forty_wrong_consumer_passwords_at_once_get_the_limits_checks(
    app: Starlette, venue: DemoVenue
) -> None:
    email, password = venue.consumers[0]
    machine = venue.machines[0].token
    async with client_for(app) as guesser, client_for(app) as owner:
        burst = await asyncio.gather(*(
            guesser.post("/api/v1/consumers/login",
                         json={"machine": machine, "email": email, "password": "guess"})
            for _ in range(BURST)
        ))
        assert outcomes(burst) == {
            (401, "bad_login"): SIGN_IN_LIMIT, (429, "too_many_sign_ins"): BURST - SIGN_IN_LIMIT,
        }
        refused = await owner.post("/api/v1/consumers/login",
                                   json={"machine": machine, "email": email,
                                         "password": password})
        expect(refused, 429, "too_many_sign_ins")
        assert retry_after(refused) > 500


async def test_one_client_guessing_many_addresses_is_limited_too(app: Starlette) -> None:
    async with client_for(app) as guesser:
        answers = []
        for number in range(60):  # one at a time: each address is new, the client is not
            answers.append(await guesser.post(
                "/api/v1/staff/login",
                json={"email": f"guess{number}@example.org", "password": "guess"},
            ))
        counted = outcomes(answers)
        assert counted[(401, "bad_login")] == 50 and counted[(429, "too_many_sign_ins")] == 10


async def test_a_successful_sign_in_does_not_use_up_a_try(app: Starlette) -> None:
    async with client_for(app) as cashier:
        for _ in range(SIGN_IN_LIMIT + 5):
            await login(cashier, *CASHIER)
        wrong = await cashier.post("/api/v1/staff/login",
                                   json={"email": CASHIER[0], "password": "guess"})
        expect(wrong, 401, "bad_login")


async def test_the_refusal_is_in_the_callers_language(
    app: Starlette, venue: DemoVenue
) -> None:
    async with client_for(app) as lea, client_for(app) as eve:
        token, pin = await open_table(app, venue, lea)
        join = f"/api/v1/tables/{token}/join"
        french = {"accept-language": "fr-FR,fr;q=0.9"}
        for _ in range(DEVICE_LIMIT):
            await eve.post(join, json={"name": "Eve", "pin": wrong_for(pin)}, headers=french)
        refused = await eve.post(join, json={"name": "Eve", "pin": pin}, headers=french)
        expect(refused, 429, "pin_locked")
        assert refused.json()["error"]["message"] == (
            "Trop de PIN erronés depuis ce téléphone. Réessayez dans 10 min."
        )
