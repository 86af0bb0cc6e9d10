"""The venue's loyalty fields on the sign-up form (customers/api.py's `SignUpExtras`):
what it asks (phone, birthday, postcode) and the consents by channel, unticked unless
the person ticks them, kept with the new account in its transaction.

A sign-up never tells who has an account (customers/service.py): a bad field is refused
alike for every address, and a phone number another customer gave is not kept (nor
told); the customer can give it in their space, where a taken one is refused."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyalty import profiles
from loyalty.commands import Profile
from realtime.events import Tx
from web.commands import parse


class ProfileAtSignUp:
    async def keep(self, tx: Tx, company_id: int, consumer_id: int | None,
                   body: Mapping[str, Any], form: bool) -> None:
        told = parse(Profile, body, form=form)
        if consumer_id is None:
            return
        if not await profiles.phone_free(tx.session, company_id, told.phone):
            told = told.model_copy(update={"phone": None})
        await profiles.save(tx, company_id, consumer_id, told)
