"""A job's progress line becomes a message key with parameters (``jobs.status_params``).

Revision ID: 0007_job_status_params
Revises: 0006_invitations

``status_text`` now holds a message key, translated when shown. Rows written before hold free
English text; the fixed stage words among them are turned into their keys here, so a finished
ingest reads in Korean too. Any other old text (a summary line with numbers) is shown as it is.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0007_job_status_params'
down_revision = '0006_invitations'
branch_labels = None
depends_on = None

# (job kind, old free text, key): the stage words the jobs wrote before this revision
_OLD_WORDS = (
    ('ingest', 'reading', 'jobs.status.reading'),
    ('ingest', 'applying choices', 'jobs.status.applying_choices'),
    ('ingest', 'profiling', 'jobs.status.profiling'),
    ('ingest', 'writing parquet', 'jobs.status.writing_parquet'),
    ('ingest', 'done', 'jobs.status.ingested'),
    ('train', 'preparing', 'jobs.status.preparing'),
    ('train', 'storing the models', 'jobs.status.storing_models'),
    ('validate', 'reading', 'validation.stage.reading'),
    ('validate', 'development', 'validation.stage.development'),
    ('validate', 'external', 'validation.stage.external'),
    ('validate', 'storing', 'validation.stage.storing'),
)


def _rename(pairs: list[tuple[str, str, str]]) -> None:
    jobs = sa.table('jobs', sa.column('kind', sa.String), sa.column('status_text', sa.Text))
    for kind, old, new in pairs:
        op.execute(jobs.update().where(jobs.c.kind == kind, jobs.c.status_text == old).values(status_text=new))


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_params', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    _rename(list(_OLD_WORDS))


def downgrade() -> None:
    _rename([(kind, new, old) for kind, old, new in _OLD_WORDS])
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('status_params')
