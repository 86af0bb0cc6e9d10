"""A company's payment provider and keys, set by its operator; the environment's otherwise.

Secrets go in and never come back out: views carry them masked (payments.mask), and an
empty field on save keeps the stored value. They are stored encrypted (machines/secret_box);
keys saved under another SECRET_KEY read as `unreadable`: the settings page asks for them
again and payments through them are refused, clearly, until then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

from sqlalchemy.ext.asyncio import AsyncSession

from accounts.roles import Permission
from accounts.service import StaffIdentity
from domain import audit
from payments.commands import PaymentSettingsChange, Provider
from payments.errors import PaymentKeysUnreadable, StripeKeysMissing
from payments.models import PaymentSettings
from payments.providers import mask
from payments.secret_box import SecretBox, UnreadableSecret, box_for
from realtime.events import Tx
from settings import Settings

PROVIDERS: tuple[str, ...] = get_args(Provider)


@dataclass(frozen=True)
class ProviderConfig:
    provider: str
    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    own: bool = False  # the company's own settings, not the environment's
    unreadable: bool = False  # its stored keys were sealed under another SECRET_KEY

    def __repr__(self) -> str:  # never the keys, should a config end up printed
        return f"ProviderConfig({self.provider!r}, {mask(self.stripe_secret_key)!r})"


def from_env(settings: Settings) -> ProviderConfig:
    return ProviderConfig(
        settings.payment_provider, settings.stripe_secret_key, settings.stripe_webhook_secret
    )


def _opened(row: PaymentSettings, box: SecretBox) -> ProviderConfig:
    try:
        key, webhook = box.open(row.stripe_secret_key), box.open(row.stripe_webhook_secret)
    except UnreadableSecret:
        return ProviderConfig(row.provider, own=True, unreadable=True)
    return ProviderConfig(row.provider, key, webhook, True)


async def config_for(session: AsyncSession, company_id: int, settings: Settings) -> (
    ProviderConfig
):
    row = await session.get(PaymentSettings, company_id)
    if row is None:
        return from_env(settings)
    return _opened(row, box_for(settings.secret_key))


def webhook_path(company_id: int) -> str:
    return f"/api/v1/payments/stripe/webhook/{company_id}"


def view(config: ProviderConfig, company_id: int, base_url: str) -> dict[str, Any]:
    """What an operator sees: the choice, where it comes from, masked keys."""
    return {
        "provider": config.provider,
        "source": "company" if config.own else "environment",
        "stripe_secret_key": mask(config.stripe_secret_key),
        "stripe_webhook_secret": mask(config.stripe_webhook_secret),
        "unreadable": config.unreadable,
        "webhook_url": base_url + webhook_path(company_id),
    }


async def save(
    tx: Tx, staff: StaffIdentity, change: PaymentSettingsChange, now: datetime, box: SecretBox
) -> ProviderConfig:
    """The provider chosen, and each key given (a key left out keeps the stored one)."""
    staff.require(Permission.CONFIGURE)
    new_key, new_webhook = change.stripe_secret_key, change.stripe_webhook_secret
    session = tx.session
    row = await session.get(PaymentSettings, staff.company_id)
    if row is None:
        row = PaymentSettings(company_id=staff.company_id, stripe_secret_key="",
                              stripe_webhook_secret="")
        session.add(row)
    # What changed, never the keys themselves.
    changes: dict[str, object] = {}
    if row.provider != change.provider:
        changes["provider"] = [row.provider, change.provider]
    changes.update({name: "replaced" for name, given in (
        ("stripe_secret_key", new_key), ("stripe_webhook_secret", new_webhook)) if given})
    if changes:
        await audit.record(tx, staff.id, staff.company_id, "payments.settings",
                           "payment provider", changes)
    row.provider = change.provider
    if new_key:
        row.stripe_secret_key = box.seal(new_key)
    if new_webhook:
        row.stripe_webhook_secret = box.seal(new_webhook)
    config = _opened(row, box)
    if config.provider == "stripe" and config.unreadable:
        raise PaymentKeysUnreadable()  # kept from before a SECRET_KEY change: enter both
    if config.provider == "stripe" and not (
        config.stripe_secret_key and config.stripe_webhook_secret
    ):
        raise StripeKeysMissing()
    row.updated_at = now
    await session.flush()  # one row per company: a concurrent first save retries as an update
    return config
