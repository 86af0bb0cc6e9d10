"""staff clock in and out: pos_shift, at most one open per member of staff

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OPEN = "clocked_out_at IS NULL"


def upgrade() -> None:
    op.create_table('pos_shift',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('company_id', ID, nullable=False),
    sa.Column('site_id', ID, nullable=False),
    sa.Column('till_id', ID, nullable=True),
    sa.Column('staff_id', ID, nullable=False),
    sa.Column('clocked_in_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('clocked_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', ID, nullable=True),
    sa.Column('close_reason', sa.String(length=200), nullable=False),
    sa.Column('in_key', sa.String(length=64), nullable=True),
    sa.Column('out_key', sa.String(length=64), nullable=True),
    sa.CheckConstraint('clocked_out_at IS NULL OR clocked_out_at >= clocked_in_at', name=op.f('ck_pos_shift_out_after_in')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['staff.id'], name=op.f('fk_pos_shift_closed_by_id_staff')),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_pos_shift_company_id_company')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_pos_shift_site_id_site')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_pos_shift_staff_id_staff')),
    sa.ForeignKeyConstraint(['till_id'], ['till.id'], name=op.f('fk_pos_shift_till_id_till')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pos_shift')),
    sa.UniqueConstraint('staff_id', 'in_key', name=op.f('uq_pos_shift_staff_id_in_key')),
    sa.UniqueConstraint('staff_id', 'out_key', name=op.f('uq_pos_shift_staff_id_out_key'))
    )
    with op.batch_alter_table('pos_shift', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pos_shift_closed_by_id'), ['closed_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pos_shift_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pos_shift_till_id'), ['till_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pos_shift_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index('ix_pos_shift_site_id_clocked_in_at', ['site_id', 'clocked_in_at'], unique=False)
        batch_op.create_index('uq_pos_shift_open', ['staff_id'], unique=True,
                              sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_table('pos_shift')
