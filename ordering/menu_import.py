"""Importing a menu from a spreadsheet: every row checked before anything is written, then
all of it in one transaction or nothing; rows are matched on the product's reference, so
the same file imported twice changes nothing the second time (no write, no event).

Categories are not created by an import: a row naming an unknown category is invalid (the
category is created on the menu page first), so a typo cannot make a second category.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select

from accounts.models import Site
from accounts.service import StaffIdentity
from domain import audit
from errors import N_
from ordering.menu_admin import apply_fields, decimals_of, menu_site, stored
from ordering.menu_errors import ImportRefused
from ordering.menu_rules import Problem, ProductFields, check_product, format_price, format_vat
from ordering.menu_sheets import Row, read_upload
from ordering.models import Category, Product
from ordering.publishing import menu_changed
from realtime.events import Tx


@dataclass(frozen=True)
class RowProblem:
    line: int
    reference: str
    name: str
    problems: list[Problem]


@dataclass
class Plan:
    """What importing the file would do (or did)."""

    rows: int = 0
    created: list[ProductFields] = field(default_factory=list)
    changed: list[tuple[Product, ProductFields]] = field(default_factory=list)
    unchanged: int = 0
    invalid: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.invalid


def check_rows(
    rows: Sequence[Row], categories: Mapping[str, int], decimals: int
) -> tuple[list[ProductFields], list[RowProblem]]:
    """Pure: each row read as a product, or why it cannot be (`categories`: lowercased name
    → id). A reference seen on an earlier line makes the later line invalid."""
    valid: list[ProductFields] = []
    invalid: list[RowProblem] = []
    seen: dict[str, int] = {}
    for row in rows:
        problems = [
            Problem(column, N_("This cell is a formula: write its value instead."))
            for column in row.formulas
        ]
        if row.extra:
            problems.append(Problem("file", N_("This row has cells beyond the named columns.")))
        category = categories.get(" ".join(row.values.get("category", "").split()).lower())
        fields, found = check_product(row.values, category, decimals)
        problems.extend(p for p in found if p.field not in row.formulas)
        reference = row.values.get("reference", "").strip()
        if reference and reference in seen:
            problems.append(Problem("reference",
                                    N_("Reference %(reference)s is already on line %(line)s."),
                                    {"reference": reference, "line": str(seen[reference])}))
        elif reference:
            seen[reference] = row.line
        if problems or fields is None:
            invalid.append(RowProblem(row.line, reference, row.values.get("name", "").strip(),
                                      problems))
        else:
            valid.append(fields)
    return valid, invalid


async def _plan(tx: Tx, site: Site, rows: Sequence[Row]) -> Plan:
    categories = {
        name.lower(): cid for cid, name in (await tx.session.execute(
            select(Category.id, Category.name)
            .where(Category.site_id == site.id, Category.archived_at.is_(None))
        )).all()
    }
    valid, invalid = check_rows(rows, categories, await decimals_of(tx, site))
    plan = Plan(rows=len(rows), invalid=invalid)
    references = [f.reference for f in valid]
    existing = {
        p.reference: p for p in (await tx.session.scalars(
            select(Product).where(Product.site_id == site.id, Product.reference.in_(references))
        )).all()
    } if references else {}
    # A file without the takeaway column leaves each product's takeaway rate as it is.
    keeps_takeaway = not any("vat_rate_takeaway" in row.values for row in rows)
    for fields in valid:
        product = existing.get(fields.reference)
        if keeps_takeaway and product is not None:
            fields = replace(fields, vat_rate_takeaway=product.vat_rate_takeaway)
        if product is None:
            plan.created.append(fields)
        elif product.archived_at is not None or any(
            getattr(product, key) != value for key, value in stored(fields).items()
        ):
            plan.changed.append((product, fields))
        else:
            plan.unchanged += 1
    return plan


async def preview(
    tx: Tx, staff: StaffIdentity, site_id: object, filename: str, data: bytes
) -> Plan:
    """What the file would do; writes nothing."""
    site = await menu_site(tx, staff, site_id)
    return await _plan(tx, site, read_upload(filename, data))


async def apply(
    tx: Tx, staff: StaffIdentity, site_id: object, filename: str, data: bytes
) -> Plan:
    """Import the whole file, or refuse it whole (ImportRefused carries the plan's rows)."""
    site = await menu_site(tx, staff, site_id)
    plan = await _plan(tx, site, read_upload(filename, data))
    if not plan.ok:
        raise ImportRefused(plan.invalid)
    if not plan.created and not plan.changed:
        return plan  # the same file again: nothing to write, nobody to tell
    positions: dict[int, int] = {}
    for fields in plan.created:
        if fields.category_id not in positions:
            last = await tx.session.scalar(
                select(func.max(Product.position)).where(Product.category_id == fields.category_id)
            )
            positions[fields.category_id] = -1 if last is None else int(last)
        positions[fields.category_id] += 1
        tx.session.add(Product(site_id=site.id, reference=fields.reference, **stored(fields),
                               position=positions[fields.category_id]))
    for product, fields in plan.changed:
        await apply_fields(tx, staff.id, staff.company_id, product, fields)
    await tx.session.flush()
    await audit.record(tx, staff.id, staff.company_id, "menu.imported", f"site:{site.id}",
                       {"file": filename[:120], "created": len(plan.created),
                        "changed": [p.reference for p, _ in plan.changed]})
    await menu_changed(tx, site.id, {"imported": True, "created": len(plan.created),
                                     "changed": len(plan.changed)},
                       products=[product.id for product, _ in plan.changed])
    return plan


def export_rows(
    products: Sequence[Product], categories: Mapping[int, str], decimals: int
) -> list[list[str]]:
    """The site's live products as the template's rows: importing them back changes nothing."""
    return [
        [p.reference, categories[p.category_id], p.name, p.description,
         format_price(p.price, decimals), format_vat(p.vat_rate), p.allergens,
         p.station or "", "yes" if p.available else "no",
         format_vat(p.vat_rate_takeaway) if p.vat_rate_takeaway is not None else ""]
        for p in products
    ]


async def export(tx: Tx, staff: StaffIdentity, site_id: object) -> tuple[Site, list[list[str]]]:
    site = await menu_site(tx, staff, site_id)
    categories = {cid: name for cid, name in (await tx.session.execute(
        select(Category.id, Category.name)
        .where(Category.site_id == site.id, Category.archived_at.is_(None))
    )).all()}
    products = (await tx.session.scalars(
        select(Product)
        .join(Category, Category.id == Product.category_id)
        .where(Product.site_id == site.id, Product.archived_at.is_(None),
               Category.archived_at.is_(None))
        .order_by(Category.position, Category.id, Product.position, Product.id)
    )).all()
    return site, export_rows(products, categories, await decimals_of(tx, site))
