"""The database refuses a word outside a column's vocabulary (CHECK constraints)

Every column that holds one word of a fixed vocabulary (a feature's StrEnum, mapped by
pro_server.db.enum_type) gets a CHECK constraint named ck_<table>_<column>. The stored
strings do not change. Before adding them, the existing rows are read: a word outside the
vocabulary stops the upgrade with the table, column and words named, and nothing changes.

The vocabularies are copied here as they are today, not imported: a migration keeps
meaning what it meant when it was written.

SQLite adds a CHECK constraint only by copying the table (batch mode); copying a table that
other tables reference needs foreign key enforcement off while it is dropped and renamed
(https://www.sqlite.org/lang_altertable.html#otheralter), which SQLite allows only outside
a transaction. The foreign keys are checked again before enforcement is turned back on.

Revision ID: 0019_h17enum
Revises: 0019_h18email
Create Date: 2026-12-05 23:30:00
"""

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from alembic import context, op

revision = '0019_h17enum'
down_revision = '0019_h18email'
branch_labels = None
depends_on = None

_ASSESSMENT_STATUS = ('new', 'scheduled', 'open', 'in_progress', 'completed', 'missed',
                      'cancelled')
_SECOND_FACTOR = ('birth_year', 'pin')

# table -> column -> the words it may hold
VOCABULARIES: dict[str, dict[str, tuple[str, ...]]] = {
    'staff_user': {'role': ('admin', 'coordinator', 'investigator', 'monitor')},
    'participant': {'status': ('screening', 'enrolled', 'withdrawn', 'completed'),
                    'email_flag': ('bounced', 'complaint', 'unsubscribed')},
    'infusion': {'status': ('planned', 'given', 'not_given')},
    'assessment': {
        'recorded_status': _ASSESSMENT_STATUS,
        'missed_reason': ('not_reached', 'declined', 'too_unwell', 'technical_problem',
                          'hospitalised', 'other'),
    },
    'assessment_transition': {'from_status': _ASSESSMENT_STATUS,
                              'to_status': _ASSESSMENT_STATUS},
    'visit': {'mode': ('phone', 'video'), 'status': ('scheduled', 'cancelled')},
    'change_request': {'status': ('pending', 'approved', 'rejected')},
    'participant_secret': {'kind': _SECOND_FACTOR},
    'study_web_settings': {'second_factor': ('none', *_SECOND_FACTOR)},
    'outbox_message': {
        'channel': ('sms', 'push', 'email', 'web'),
        'purpose': ('window_opened', 'survey_reminder', 'last_day', 'visit_reminder_24h',
                    'visit_reminder_1h', 'visit_changed', 'visit_cancelled', 'help_reply',
                    'opt_out_confirmation', 'opt_in_confirmation'),
        'target_kind': ('assessment', 'visit', 'participant'),
        'status': ('pending', 'sending', 'sent', 'delivered', 'undelivered', 'failed',
                   'cancelled', 'suppressed', 'not_sent'),
    },
    'inbound_message': {'kind': ('stop', 'start', 'help', 'possible_opt_out', 'other')},
}


def _name(table: str, column: str) -> str:
    return f'ck_{table}_{column}'  # the models' naming convention: ck_%(table_name)s_%(constraint_name)s


def _condition(column: str, words: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(w) for w in words)})"


def refuse_words_outside_vocabularies(conn: sa.Connection) -> None:
    """RuntimeError naming every table, column and stored word outside its vocabulary."""
    problems = []
    for table, columns in VOCABULARIES.items():
        for column, words in columns.items():
            col = sa.column(column)
            bad = conn.execute(
                sa.select(col, sa.func.count()).select_from(sa.table(table))
                .where(col.is_not(None), col.not_in(words)).group_by(col).order_by(col)).all()
            if bad:
                found = ', '.join(f'{word!r} ({n} rows)' for word, n in bad)
                problems.append(f'{table}.{column} holds {found}; allowed: {", ".join(words)}')
    if problems:
        raise RuntimeError('cannot add the vocabulary CHECK constraints; correct these rows '
                           'first: ' + '; '.join(problems))


@contextmanager
def _foreign_keys_off_on_sqlite() -> Iterator[None]:
    if op.get_bind().dialect.name != 'sqlite':
        yield
        return
    with context.get_context().autocommit_block():
        op.execute('PRAGMA foreign_keys=OFF')
    try:
        yield
        broken = op.get_bind().exec_driver_sql('PRAGMA foreign_key_check').all()
        if broken:
            raise RuntimeError(f'foreign keys broken by copying tables: {broken[:5]}')
    except BaseException:
        # Nothing of this revision is kept: the transaction is rolled back, and the
        # connection (enforcement off) is closed instead of going back to the pool.
        op.get_bind().invalidate()
        raise
    # Commits the work above (the pragma changes only outside a transaction); the rest of
    # the upgrade runs in a new transaction.
    with context.get_context().autocommit_block():
        op.execute('PRAGMA foreign_keys=ON')


def upgrade() -> None:
    refuse_words_outside_vocabularies(op.get_bind())
    with _foreign_keys_off_on_sqlite():
        for table, columns in VOCABULARIES.items():
            with op.batch_alter_table(table) as batch:
                for column, words in columns.items():
                    batch.create_check_constraint(op.f(_name(table, column)),
                                                  _condition(column, words))


def downgrade() -> None:
    with _foreign_keys_off_on_sqlite():
        for table, columns in VOCABULARIES.items():
            with op.batch_alter_table(table) as batch:
                for column in columns:
                    batch.drop_constraint(op.f(_name(table, column)), type_='check')
