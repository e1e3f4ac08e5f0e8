"""Single sign-on: a local account remembers the provider identity (issuer + subject) it is linked to.

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sso_key', sa.String(length=600), nullable=True))
        batch_op.create_unique_constraint('uq_users_sso_key', ['sso_key'])


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('uq_users_sso_key', type_='unique')
        batch_op.drop_column('sso_key')
