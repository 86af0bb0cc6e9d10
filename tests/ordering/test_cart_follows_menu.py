"""A cart line follows the menu until it is sent: sold out, off the menu or re-priced,
every open cart holding it shows it at once, and a round never takes what the kitchen
cannot make. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from ordering import cart_service, menu_admin, staff_service
from ordering.errors import CartUnavailable
from ordering.menu_rules import format_price, format_vat
from ordering.models import OrderLine, Product, Round
from tests.ordering.conftest import Cafe, assert_versions_consecutive, topics


def key() -> str:
    return uuid.uuid4().hex


def cart_of(view: dict[str, Any]) -> list[dict[str, Any]]:
    return list(view["session"]["cart"])


def values_of(product: Product, **changes: str) -> dict[str, str]:
    return {
        "reference": product.reference, "category_id": str(product.category_id),
        "name": product.name, "description": product.description or "",
        "price": format_price(product.price, 2), "vat_rate": format_vat(product.vat_rate),
        "allergens": product.allergens, "station": product.station or "",
        "available": "yes" if product.available else "no", **changes,
    }


async def test_a_sold_out_product_is_marked_in_every_open_cart_and_blocks_sending(
    cafe: Cafe,
) -> None:
    first, second, third = cafe.tables[0], cafe.tables[1], cafe.tables[2]
    await cafe.party(first, "Lea", "Tom")
    await cafe.party(second, "Zoe")
    await cafe.party(third, "Max")
    tarte = cafe.products["Tarte Tatin"]
    await cafe.add(first, "device-lea", "Tarte Tatin", 2)
    await cafe.add(first, "device-tom", "Espresso")
    await cafe.add(second, "device-zoe", "Tarte Tatin")
    await cafe.add(third, "device-max", "Espresso")  # no tarte: not told
    kitchen = await cafe.staff("kitchen")

    await cafe.run(lambda tx: staff_service.set_available(tx, kitchen, tarte.id, False))

    menu = f"menu:{cafe.venue.site_id}"
    assert topics(cafe.last_events) == [
        (menu, "menu.changed"),
        (f"table:{first.id}", "menu.changed"),
        (f"table:{second.id}", "menu.changed"),
    ]
    seen = cafe.last_events[1].data["view"]
    assert [(ln["name"], ln["available"]) for ln in cart_of(seen)] == [
        ("Tarte Tatin", False), ("Espresso", True),
    ]

    with pytest.raises(CartUnavailable) as refused:
        await cafe.submit(first, "device-tom", key())
    assert refused.value.status == 409
    assert refused.value.code == "cart_unavailable"
    assert refused.value.params == {"products": "Tarte Tatin"}
    tarte_line = cart_of(await cafe.view(first))[0]
    assert refused.value.detail == {"lines": [{"id": tarte_line["id"], "name": "Tarte Tatin"}]}
    # Nothing was sent: no round, the cart as it was, the round numbers untouched.
    assert await cafe.count(select(func.count()).select_from(Round)) == 0
    assert len(cart_of(await cafe.view(first))) == 2

    # Once Léa removes her line, the rest goes.
    await cafe.run(lambda tx: cart_service.remove_line(
        tx, cafe.config, first.token, "device-lea", tarte_line["id"]))
    sent = await cafe.submit(first, "device-tom", key())
    assert sent.round.number == 1
    names = await cafe.count(
        select(func.count()).select_from(OrderLine).where(OrderLine.round_id == sent.round.id)
    )
    assert names == 1

    # Back on sale: the other cart's line is orderable again, and is told so.
    await cafe.run(lambda tx: staff_service.set_available(tx, kitchen, tarte.id, True))
    assert topics(cafe.last_events) == [(menu, "menu.changed"),
                                        (f"table:{second.id}", "menu.changed")]
    assert cart_of(await cafe.view(second))[0]["available"] is True
    assert (await cafe.submit(second, "device-zoe", key())).round.number == 1
    await assert_versions_consecutive(cafe)


async def test_archiving_a_product_or_its_category_marks_it_in_carts(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await cafe.party(table, "Lea")
    await cafe.add(table, "device-lea", "Croissant")
    await cafe.add(table, "device-lea", "Espresso")
    admin = await cafe.staff("admin")
    croissant, espresso = cafe.products["Croissant"], cafe.products["Espresso"]

    await cafe.run(lambda tx: menu_admin.archive(tx, admin, "products", croissant.id, "yes"))
    assert (f"table:{table.id}", "menu.changed") in topics(cafe.last_events)
    assert [ln["available"] for ln in cart_of(await cafe.view(table))] == [False, True]

    await cafe.run(
        lambda tx: menu_admin.archive(tx, admin, "categories", espresso.category_id, "yes"))
    assert (f"table:{table.id}", "menu.changed") in topics(cafe.last_events)
    assert [ln["available"] for ln in cart_of(await cafe.view(table))] == [False, False]
    with pytest.raises(CartUnavailable) as refused:
        await cafe.submit(table, "device-lea", key())
    assert refused.value.params == {"products": "Croissant, Espresso"}
    await assert_versions_consecutive(cafe)


async def test_a_new_price_shows_in_the_cart_at_once_and_is_the_one_sent(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await cafe.party(table, "Lea")
    espresso = cafe.products["Espresso"]
    old = espresso.price
    await cafe.add(table, "device-lea", "Espresso", 2)
    admin = await cafe.staff("admin")

    await cafe.run(lambda tx: menu_admin.update_product(
        tx, admin, espresso.id, values_of(espresso, price=format_price(old + 20, 2))))

    events = [e for e in cafe.last_events if e.topic == f"table:{table.id}"]
    assert [e.type for e in events] == ["menu.changed"]
    line = cart_of(events[0].data["view"])[0]
    assert (line["unit_price"], line["price_was"], line["amount"]) == (old + 20, old, 2 * old + 40)
    assert events[0].data["view"]["session"]["cart_total"] == 2 * old + 40
    assert events[0].data["change"]["product"] == "Espresso"

    sent = await cafe.submit(table, "device-lea", key())
    async with cafe.db.sessionmaker() as session:
        prices = (await session.scalars(
            select(OrderLine.unit_price).where(OrderLine.round_id == sent.round.id))).all()
    assert prices == [old + 20]
    view = await cafe.view(table)
    assert view["session"]["rounds"][0]["total"] == 2 * old + 40
    assert view["session"]["rounds"][0]["lines"][0]["price_was"] is None

    # A change that touches no cart tells no table.
    croissant = cafe.products["Croissant"]
    await cafe.run(lambda tx: menu_admin.update_product(
        tx, admin, croissant.id, values_of(croissant, description="Pur beurre, du matin")))
    assert topics(cafe.last_events) == [(f"menu:{cafe.venue.site_id}", "menu.changed")]
    await assert_versions_consecutive(cafe)
