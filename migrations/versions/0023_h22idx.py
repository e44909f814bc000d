"""Three indexes a unique constraint already serves, dropped

Each was on the leading column of a unique index of the same table, which serves every
lookup by that column (and the foreign key's checks) as well:
- ix_response_assessment_id: uq_response_assessment_id_instrument_code_version
- ix_draft_assessment_id: uq_draft_assessment_id_instrument_code
- ix_assessment_participant_id: uq_assessment_participant_id_code (and ix_assessment_overview)

Every draft save, submission and survey start paid to keep them up to date: a draft's insert
wrote 3 indexes (now 2), a version's 7 (now 6), an assessment's non-HOT update 9 (now 8).

Revision ID: 0023_h22idx
Revises: 0022_h20exp3
Create Date: 2026-12-06 11:00:00
"""

from alembic import op

revision = '0023_h22idx'
down_revision = '0022_h20exp3'
branch_labels = None
depends_on = None

DROPPED = (('response', 'ix_response_assessment_id', 'assessment_id'),
           ('draft', 'ix_draft_assessment_id', 'assessment_id'),
           ('assessment', 'ix_assessment_participant_id', 'participant_id'))


def upgrade() -> None:
    for table, index, _column in DROPPED:
        op.drop_index(index, table_name=table)


def downgrade() -> None:
    for table, index, column in DROPPED:
        op.create_index(index, table, [column])
