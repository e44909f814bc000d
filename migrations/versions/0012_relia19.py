"""outbox rows record when their own provider call started, and who holds them for how long

`attempted_at` (set just before the row's provider call, committed): a row `sending` without
it was claimed but never attempted and goes back to the queue. `claimed_by` / `lease_until`:
the dispatcher process holding the row and until when; an expired lease means that process
is gone (a claimed row is released at once, an attempted one is checked at the provider).

Revision ID: 0012_relia19
Revises: 0011_sec13
Create Date: 2026-12-04 22:30:00
"""

import sqlalchemy as sa
from alembic import op

import pro_server.db

revision = '0012_relia19'
down_revision = '0011_sec13'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_message') as batch:
        batch.add_column(sa.Column('attempted_at', pro_server.db.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column('claimed_by', sa.String(length=120), nullable=True))
        batch.add_column(sa.Column('lease_until', pro_server.db.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.create_index('ix_outbox_message_status_lease', ['status', 'lease_until'])
    # Rows `sending` from before: their call may have started; settle them with the provider.
    op.execute("UPDATE outbox_message SET attempted_at = last_attempt_at "
               "WHERE status = 'sending'")


def downgrade() -> None:
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_index('ix_outbox_message_status_lease')
        batch.drop_column('lease_until')
        batch.drop_column('claimed_by')
        batch.drop_column('attempted_at')
