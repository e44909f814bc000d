"""assessments record why a missed survey was missed (a fixed reason, free text for "other")

Recording the reason acknowledges the gap: it leaves the attention list, shows on the grid and
timeline, and is exported to the EDC as the not-done reason.

Revision ID: 0013_coord16
Revises: 0012_relia19
Create Date: 2026-12-04 23:40:00
"""

import sqlalchemy as sa
from alembic import op

import pro_server.db

revision = '0013_coord16'
down_revision = '0012_relia19'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('assessment') as batch:
        batch.add_column(sa.Column('missed_reason', sa.String(length=30), nullable=True))
        batch.add_column(sa.Column('missed_reason_text', sa.String(length=500), nullable=True))
        batch.add_column(sa.Column('missed_reason_at', pro_server.db.UTCDateTime(timezone=True),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('assessment') as batch:
        batch.drop_column('missed_reason_at')
        batch.drop_column('missed_reason_text')
        batch.drop_column('missed_reason')
