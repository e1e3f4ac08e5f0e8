"""An account can be marked "must change password" (``users.must_change_password``).

A site admin's password reset sets it: the person signs in with the temporary password and sees
only the change-password form until they have chosen their own. Existing accounts are not marked.

Revision ID: 0010_must_change_password
Revises: 0009_session_sso
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0010_must_change_password'
down_revision = '0009_session_sso'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
