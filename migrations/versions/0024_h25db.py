"""Less database work per submission: one key for response_score, partial outbox indexes

response_score: one foreign key (response_id, study_id, site_id) -> response, not three.
A submission writes ~27 rows; each row's three foreign keys (response_id -> response,
study_id -> study, site_id -> site) were three look-ups (and three row locks) in PostgreSQL:
0.65 ms of database CPU per submission, the largest statement of a participant's flow. The
study and site are copies of the version's: one composite key against the version's (id,
study_id, site_id) checks them in one look-up, and more than before (the copies must be the
version's own; the version's keys to study and site still stand behind them). It needs a
unique index on response (id, study_id, site_id): one more index entry per version written
or sealed, a small part of what the score rows save.

outbox_message: three indexes hold only the rows their queries ask for (`sending` rows for
the lease, rows with a provider id, rows that need review). A change of status writes the
row's new version into every index whose condition it meets: cancelling a survey's ~10
pending reminders at submission wrote 10 index entries per row, now 7; on a large outbox
the full indexes (mostly NULL or false, one long run of equal keys) were the dearest ones.

Revision ID: 0024_h25db
Revises: 0023_h22idx
Create Date: 2026-12-06 17:30:00
"""

import sqlalchemy as sa

from alembic import op

revision = '0024_h25db'
down_revision = '0023_h22idx'
branch_labels = None
depends_on = None

SCORE_TO_RESPONSE = 'fk_response_score_response_id_response'
# name, columns, condition (PostgreSQL), condition (SQLite: a boolean is said `= 1`)
PARTIAL = (
    ('ix_outbox_message_status_lease', ['status', 'lease_until'], "status = 'sending'", None),
    ('ix_outbox_message_provider_message_id', ['provider_message_id'],
     'provider_message_id IS NOT NULL', None),
    ('ix_outbox_message_needs_review', ['needs_review'], 'needs_review', 'needs_review = 1'),
)


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
    for name, columns, condition, sqlite in PARTIAL:
        op.drop_index(name, table_name='outbox_message')
        op.create_index(name, 'outbox_message', columns,
                        postgresql_where=sa.text(condition),
                        sqlite_where=sa.text(sqlite or condition))


def downgrade() -> None:
    for name, columns, _condition, _sqlite in PARTIAL:
        op.drop_index(name, table_name='outbox_message')
        op.create_index(name, 'outbox_message', columns)
    with op.batch_alter_table('response_score') as batch:
        batch.drop_constraint(op.f(SCORE_TO_RESPONSE), type_='foreignkey')
        batch.create_foreign_key(op.f(SCORE_TO_RESPONSE), 'response', ['response_id'], ['id'])
        batch.create_foreign_key(op.f('fk_response_score_study_id_study'), 'study',
                                 ['study_id'], ['id'])
        batch.create_foreign_key(op.f('fk_response_score_site_id_site'), 'site',
                                 ['site_id'], ['id'])
    op.drop_index('uq_response_id_study_id_site_id', table_name='response')
