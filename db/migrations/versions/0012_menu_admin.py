"""the menu from the back office: product references, VAT, allergens, photos, stations,
archives

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("vat_rate", sa.Integer(), nullable=False,
                                      server_default="1000"))
        batch_op.add_column(sa.Column("allergens", sa.String(length=200), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("photo", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("station", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    # Products made before references existed get one from their id: unique per site.
    op.execute("UPDATE product SET reference = 'P' || id")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.alter_column("reference", existing_type=sa.String(length=40), nullable=False)
        batch_op.alter_column("vat_rate", server_default=None)
        batch_op.alter_column("allergens", server_default=None)
        batch_op.create_unique_constraint(batch_op.f("uq_product_site_id_reference"),
                                          ["site_id", "reference"])

def downgrade() -> None:
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_product_site_id_reference"), type_="unique")
        for column in ("archived_at", "station", "photo", "allergens", "vat_rate", "reference"):
            batch_op.drop_column(column)
    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
