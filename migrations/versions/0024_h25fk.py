"""response_score: one foreign key (response_id, study_id, site_id) -> response, not three

A submission writes ~27 response_score rows; each row's three foreign keys (response_id ->
response, study_id -> study, site_id -> site) were three look-ups (and three row locks) in
PostgreSQL: 0.65 ms of database CPU per submission, the largest statement of a participant's
flow. The study and site are copies of the version's: one composite key against the
version's (id, study_id, site_id) checks them in one look-up, and more than before (the
copies must be the version's own; the version's keys to study and site still stand behind
them). It needs a unique index on response (id, study_id, site_id): one more index entry per
version written or sealed, a small part of what the score rows save.

Revision ID: 0024_h25fk
Revises: 0023_h22idx
Create Date: 2026-12-06 17:30:00
"""

from alembic import op

revision = '0024_h25fk'
down_revision = '0023_h22idx'
branch_labels = None
depends_on = None

SCORE_TO_RESPONSE = 'fk_response_score_response_id_response'


def upgrade() -> None:
    op.create_index('uq_response_id_study_id_site_id', 'response', ['id', 'study_id', 'site_id'],
                    unique=True)
    with op.batch_alter_table('response_score') as batch:
        batch.drop_constraint(op.f(SCORE_TO_RESPONSE), type_='foreignkey')
        batch.drop_constraint(op.f('fk_response_score_study_id_study'), type_='foreignkey')
        batch.drop_constraint(op.f('fk_response_score_site_id_site'), type_='foreignkey')
        batch.create_foreign_key(op.f(SCORE_TO_RESPONSE), 'response',
                                 ['response_id', 'study_id', 'site_id'],
                                 ['id', 'study_id', 'site_id'])


def downgrade() -> None:
    with op.batch_alter_table('response_score') as batch:
        batch.drop_constraint(op.f(SCORE_TO_RESPONSE), type_='foreignkey')
        batch.create_foreign_key(op.f(SCORE_TO_RESPONSE), 'response', ['response_id'], ['id'])
        batch.create_foreign_key(op.f('fk_response_score_study_id_study'), 'study',
                                 ['study_id'], ['id'])
        batch.create_foreign_key(op.f('fk_response_score_site_id_site'), 'site',
                                 ['site_id'], ['id'])
    op.drop_index('uq_response_id_study_id_site_id', table_name='response')
