"""participant_link_open: when a participant opened the survey page from a link

One row per participant session opened from a link (time and link only), so the coordinator's
timeline answers "did the participant see it?" beside the texts' delivery statuses. A survey's
start and submission are already on the assessment; where it stopped rides on the draft's
position (page N of M), so nothing else is stored.

Revision ID: 0016_h16seen
Revises: 0015_h20seal
Create Date: 2026-12-05 01:40:00
"""

import sqlalchemy as sa
from alembic import op

import pro_server.db

revision = '0016_h16seen'
down_revision = '0015_h20seal'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'participant_link_open',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('participant_id', sa.Integer(), nullable=False),
        sa.Column('link_id', sa.Integer(), nullable=False),
        sa.Column('opened_at', pro_server.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['participant_id'], ['participant.id'],
                                name=op.f('fk_participant_link_open_participant_id_participant')),
        sa.ForeignKeyConstraint(['link_id'], ['participant_link.id'],
                                name=op.f('fk_participant_link_open_link_id_participant_link')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_participant_link_open')),
    )
    op.create_index(op.f('ix_participant_link_open_participant_id'), 'participant_link_open',
                    ['participant_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_participant_link_open_participant_id'),
                  table_name='participant_link_open')
    op.drop_table('participant_link_open')
