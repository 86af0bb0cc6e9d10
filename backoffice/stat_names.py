"""The names of what the statistics count by (sites, machines, consumers, groups, selections,
products, categories): the rollups keep ids only, the rooms keep the names."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Site
from customers.models import Consumer, UserGroup
from machines.models import Machine, Selection, SelectionProduct
from ordering.models import Category, Product

# What a dimension's ids name, and the column that ties a row to the company (directly, or
# through its site or its selection).
_COMPANY: dict[str, tuple[Any, Any]] = {
    "site": (Site, Site.company_id),
    "consumer": (Consumer, Consumer.company_id),
    "group": (UserGroup, UserGroup.company_id),
    "selection": (Selection, Selection.company_id),
}
_ON_SITE: dict[str, Any] = {"machine": Machine, "product": Product, "category": Category}
DIMENSIONS = frozenset({*_COMPANY, *_ON_SITE, "drink"})


async def names(session: AsyncSession, company_id: int, kind: str,
                ids: Collection[int]) -> dict[int, str]:
    """The names of these ids of `kind` that are the company's (a missing one is left out:
    the caller shows its id). `drink` is a machine's product (a selection's drink)."""
    wanted = [i for i in ids if isinstance(i, int)]
    if not wanted:
        return {}
    if kind in _COMPANY:
        model, company = _COMPANY[kind]
        query = select(model.id, model.name).where(company == company_id, model.id.in_(wanted))
    elif kind in _ON_SITE:
        model = _ON_SITE[kind]
        query = (select(model.id, model.name).join(Site, Site.id == model.site_id)
                 .where(Site.company_id == company_id, model.id.in_(wanted)))
    elif kind == "drink":
        query = (select(SelectionProduct.id, SelectionProduct.name)
                 .join(Selection, Selection.id == SelectionProduct.selection_id)
                 .where(Selection.company_id == company_id, SelectionProduct.id.in_(wanted)))
    else:
        return {}
    return {row_id: name for row_id, name in (await session.execute(query)).all()}


async def choices(session: AsyncSession, company_id: int, kind: str,
                  sites: frozenset[int] | None) -> list[tuple[int, str]]:
    """Every (id, name) of `kind` a member may filter by: a site-limited member's sites and
    what is kept on them ("site", "machine", "category"); with several sites, what is kept
    on one says which ("Cafés · Le Kiosque")."""
    model: Any = Site if kind == "site" else _ON_SITE[kind]
    site_id = Site.id if kind == "site" else model.site_id
    query = select(model.id, model.name, Site.name).order_by(model.name, Site.name, model.id)
    if kind != "site":
        query = query.join(Site, Site.id == model.site_id)
    query = query.where(Site.company_id == company_id, Site.archived_at.is_(None))
    if sites is not None:
        query = query.where(site_id.in_(sites))
    found = (await session.execute(query)).all()
    several = kind != "site" and len({where for _, _, where in found}) > 1
    return [(row_id, f"{name} · {where}" if several else name) for row_id, name, where in found]
