"""audit events are sealed after commit: seq, prev_hash and hash NULL until sealed, once

Requests no longer take a lock to append to the chain; they insert the event (numbered by
`id`) and the sealer gives it its place in the chain later (docs/audit-sealing.md). The
append-only guard lets exactly that one change through: an unsealed event getting its
seq, prev_hash and hash, every other column unchanged. Every other UPDATE, and every DELETE,
is still refused by the database. Events already in the chain keep their seal.

Revision ID: 0015_h20seal
Revises: 0014_perf20
Create Date: 2026-12-05 01:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0015_h20seal'
down_revision = '0014_perf20'
branch_labels = None
depends_on = None

_SEAL = ('seq', 'prev_hash', 'hash')
_CONTENT = ('id', 'occurred_at', 'actor_type', 'actor_id', 'actor_label', 'action',
            'entity_type', 'entity_id', 'study_id', 'site_id', 'before', 'after', 'reason',
            'request_id')
_TYPES = {'seq': sa.BigInteger(), 'prev_hash': sa.String(length=64),
          'hash': sa.String(length=64)}


def _sealing_only(old: str, new: str, same: str) -> str:
    """SQL true for an UPDATE that seals an unsealed event and changes nothing else."""
    return " AND ".join(
        [f"{old}.{c} IS NULL" for c in _SEAL] + [f"{new}.{c} IS NOT NULL" for c in _SEAL]
        + [same.format(new=f"{new}.{c}", old=f"{old}.{c}") for c in _CONTENT])


def _postgres_guard(allow_sealing: bool) -> str:
    allow = (f"IF TG_OP = 'UPDATE' AND {_sealing_only('OLD', 'NEW', '{new} IS NOT DISTINCT FROM {old}')}"
             " THEN RETURN NEW; END IF;" if allow_sealing else "")
    return f"""
        CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql
        AS $$
        BEGIN
            {allow}
            RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$
    """


def _sqlite_update_guard(allow_sealing: bool) -> str:
    when = f" WHEN NOT ({_sealing_only('OLD', 'NEW', '{new} IS {old}')})" if allow_sealing else ""
    return (f"CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event{when} "
            "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END")


_SQLITE_DELETE_GUARD = (
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: DELETE refused'); END")


def _alter(nullable: bool) -> None:
    """On SQLite the table is copied (its triggers go with the old copy; set again after)."""
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.execute("DROP TRIGGER audit_event_no_update")
        op.execute("DROP TRIGGER audit_event_no_delete")
    with op.batch_alter_table('audit_event') as batch:
        for column in _SEAL:
            batch.alter_column(column, existing_type=_TYPES[column], nullable=nullable)
        if nullable:
            batch.create_index('ix_audit_event_unsealed', ['id'],
                               sqlite_where=sa.text('seq IS NULL'),
                               postgresql_where=sa.text('seq IS NULL'))
        else:
            batch.drop_index('ix_audit_event_unsealed')
    if sqlite:
        op.execute(_sqlite_update_guard(allow_sealing=nullable))
        op.execute(_SQLITE_DELETE_GUARD)
    else:
        op.execute(_postgres_guard(allow_sealing=nullable))


def upgrade() -> None:
    _alter(nullable=True)


def downgrade() -> None:
    unsealed = op.get_bind().execute(
        sa.text("SELECT count(*) FROM audit_event WHERE seq IS NULL")).scalar()
    if unsealed:
        raise RuntimeError(f"{unsealed} audit events are not sealed yet: run "
                           "`flask --app wsgi pro audit verify` (it seals) before downgrading")
    _alter(nullable=False)
