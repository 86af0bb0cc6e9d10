"""payment secrets encrypted at rest: wider columns, existing keys encrypted

Revision ID: 0005
Revises: 0004

Keys saved in clear before this revision are encrypted with the SECRET_KEY of the
environment the migration runs in, the same one the app reads them with.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from payments.secret_box import PREFIX, SecretBox, UnreadableSecret, box_for
from settings import Settings

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_table = sa.table(
    "payment_settings",
    sa.column("company_id", sa.Integer()),
    sa.column("stripe_secret_key", sa.Text()),
    sa.column("stripe_webhook_secret", sa.Text()),
)


def _rewrite(change: Callable[[str], str | None]) -> None:
    """Apply `change` to every stored secret it returns a new value for."""
    bind = op.get_bind()
    rows = bind.execute(sa.select(_table)).all()
    for company_id, key, webhook in rows:
        new_key, new_webhook = change(key), change(webhook)
        if new_key is None and new_webhook is None:
            continue
        bind.execute(
            sa.update(_table).where(_table.c.company_id == company_id).values(
                stripe_secret_key=key if new_key is None else new_key,
                stripe_webhook_secret=webhook if new_webhook is None else new_webhook,
            )
        )


def _box() -> SecretBox:
    return box_for(Settings.from_env().secret_key)


def upgrade() -> None:
    with op.batch_alter_table("payment_settings", schema=None) as batch_op:
        for column in ("stripe_secret_key", "stripe_webhook_secret"):
            batch_op.alter_column(column, existing_type=sa.String(length=255),
                                  type_=sa.Text(), existing_nullable=False)
    plain = [value for row in op.get_bind().execute(sa.select(_table)).all() for value in row[1:]
             if value and not value.startswith(PREFIX)]
    if plain:  # read SECRET_KEY only when there is something to encrypt
        box = _box()
        _rewrite(lambda v: box.seal(v) if v and not v.startswith(PREFIX) else None)


def downgrade() -> None:
    sealed = [value for row in op.get_bind().execute(sa.select(_table)).all()
              for value in row[1:] if value and value.startswith(PREFIX)]
    if sealed:
        box = _box()

        def opened(value: str) -> str | None:
            if not value or not value.startswith(PREFIX):
                return None
            try:
                return box.open(value)
            except UnreadableSecret:
                return ""  # unreadable either way: to be entered again

        _rewrite(opened)
    with op.batch_alter_table("payment_settings", schema=None) as batch_op:
        for column in ("stripe_secret_key", "stripe_webhook_secret"):
            batch_op.alter_column(column, existing_type=sa.Text(),
                                  type_=sa.String(length=255), existing_nullable=False)
