"""response_export: each version's instants as text (UTC, and local in the zone of its assessment)

The records API formatted five instants per record into UTC and local ISO 8601 text on every
export (on PostgreSQL in the query: ~5 us of database CPU per instant, most of a record's
cost). A version's started, submitted and recorded instants never change: their UTC texts
are stored with the version's other export texts, and their local texts with the time zone
they were made for (`zone`): an export formats the local texts again only for an assessment
whose zone has changed since (the window bounds can move, so they stay formatted per export).

The backfill builds the texts of every stored version with the same builder
(pro_server.responses.export_text.instant_texts), in batches by id, on both backends.

Revision ID: 0022_h20exp3
Revises: 0021_h20frag
Create Date: 2026-12-06 05:45:00
"""

import sqlalchemy as sa

from alembic import op
from pro_server.db import UTCDateTime
from pro_server.responses.export_text import INSTANTS, instant_texts

revision = '0022_h20exp3'
down_revision = '0021_h20frag'
branch_labels = None
depends_on = None

BATCH = 2000
COLUMNS = ('zone', *(f'{name}_{kind}' for name in INSTANTS for kind in ('utc', 'local')))


def upgrade() -> None:
    with op.batch_alter_table('response_export') as batch:
        for column in COLUMNS:
            batch.add_column(sa.Column(column, sa.String(64 if column == 'zone' else 40),
                                       nullable=True))
    bind = op.get_bind()
    instants = sa.text(
        'SELECT e.response_id, a.timezone, r.started_at, r.submitted_at, r.recorded_at '
        'FROM response_export AS e JOIN response AS r ON r.id = e.response_id '
        'JOIN assessment AS a ON a.id = r.assessment_id WHERE e.response_id > :after '
        'ORDER BY e.response_id LIMIT :batch').columns(
            sa.column('response_id', sa.Integer), sa.column('timezone', sa.String),
            *(sa.column(f'{name}_at', UTCDateTime()) for name in INSTANTS))
    table = sa.table('response_export', sa.column('response_id'),
                     *(sa.column(c) for c in COLUMNS))
    update = table.update().where(table.c.response_id == sa.bindparam('id')).values(
        {c: sa.bindparam(f'new_{c}') for c in COLUMNS})
    after = 0
    while True:
        rows = bind.execute(instants, {'after': after, 'batch': BATCH}).mappings().all()
        if not rows:
            break
        bind.execute(update, [
            {'id': row['response_id'], **{f'new_{k}': v for k, v in instant_texts(
                {f'{n}_at': row[f'{n}_at'] for n in INSTANTS}, row['timezone']).items()}}
            for row in rows])
        after = rows[-1]['response_id']
        if len(rows) < BATCH:
            break
    with op.batch_alter_table('response_export') as batch:
        for column in COLUMNS:
            batch.alter_column(column, existing_type=sa.String(64 if column == 'zone' else 40),
                               nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('response_export') as batch:
        for column in COLUMNS:
            batch.drop_column(column)
