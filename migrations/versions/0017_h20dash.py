"""assessment (participant_id, code, window and facts): the overview counts from the index

The dashboard overview derives every assessment's status in SQL from its window, its facts
and the clock (pro_server.dashboard.overview). Reading those columns from the wide table
row of each of a study's assessments cost most of the overview at 10,000 participants; with
every column it reads in one index, SQLite and PostgreSQL count from the index alone.

Revision ID: 0017_h20dash
Revises: 0016_h16seen
Create Date: 2026-12-05 02:10:00
"""

from alembic import op

revision = '0017_h20dash'
down_revision = '0016_h16seen'
branch_labels = None
depends_on = None

COLUMNS = ['participant_id', 'code', 'window_start', 'window_end', 'started_at', 'completed_at',
           'cancelled_at']


def upgrade() -> None:
    with op.batch_alter_table('assessment') as batch:
        batch.create_index('ix_assessment_overview', COLUMNS)


def downgrade() -> None:
    with op.batch_alter_table('assessment') as batch:
        batch.drop_index('ix_assessment_overview')
