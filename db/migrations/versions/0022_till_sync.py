"""the till's offline sync: what each till uploaded (uuid, number, content hash), the
issues flagged for a manager, when a site's Z was asked, and per till its last sync, its
acknowledged number and the day it was declared out of service

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"],
                                   name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    with op.batch_alter_table("till", schema=None) as batch_op:
        batch_op.add_column(sa.Column("synced_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("acked_sequence", sa.Integer(), server_default="0",
                                      nullable=False))
        batch_op.add_column(sa.Column("out_of_service_day", sa.Date(), nullable=True))

    op.create_table(
        "pos_sync_sale",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("till_id", ID, nullable=False),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        _fk("pos_sync_sale", "company_id", "company"),
        _fk("pos_sync_sale", "till_id", "till"),
        _fk("pos_sync_sale", "ticket_id", "pos_ticket"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_sync_sale")),
        sa.UniqueConstraint("uuid", name=op.f("uq_pos_sync_sale_uuid")),
        sa.UniqueConstraint("till_id", "sequence", name=op.f("uq_pos_sync_sale_till_id_sequence")),
    )
    with op.batch_alter_table("pos_sync_sale", schema=None) as batch_op:
        for column in ("company_id", "till_id", "ticket_id"):
            batch_op.create_index(batch_op.f(f"ix_pos_sync_sale_{column}"), [column])

    op.create_table(
        "pos_sync_issue",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("site_id", ID, nullable=False),
        sa.Column("till_id", ID, nullable=False),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("ticket_id", ID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        _fk("pos_sync_issue", "company_id", "company"),
        _fk("pos_sync_issue", "site_id", "site"),
        _fk("pos_sync_issue", "till_id", "till"),
        _fk("pos_sync_issue", "ticket_id", "pos_ticket"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_sync_issue")),
    )
    with op.batch_alter_table("pos_sync_issue", schema=None) as batch_op:
        for column in ("company_id", "till_id", "ticket_id"):
            batch_op.create_index(batch_op.f(f"ix_pos_sync_issue_{column}"), [column])
        batch_op.create_index("ix_pos_sync_issue_site_id_created_at",
                              ["site_id", "created_at"])

    op.create_table(
        "pos_close_request",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("site_id", ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("requested_at", WHEN, nullable=False),
        _fk("pos_close_request", "company_id", "company"),
        _fk("pos_close_request", "site_id", "site"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_close_request")),
        sa.UniqueConstraint("site_id", "day", name=op.f("uq_pos_close_request_site_id_day")),
    )
    with op.batch_alter_table("pos_close_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pos_close_request_company_id"), ["company_id"])


def downgrade() -> None:
    op.drop_table("pos_close_request")
    op.drop_table("pos_sync_issue")
    op.drop_table("pos_sync_sale")
    with op.batch_alter_table("till", schema=None) as batch_op:
        batch_op.drop_column("out_of_service_day")
        batch_op.drop_column("acked_sequence")
        batch_op.drop_column("synced_at")
