"""response_export: each response version's export texts, built once when it is stored

The EDC records API and ODM clinical exports decoded every version's answers and scores JSON
and wrote its items, unanswered reasons, scores and ItemGroupData again on every export (on
PostgreSQL in the query, from expressions generated per instrument version: reading the JSON
text as jsonb alone cost ~3x a COPY of the rows). A version never changes, so its texts are
written once, in the transaction that stores it (pro_server.responses.export_text), and the
exports only join them with what can change (subject, site, window).

The index on response.audit_seq alone goes: every read by seq is of one study, which
ix_response_study_id_audit_seq serves, and with it PostgreSQL (after ANALYZE) read a study's
first records page by walking every study's versions in seq order, dropping the others'
(59,650 rows removed by the filter, 88 ms, for the first page of a second study of 178,784).

The backfill builds the texts of every stored version with the same builder, in batches by
id (each correction with the version it replaces), on both backends.

Revision ID: 0021_h20frag
Revises: 0020_h20score
Create Date: 2026-12-06 05:00:00
"""

import json

import sqlalchemy as sa

from alembic import op
from pro_server.instruments import default_registry
from pro_server.responses.export_text import export_texts

revision = '0021_h20frag'
down_revision = '0020_h20score'
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    table = op.create_table(
        'response_export',
        sa.Column('response_id', sa.Integer(), nullable=False),
        sa.Column('items_json', sa.Text(), nullable=False),
        sa.Column('unanswered_json', sa.Text(), nullable=False),
        sa.Column('scores_json', sa.Text(), nullable=False),
        sa.Column('odm_items', sa.Text(), nullable=False),
        sa.Column('odm_scores', sa.Text(), nullable=False),
        sa.Column('odm_items_update', sa.Text(), nullable=True),
        sa.Column('odm_scores_update', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['response_id'], ['response.id'],
                                name=op.f('fk_response_export_response_id_response')),
        sa.PrimaryKeyConstraint('response_id', name=op.f('pk_response_export')),
    )
    bind, registry, after = op.get_bind(), default_registry(), 0
    while True:
        rows = bind.execute(sa.text(
            'SELECT r.id, r.instrument_code, r.instrument_version, r.answers, r.scores, '
            'p.answers, p.scores FROM response AS r LEFT JOIN response AS p '
            'ON p.id = r.replaces_id WHERE r.id > :after ORDER BY r.id LIMIT :batch'),
            {'after': after, 'batch': BATCH}).all()
        if not rows:
            break
        bind.execute(table.insert(), [
            {'response_id': id_, **export_texts(
                registry.get(code, version), json.loads(answers), json.loads(scores),
                None if prev_answers is None else (json.loads(prev_answers),
                                                   json.loads(prev_scores)))}
            for id_, code, version, answers, scores, prev_answers, prev_scores in rows])
        after = rows[-1][0]
        if len(rows) < BATCH:
            break
    op.drop_index('ix_response_audit_seq', table_name='response')


def downgrade() -> None:
    op.create_index('ix_response_audit_seq', 'response', ['audit_seq'])
    op.drop_table('response_export')
