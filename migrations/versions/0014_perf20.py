"""response (study_id, audit_seq): an EDC page walks one study's versions in commit order

The records API, ODM and FHIR history read `WHERE study_id = ? AND audit_seq > ? ORDER BY
audit_seq LIMIT n`. With an index on each column alone, PostgreSQL (without fresh planner
statistics) and SQLite fetched the whole study and sorted it for every page. The composite
index returns the page in order and stops after n rows; it also serves every lookup by study,
so the study-only index goes.

Revision ID: 0014_perf20
Revises: 0013_coord16
Create Date: 2026-12-04 23:50:00
"""

from alembic import op

revision = '0014_perf20'
down_revision = '0013_coord16'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('response') as batch:
        batch.create_index('ix_response_study_id_audit_seq', ['study_id', 'audit_seq'])
        batch.drop_index('ix_response_study_id')


def downgrade() -> None:
    with op.batch_alter_table('response') as batch:
        batch.create_index('ix_response_study_id', ['study_id'])
        batch.drop_index('ix_response_study_id_audit_seq')
