"""External validation of shared models on collaborators' cohorts (aggregate reports, kept data).

Revision ID: 0005
Revises: 0004

(Written at the same time as ``0004_sso_link.py``; chained after it so that the history has one head.)
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('external_validations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('keep', sa.Boolean(), nullable=False),
    sa.Column('data_state', sa.String(length=20), nullable=False),
    sa.Column('file_kind', sa.String(length=16), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('upload_sha256', sa.String(length=64), nullable=True),
    sa.Column('rows_sha256', sa.String(length=64), nullable=True),
    sa.Column('report_sha256', sa.String(length=64), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('error_key', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('discarded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], ),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('external_validations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_validations_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_external_validations_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_external_validations_uploaded_by'), ['uploaded_by'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('external_validations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_validations_uploaded_by'))
        batch_op.drop_index(batch_op.f('ix_external_validations_run_id'))
        batch_op.drop_index(batch_op.f('ix_external_validations_project_id'))
    op.drop_table('external_validations')
