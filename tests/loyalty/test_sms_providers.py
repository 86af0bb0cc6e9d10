"""SMS providers: the recording one, and Brevo's SDK against a fake of Brevo's HTTP API.
No database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import pytest_asyncio

from loyalty.sms_errors import (
    BadPhoneNumber,
    BadSenderName,
    NoSmsCredits,
    NumberRefused,
    SmsKeyRefused,
    SmsProviderDown,
    StopLineMissing,
)
from loyalty.sms_numbers import e164
from loyalty.sms_providers import BrevoProvider, RecordingProvider, SmsProvider, SmsStatus
from loyalty.sms_text import commercial
from tests.conftest import free_port
from tests.loyalty.brevo_fake import KEY, FakeBrevo, serve_fake_brevo

fake_brevo = pytest_asyncio.fixture(serve_fake_brevo)


@pytest_asyncio.fixture
async def brevo(fake_brevo: FakeBrevo) -> AsyncIterator[BrevoProvider]:
    provider = BrevoProvider(KEY, base_url=fake_brevo.url)
    yield provider
    await provider.close()


def offer(provider: SmsProvider, body: str = "Happy hour dès 18h au Comptoir !") -> str:
    return commercial(body, provider.stop_mention).text


@pytest.mark.parametrize(("typed", "expected"), [
    ("06 12 34 56 78", "+33612345678"),
    ("+33612345678", "+33612345678"),
    ("0033 7 81 23 45 67", "+33781234567"),
    ("0692 12 34 56", "+262692123456"),  # Réunion, written as the French do
    ("+44 7911 123456", "+447911123456"),
])
def test_numbers_are_sent_in_e164(typed: str, expected: str) -> None:
    assert e164(typed) == expected


@pytest.mark.parametrize("typed", ["01 23 45 67 89", "+33 1 23 45 67 89", "12", "abc", ""])
def test_landlines_and_nonsense_are_refused(typed: str) -> None:
    with pytest.raises(BadPhoneNumber):
        e164(typed)


async def test_the_recording_provider_records_and_takes_credits() -> None:
    provider = RecordingProvider(balance=Decimal(3))
    result = await provider.send("06 12 34 56 78", offer(provider), "Comptoir")
    assert result.status is SmsStatus.SENT and result.parts == 1
    assert result.cost_credits == Decimal(1)
    assert provider.sent[0].to == "+33612345678"
    assert provider.sent[0].text.endswith("\nSTOP au 36173")
    assert await provider.credits() == Decimal(2)
    long = await provider.send("0612345678", offer(provider, "a" * 200), "Comptoir")
    assert (long.parts, long.cost_credits) == (2, Decimal(2))
    assert await provider.credits() == Decimal(0)


async def test_the_recording_provider_refuses_as_a_provider_would() -> None:
    provider = RecordingProvider(balance=Decimal(1), refused={"+33781234567"})
    with pytest.raises(NumberRefused):
        await provider.send("+33781234567", offer(provider), "Comptoir")
    with pytest.raises(NoSmsCredits):
        await provider.send("0612345678", offer(provider, "a" * 200), "Comptoir")
    provider.down = True
    with pytest.raises(SmsProviderDown):
        await provider.send("0612345678", offer(provider), "Comptoir")
    with pytest.raises(SmsProviderDown):
        await provider.credits()
    assert provider.sent == [] and provider.balance == Decimal(1)


async def test_rules_are_checked_before_a_message_costs_anything() -> None:
    provider = RecordingProvider()
    with pytest.raises(StopLineMissing):
        await provider.send("0612345678", "Happy hour !", "Comptoir")
    with pytest.raises(BadSenderName):
        await provider.send("0612345678", offer(provider), "Le Comptoir")
    with pytest.raises(BadPhoneNumber):
        await provider.send("01 23 45 67 89", offer(provider), "Comptoir")
    # A transactional message (a code, a receipt) carries no STOP line.
    await provider.send("0612345678", "Votre code : 1234", "Comptoir", commercial=False)
    assert len(provider.sent) == 1 and provider.balance == Decimal(99)


async def test_brevo_sends_a_marketing_sms(brevo: BrevoProvider, fake_brevo: FakeBrevo) -> None:
    text = offer(brevo)
    assert text.endswith("\nSTOP au [STOP_CODE]")  # Brevo puts its own number there
    result = await brevo.send("06 12 34 56 78", text, "Comptoir")
    assert result.status is SmsStatus.SENT
    assert (result.provider_id, result.parts, result.cost_credits) == ("1", 1, Decimal(1))
    [call] = fake_brevo.sms()
    assert call.headers["api-key"] == KEY
    assert call.body == {"recipient": "+33612345678", "sender": "Comptoir", "content": text,
                         "type": "marketing", "unicodeEnabled": False}
    assert fake_brevo.credits == 49


async def test_brevo_is_told_when_the_text_needs_unicode_and_bills_its_parts(
    brevo: BrevoProvider, fake_brevo: FakeBrevo,
) -> None:
    result = await brevo.send("0612345678", offer(brevo, "a" * 300), "Comptoir")
    assert (result.parts, result.cost_credits) == (3, Decimal(3))  # Brevo's own count
    await brevo.send("0612345678", "Ça y est 😀", "Comptoir", commercial=False)
    last = fake_brevo.sms()[-1].body
    assert (last["unicodeEnabled"], last["type"]) == (True, "transactional")


async def test_brevo_shows_the_sms_credits_left(
    brevo: BrevoProvider, fake_brevo: FakeBrevo,
) -> None:
    assert await brevo.credits() == Decimal(50)  # the "sms" plan, not the e-mail one
    fake_brevo.credits = 12.5
    assert await brevo.credits() == Decimal("12.5")


async def test_brevo_refusing_a_number(brevo: BrevoProvider, fake_brevo: FakeBrevo) -> None:
    fake_brevo.refused.add("+33612345678")
    with pytest.raises(NumberRefused):
        await brevo.send("0612345678", offer(brevo), "Comptoir")
    assert fake_brevo.credits == 50


async def test_brevo_without_enough_credits(brevo: BrevoProvider, fake_brevo: FakeBrevo) -> None:
    fake_brevo.credits = 1
    with pytest.raises(NoSmsCredits):
        await brevo.send("0612345678", offer(brevo, "a" * 200), "Comptoir")
    assert fake_brevo.credits == 1
    await brevo.send("0612345678", offer(brevo), "Comptoir")  # one part still goes
    assert fake_brevo.credits == 0


async def test_brevo_down_is_tried_once(brevo: BrevoProvider, fake_brevo: FakeBrevo) -> None:
    fake_brevo.failing = 503
    with pytest.raises(SmsProviderDown):
        await brevo.send("0612345678", offer(brevo), "Comptoir")
    assert len(fake_brevo.sms()) == 1  # not retried: it might have gone out
    with pytest.raises(SmsProviderDown):
        await brevo.credits()


async def test_brevo_unreachable() -> None:
    provider = BrevoProvider(KEY, base_url=f"http://127.0.0.1:{free_port()}/v3", timeout_s=2)
    try:
        with pytest.raises(SmsProviderDown):
            await provider.send("0612345678", offer(provider), "Comptoir")
        with pytest.raises(SmsProviderDown):
            await provider.credits()
    finally:
        await provider.close()


async def test_brevo_refusing_the_key(fake_brevo: FakeBrevo) -> None:
    provider = BrevoProvider("xkeysib-wrong", base_url=fake_brevo.url)
    try:
        with pytest.raises(SmsKeyRefused):
            await provider.send("0612345678", offer(provider), "Comptoir")
        with pytest.raises(SmsKeyRefused):
            await provider.credits()
    finally:
        await provider.close()
    assert "xkeysib" not in repr(provider)  # the key never printed whole
