"""study definition files: what `pro study apply` put live, with the fingerprint of its data

Revision ID: 0010_studies13
Revises: 0009_merge_features
Create Date: 2026-12-04 22:30:00
"""
from alembic import op
import sqlalchemy as sa
import pro_server.db


revision = '0010_studies13'
down_revision = '0009_merge_features'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('study_definition_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('applied_at', pro_server.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], name=op.f('fk_study_definition_file_study_id_study')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_study_definition_file')),
    sa.UniqueConstraint('study_id', 'name', name=op.f('uq_study_definition_file_study_id_name'))
    )
    with op.batch_alter_table('study_definition_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_study_definition_file_study_id'), ['study_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('study_definition_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_study_definition_file_study_id'))
    op.drop_table('study_definition_file')
