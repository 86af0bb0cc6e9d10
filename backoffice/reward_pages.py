"""The rewards' pages: the list (offered and archived), a new reward, editing one,
archiving it and bringing it back.

A reward is archived, never deleted: customers' points entries, coupons and triggers name
it, and the statistics count what it cost; archived, no till, table or trigger offers it
(coupons already given stay good). A free product is one of the company's menu products,
kept by id and name (loyalty sits below ordering and does not read its menu).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.models import Company, Site
from accounts.roles import Permission
from accounts.service import StaffIdentity
from backoffice.forms import confirmed, done, member_for, read_form, refused
from backoffice.loyalty_forms import (
    PRODUCT_ERROR,
    RewardForm,
    reward_audit,
    reward_command,
    reward_problems,
    reward_values,
)
from domain import audit
from errors import N_, DomainError, InvalidInput
from loyalty import setup
from loyalty.models import Reward
from loyalty.rules import EffectKind
from ordering.models import Product
from realtime.events import Tx
from web.i18n import gettext, money
from web.state import locale_of, run_tx
from web.templating import page

REWARDS = "/backoffice/loyalty/rewards"


def effect_text(reward: Reward, currency: str, locale: str) -> str:
    """What a reward does, as the reader says it: "2,00 € off", "10 % off", "Free: Espresso"."""
    effect = EffectKind(reward.effect)
    if effect is EffectKind.AMOUNT_OFF:
        return gettext(locale, N_("%(amount)s off")) % {
            "amount": money(reward.amount, currency, locale)}
    if effect is EffectKind.PERCENT_OFF:
        return gettext(locale, N_("%(percent)s %% off")) % {"percent": reward.percent}
    return gettext(locale, N_("Free: %(product)s")) % {"product": reward.product_name}


async def _currency(session: AsyncSession, company_id: int) -> str:
    return await session.scalar(select(Company.currency).where(Company.id == company_id)) or "EUR"


async def _products(session: AsyncSession, company_id: int) -> list[tuple[str, str]]:
    """The company's products on a menu, as (id, label) choices; each named with its site
    when the company has several."""
    rows = (await session.execute(
        select(Product.id, Product.name, Site.name)
        .join(Site, Site.id == Product.site_id)
        .where(Site.company_id == company_id, Site.archived_at.is_(None),
               Product.archived_at.is_(None))
        .order_by(Product.name, Site.name, Product.id)
    )).all()
    several = len({site for _, _, site in rows}) > 1
    return [(str(pid), f"{name} · {site}" if several else name) for pid, name, site in rows]


async def _product_name(session: AsyncSession, company_id: int, product_id: int) -> str:
    """The name of the company's product; another company's, or none, is the field's error."""
    name = await session.scalar(
        select(Product.name).join(Site, Site.id == Product.site_id)
        .where(Product.id == product_id, Site.company_id == company_id))
    if name is None:
        error = InvalidInput(PRODUCT_ERROR)
        error.field = "product_id"
        raise error
    return name


async def rewards_page(request: Request) -> Response:
    staff = await member_for(request, Permission.LOYALTY)
    if isinstance(staff, Response):
        return staff
    locale = locale_of(request)

    async def op(tx: Tx) -> dict[str, Any]:
        currency = await _currency(tx.session, staff.company_id)
        rewards = (await tx.session.scalars(
            select(Reward).where(Reward.company_id == staff.company_id)
            .order_by(Reward.cost_points, Reward.name, Reward.id))).all()
        def rows(active: bool) -> list[dict[str, Any]]:
            return [{"reward": r, "effect": effect_text(r, currency, locale)}
                    for r in rewards if r.active == active]

        return {"currency": currency, "offered": rows(True), "archived": rows(False)}

    return page(request, "backoffice/loyalty_rewards.html", staff=staff,
                said=request.query_params.get("done", ""), **await run_tx(request, op))


async def _form_page(request: Request, staff: StaffIdentity, reward_id: int | None,
                     values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                     status: int = 200) -> Response:
    """A new reward's form, or one's (with what was typed and its errors, when refused)."""
    locale = locale_of(request)

    async def op(tx: Tx) -> dict[str, Any]:
        currency = await _currency(tx.session, staff.company_id)
        reward = (await setup.reward_of(tx, staff.company_id, reward_id)
                  if reward_id is not None else None)
        products = await _products(tx.session, staff.company_id)
        if reward is not None and reward.product_id is not None and str(
                reward.product_id) not in {pid for pid, _ in products}:
            products.append((str(reward.product_id), reward.product_name))  # off the menu now
        shown = values if values is not None else (
            reward_values(reward, currency, locale) if reward is not None
            else {"effect": EffectKind.AMOUNT_OFF.value})
        return {"reward": reward, "products": products, "values": shown, "currency": currency}

    return page(request, "backoffice/loyalty_reward.html", status=status, staff=staff,
                errors=errors or {}, **await run_tx(request, op))


def _reward_id(request: Request) -> int | None:
    value = request.path_params.get("reward_id")
    return int(value) if value is not None else None


async def reward_page(request: Request) -> Response:
    staff = await member_for(request, Permission.LOYALTY)
    if isinstance(staff, Response):
        return staff
    return await _form_page(request, staff, _reward_id(request))


async def save_reward(request: Request) -> Response:
    """Add a reward (`/new`) or change one; refused, the form again with every error."""
    staff = await member_for(request, Permission.LOYALTY)
    if isinstance(staff, Response):
        return staff
    reward_id = _reward_id(request)
    if reward_id is not None:  # another company's answers as a missing one, before the form
        await run_tx(request, lambda tx: setup.reward_of(tx, staff.company_id, reward_id))
    locale = locale_of(request)
    form, typed, errors = await read_form(request, RewardForm)
    if form is not None:
        errors = {field: gettext(locale, text) for field, text in reward_problems(form).items()}
    if form is None or errors:
        return await _form_page(request, staff, reward_id, typed, errors, 422)
    company_id = staff.company_id

    async def op(tx: Tx) -> Reward:
        name = (await _product_name(tx.session, company_id, form.product_id)
                if form.effect == "free_product" and form.product_id else "")
        command = reward_command(form, name)
        if reward_id is None:
            reward = await setup.add_reward(tx, company_id, command)
            await audit.record(tx, staff.id, company_id, "reward.added", f"reward:{reward.id}",
                               reward_audit(reward))
            return reward
        before = reward_audit(await setup.reward_of(tx, company_id, reward_id))
        reward = await setup.edit_reward(tx, company_id, reward_id, command)
        changes = audit.diff(before, reward_audit(reward))
        if changes:
            await audit.record(tx, staff.id, company_id, "reward.changed", f"reward:{reward.id}",
                               changes)
        return reward

    try:
        reward = await run_tx(request, op)
    except DomainError as refusal:
        if refusal.field is None:
            raise
        return await _form_page(request, staff, reward_id, typed, refused(refusal, locale), 422)
    return done(request, f"{REWARDS}?done=saved#reward-{reward.id}")


async def _archive(request: Request, archived: bool) -> Response:
    staff = await member_for(request, Permission.LOYALTY)
    if isinstance(staff, Response):
        return staff
    reward_id = _reward_id(request)
    assert reward_id is not None

    async def act(tx: Tx) -> None:
        reward = await setup.archive_reward(tx, staff.company_id, reward_id, archived)
        await audit.record(tx, staff.id, staff.company_id,
                           "reward.archived" if archived else "reward.restored",
                           f"reward:{reward.id}", {"name": reward.name})

    where = f"{REWARDS}?done={'archived' if archived else 'restored'}#reward-{reward_id}"
    if archived:
        return await confirmed(request, act, where)
    await run_tx(request, act)
    return done(request, where)


async def archive_reward(request: Request) -> Response:
    """Offered nowhere any more, once the page asked (`confirm=yes`)."""
    return await _archive(request, True)


async def restore_reward(request: Request) -> Response:
    """Offered again (no confirmation: nothing is lost)."""
    return await _archive(request, False)


ONE = REWARDS + "/{reward_id:id}"
routes = [
    Route(REWARDS, rewards_page),
    Route(f"{REWARDS}/new", reward_page),
    Route(f"{REWARDS}/new", save_reward, methods=["POST"]),
    Route(ONE, reward_page),
    Route(ONE, save_reward, methods=["POST"]),
    Route(f"{ONE}/archive", archive_reward, methods=["POST"]),
    Route(f"{ONE}/restore", restore_reward, methods=["POST"]),
]
