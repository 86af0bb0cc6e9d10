"""the till's records: tills, tickets, closings, chains, the technical journal, signing
keys; triggers refuse UPDATE and DELETE on every record table

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pos_signing_key',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('company_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('public_pem', sa.Text(), nullable=False),
    sa.Column('sealed_private', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_pos_signing_key_company_id_company')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pos_signing_key')),
    sa.UniqueConstraint('company_id', name=op.f('uq_pos_signing_key_company_id'))
    )
    op.create_table('pos_closing',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('company_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('site_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=5), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('staff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('key_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('signature', sa.String(length=100), nullable=False),
    sa.CheckConstraint("kind IN ('day', 'month', 'year')", name=op.f('ck_pos_closing_kind')),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_pos_closing_company_id_company')),
    sa.ForeignKeyConstraint(['key_id'], ['pos_signing_key.id'], name=op.f('fk_pos_closing_key_id_pos_signing_key')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_pos_closing_site_id_site')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_pos_closing_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pos_closing')),
    sa.UniqueConstraint('site_id', 'kind', 'period_start', name=op.f('uq_pos_closing_site_id_kind_period_start')),
    sa.UniqueConstraint('uuid', name=op.f('uq_pos_closing_uuid'))
    )
    with op.batch_alter_table('pos_closing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pos_closing_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pos_closing_key_id'), ['key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pos_closing_site_id'), ['site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pos_closing_staff_id'), ['staff_id'], unique=False)

    op.create_table('till',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('company_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('site_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('prefix', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_till_company_id_company')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_till_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_till')),
    sa.UniqueConstraint('company_id', 'prefix', name=op.f('uq_till_company_id_prefix'))
    )
    with op.batch_alter_table('till', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_till_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_till_site_id'), ['site_id'], unique=False)

    op.create_table('pos_journal',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('company_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('site_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('till_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('staff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('previous_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_pos_journal_company_id_company')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_pos_journal_site_id_site')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_pos_journal_staff_id_staff')),
    sa.ForeignKeyConstraint(['till_id'], ['till.id'], name=op.f('fk_pos_journal_till_id_till')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pos_journal')),
    sa.UniqueConstraint('company_id', 'position', name=op.f('uq_pos_journal_company_id_position'))
    )
    with op.batch_alter_table('pos_journal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pos_journal_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pos_journal_site_id'), ['site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pos_journal_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pos_journal_till_id'), ['till_id'], unique=False)

    op.create_table('pos_ticket',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('company_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('site_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('till_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('training', sa.Boolean(), nullable=False),
    sa.Column('supervisor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('staff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('device_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('corrects_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('duplicate_number', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total_incl', sa.BigInteger(), nullable=False),
    sa.Column('total_excl', sa.BigInteger(), nullable=False),
    sa.Column('total_vat', sa.BigInteger(), nullable=False),
    sa.Column('discount', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("kind IN ('sale', 'refund', 'void', 'duplicate')", name=op.f('ck_pos_ticket_kind')),
    sa.CheckConstraint('sequence > 0', name=op.f('ck_pos_ticket_sequence_positive')),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_pos_ticket_company_id_company')),
    sa.ForeignKeyConstraint(['corrects_id'], ['pos_ticket.id'], name=op.f('fk_pos_ticket_corrects_id_pos_ticket')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_pos_ticket_site_id_site')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_pos_ticket_staff_id_staff')),
    sa.ForeignKeyConstraint(['supervisor_id'], ['staff.id'], name=op.f('fk_pos_ticket_supervisor_id_staff')),
    sa.ForeignKeyConstraint(['till_id'], ['till.id'], name=op.f('fk_pos_ticket_till_id_till')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pos_ticket')),
    sa.UniqueConstraint('till_id', 'sequence', name=op.f('uq_pos_ticket_till_id_sequence')),
    sa.UniqueConstraint('uuid', name=op.f('uq_pos_ticket_uuid'))
    )
    with op.batch_alter_table('pos_ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pos_ticket_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pos_ticket_corrects_id'), ['corrects_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pos_ticket_site_id'), ['site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pos_ticket_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pos_ticket_supervisor_id'), ['supervisor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pos_ticket_till_id'), ['till_id'], unique=False)

    op.create_table('pos_chain_link',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('company_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('till_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('closing_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('previous_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint('(ticket_id IS NULL) <> (closing_id IS NULL)', name=op.f('ck_pos_chain_link_one_record')),
    sa.ForeignKeyConstraint(['closing_id'], ['pos_closing.id'], name=op.f('fk_pos_chain_link_closing_id_pos_closing')),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_pos_chain_link_company_id_company')),
    sa.ForeignKeyConstraint(['ticket_id'], ['pos_ticket.id'], name=op.f('fk_pos_chain_link_ticket_id_pos_ticket')),
    sa.ForeignKeyConstraint(['till_id'], ['till.id'], name=op.f('fk_pos_chain_link_till_id_till')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pos_chain_link')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_pos_chain_link_ticket_id')),
    sa.UniqueConstraint('till_id', 'closing_id', name=op.f('uq_pos_chain_link_till_id_closing_id')),
    sa.UniqueConstraint('till_id', 'position', name=op.f('uq_pos_chain_link_till_id_position'))
    )
    with op.batch_alter_table('pos_chain_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pos_chain_link_closing_id'), ['closing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pos_chain_link_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pos_chain_link_till_id'), ['till_id'], unique=False)

    op.create_table('pos_ticket_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('discount', sa.BigInteger(), nullable=False),
    sa.Column('vat_rate', sa.Integer(), nullable=False),
    sa.Column('total_incl', sa.BigInteger(), nullable=False),
    sa.Column('total_excl', sa.BigInteger(), nullable=False),
    sa.Column('corrects_position', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['pos_ticket.id'], name=op.f('fk_pos_ticket_line_ticket_id_pos_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pos_ticket_line')),
    sa.UniqueConstraint('ticket_id', 'position', name=op.f('uq_pos_ticket_line_ticket_id_position'))
    )
    with op.batch_alter_table('pos_ticket_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pos_ticket_line_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('pos_ticket_payment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('tendered', sa.BigInteger(), nullable=False),
    sa.Column('change', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("method IN ('cash', 'card')", name=op.f('ck_pos_ticket_payment_method')),
    sa.ForeignKeyConstraint(['ticket_id'], ['pos_ticket.id'], name=op.f('fk_pos_ticket_payment_ticket_id_pos_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pos_ticket_payment')),
    sa.UniqueConstraint('ticket_id', 'position', name=op.f('uq_pos_ticket_payment_ticket_id_position'))
    )
    with op.batch_alter_table('pos_ticket_payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pos_ticket_payment_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('pos_ticket_tax',
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('vat_rate', sa.Integer(), nullable=False),
    sa.Column('total_excl', sa.BigInteger(), nullable=False),
    sa.Column('total_vat', sa.BigInteger(), nullable=False),
    sa.Column('total_incl', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['pos_ticket.id'], name=op.f('fk_pos_ticket_tax_ticket_id_pos_ticket')),
    sa.PrimaryKeyConstraint('ticket_id', 'vat_rate', name=op.f('pk_pos_ticket_tax'))
    )
    _refuse_changes()


# The record tables (pos/models.py, APPEND_ONLY): written once, never changed nor removed.
APPEND_ONLY = (
    "pos_ticket", "pos_ticket_line", "pos_ticket_tax", "pos_ticket_payment", "pos_closing",
    "pos_chain_link", "pos_journal", "pos_signing_key",
)


def _refuse_changes() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION pos_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'till records are never updated nor deleted (%)', "
            "TG_TABLE_NAME USING ERRCODE = 'raise_exception'; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION pos_refuse_change()"
            )
        return
    for table in APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'till records are never updated nor deleted "
                f"({table})'); END"
            )


def _allow_changes() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION pos_refuse_change()")
        return
    for table in APPEND_ONLY:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER {table}_no_{verb}")


def downgrade() -> None:
    _allow_changes()
    op.drop_table('pos_ticket_tax')
    with op.batch_alter_table('pos_ticket_payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pos_ticket_payment_ticket_id'))

    op.drop_table('pos_ticket_payment')
    with op.batch_alter_table('pos_ticket_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pos_ticket_line_ticket_id'))

    op.drop_table('pos_ticket_line')
    with op.batch_alter_table('pos_chain_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pos_chain_link_till_id'))
        batch_op.drop_index(batch_op.f('ix_pos_chain_link_company_id'))
        batch_op.drop_index(batch_op.f('ix_pos_chain_link_closing_id'))

    op.drop_table('pos_chain_link')
    with op.batch_alter_table('pos_ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pos_ticket_till_id'))
        batch_op.drop_index(batch_op.f('ix_pos_ticket_supervisor_id'))
        batch_op.drop_index(batch_op.f('ix_pos_ticket_staff_id'))
        batch_op.drop_index(batch_op.f('ix_pos_ticket_site_id'))
        batch_op.drop_index(batch_op.f('ix_pos_ticket_corrects_id'))
        batch_op.drop_index(batch_op.f('ix_pos_ticket_company_id'))

    op.drop_table('pos_ticket')
    with op.batch_alter_table('pos_journal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pos_journal_till_id'))
        batch_op.drop_index(batch_op.f('ix_pos_journal_staff_id'))
        batch_op.drop_index(batch_op.f('ix_pos_journal_site_id'))
        batch_op.drop_index(batch_op.f('ix_pos_journal_company_id'))

    op.drop_table('pos_journal')
    with op.batch_alter_table('till', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_till_site_id'))
        batch_op.drop_index(batch_op.f('ix_till_company_id'))

    op.drop_table('till')
    with op.batch_alter_table('pos_closing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pos_closing_staff_id'))
        batch_op.drop_index(batch_op.f('ix_pos_closing_site_id'))
        batch_op.drop_index(batch_op.f('ix_pos_closing_key_id'))
        batch_op.drop_index(batch_op.f('ix_pos_closing_company_id'))

    op.drop_table('pos_closing')
    op.drop_table('pos_signing_key')
