"""Meta-features of an approved recipe on its dataset, computed once (``recipe_meta``).

Revision ID: 0008_recipe_meta
Revises: 0007_job_status_params
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0008_recipe_meta'
down_revision = '0007_job_status_params'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('recipe_meta',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipe_sha256', sa.String(length=64), nullable=False),
    sa.Column('dataset_sha256', sa.String(length=64), nullable=False),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.Column('prepared_rows', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('recipe_sha256', 'dataset_sha256')
    )


def downgrade() -> None:
    op.drop_table('recipe_meta')
