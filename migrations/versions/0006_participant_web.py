"""participant web: second factor per participant and per-study web settings

Revision ID: 0006_participant_web
Revises: 0003_responses
Create Date: 2026-11-22 04:54:23.143944
"""
from alembic import op
import sqlalchemy as sa
import pro_server.db


revision = '0006_participant_web'
down_revision = '0003_responses'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('study_web_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('second_factor', sa.String(length=12), nullable=False),
    sa.Column('updated_at', pro_server.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], name=op.f('fk_study_web_settings_study_id_study')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_study_web_settings')),
    sa.UniqueConstraint('study_id', name=op.f('uq_study_web_settings_study_id'))
    )
    op.create_table('participant_secret',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('secret_hash', sa.String(length=200), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', pro_server.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', pro_server.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pro_server.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_participant_secret_participant_id_participant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant_secret')),
    sa.UniqueConstraint('participant_id', name=op.f('uq_participant_secret_participant_id'))
    )


def downgrade() -> None:
    op.drop_table('participant_secret')
    op.drop_table('study_web_settings')
