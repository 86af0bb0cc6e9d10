"""round author: the staff member who took a round at the POS

Revision ID: 0006
Revises: 0005

On SQLite the column is added in place, not in batch mode: batch mode copies "round" to a
new table and drops the old one, and with foreign keys on, dropping it deletes every order
line, ticket and edit of every round (their ON DELETE CASCADE).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

FK = "fk_round_staff_id_staff"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if _sqlite():
        op.execute(
            f'ALTER TABLE "round" ADD COLUMN staff_id INTEGER CONSTRAINT {FK} REFERENCES staff (id)'
        )
        return
    op.add_column("round", sa.Column("staff_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(FK, "round", "staff", ["staff_id"], ["id"])


def downgrade() -> None:
    if _sqlite():
        op.execute('ALTER TABLE "round" DROP COLUMN staff_id')  # SQLite 3.35+, in place too
        return
    op.drop_constraint(FK, "round", type_="foreignkey")
    op.drop_column("round", "staff_id")
