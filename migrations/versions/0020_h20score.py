"""response_score: each current response version's scores as numbers, for the score report

The study-wide score report (pro_server.dashboard.reports.score_distributions) read every
score out of the JSON text column response.scores of every current version: 2-2.7 s of CPU
at 10,000 participants (231k responses), most of it decoding JSON. The narrow table holds one
row per score key of each current version (value NULL: not scored), with the study, site,
assessment code and submission time the report filters and groups by, in one index the
report reads alone, in its GROUP BY order (scores take few distinct values: it counts them). The services write it in the transaction that stores a version.

The backfill is one INSERT ... SELECT per backend, the JSON taken apart by the database
(SQLite json_each/json_extract, PostgreSQL jsonb_each), over current versions only.

Revision ID: 0020_h20score
Revises: 0019_h17enum
Create Date: 2026-12-06 02:30:00
"""

import sqlalchemy as sa

import pro_server.db
from alembic import op

revision = '0020_h20score'
down_revision = '0019_h17enum'
branch_labels = None
depends_on = None

_BACKFILL_SELECT = {
    'sqlite': """
        SELECT r.id, s.key, r.study_id, r.site_id, a.code, r.instrument_code,
               json_extract(s.value, '$.value'), r.submitted_at
        FROM response AS r
        JOIN assessment AS a ON a.id = r.assessment_id,
             json_each(r.scores, '$.scores') AS s
        WHERE r.is_current""",
    'postgresql': """
        SELECT r.id, s.key, r.study_id, r.site_id, a.code, r.instrument_code,
               (s.value ->> 'value')::double precision, r.submitted_at
        FROM response AS r
        JOIN assessment AS a ON a.id = r.assessment_id
        CROSS JOIN LATERAL jsonb_each(r.scores::jsonb -> 'scores') AS s(key, value)
        WHERE r.is_current""",
}


def upgrade() -> None:
    op.create_table(
        'response_score',
        sa.Column('response_id', sa.Integer(), nullable=False),
        sa.Column('score_key', sa.String(length=40), nullable=False),
        sa.Column('study_id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('assessment_code', sa.String(length=20), nullable=False),
        sa.Column('instrument_code', sa.String(length=40), nullable=False),
        sa.Column('value', sa.Float(), nullable=True),
        sa.Column('submitted_at', pro_server.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['response_id'], ['response.id'],
                                name=op.f('fk_response_score_response_id_response')),
        sa.ForeignKeyConstraint(['site_id'], ['site.id'],
                                name=op.f('fk_response_score_site_id_site')),
        sa.ForeignKeyConstraint(['study_id'], ['study.id'],
                                name=op.f('fk_response_score_study_id_study')),
        sa.PrimaryKeyConstraint('response_id', 'score_key', name=op.f('pk_response_score')),
    )
    op.create_index('ix_response_score_report', 'response_score',
                    ['study_id', 'instrument_code', 'score_key', 'assessment_code', 'value',
                     'site_id', 'submitted_at'])
    select = _BACKFILL_SELECT[op.get_bind().dialect.name]
    op.execute(
        'INSERT INTO response_score (response_id, score_key, study_id, site_id, '
        f'assessment_code, instrument_code, value, submitted_at) {select}')


def downgrade() -> None:
    op.drop_index('ix_response_score_report', table_name='response_score')
    op.drop_table('response_score')
