"""A session remembers the identity provider it was opened through (``sessions.sso_issuer``).

Signing out of such a session also ends the provider's own session (OpenID Connect RP-Initiated
Logout); a session opened with a local password (NULL) is not sent to the provider.

Revision ID: 0009_session_sso
Revises: 0008_recipe_meta
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0009_session_sso'
down_revision = '0008_recipe_meta'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sso_issuer', sa.String(length=600), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('sso_issuer')
