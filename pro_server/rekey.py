"""`pro rekey`: re-encrypt every encrypted column with the newest data key and rebuild the
phone lookups with the current lookup key.

Resumable by construction: it walks each table in primary-key order, one committed batch
at a time (the batch's audit event in the same transaction), and a row already encrypted
with the newest key and holding the right lookup is left alone. Killed half-way, the next
run finishes the rest; every row is readable at every moment, because MultiFernet reads
tokens of any configured key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from cryptography.fernet import InvalidToken
from sqlalchemy import Column, Table, Text, select, type_coerce, update

from pro_server.audit.services import record
from pro_server.context import ServiceContext
from pro_server.crypto import EncryptedText, Keyring
from pro_server.models import Base

# Lookup columns derived from the clear value of an encrypted column: table -> (source, lookup).
LOOKUPS: dict[str, tuple[str, str]] = {"participant": ("phone", "phone_lookup")}


class UnreadableValue(RuntimeError):
    """A stored value is encrypted with a key that PRO_DATA_KEYS no longer holds."""


@dataclass
class RekeyReport:
    rows_examined: int = 0
    values_reencrypted: int = 0
    lookups_rebuilt: int = 0
    batches: int = 0
    tables: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"rows_examined": self.rows_examined,
                "values_reencrypted": self.values_reencrypted,
                "lookups_rebuilt": self.lookups_rebuilt, "batches": self.batches,
                "tables": self.tables}


def encrypted_tables() -> Iterator[tuple[Table, list[Column]]]:
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, EncryptedText)]
        if columns:
            yield table, columns


def _row_changes(keyring: Keyring, table: Table, columns: list[Column], row: dict
                 ) -> tuple[dict[str, object], int, int]:
    values: dict[str, object] = {}
    reencrypted = 0
    for column in columns:
        token = row[column.name]
        if token is not None and not keyring.is_current(token):
            values[column.name] = type_coerce(keyring.rotate(token), Text)
            reencrypted += 1
    rebuilt = 0
    if table.name in LOOKUPS:
        source, lookup = LOOKUPS[table.name]
        token = row[source]
        wanted = None if token is None else keyring.lookup_hash(keyring.decrypt(token))
        if row[lookup] != wanted:
            values[lookup] = wanted
            rebuilt = 1
    return values, reencrypted, rebuilt


def rekey(new_context: Callable[[], ServiceContext], *, batch_size: int = 200,
          after_batch: Callable[[RekeyReport], None] | None = None) -> RekeyReport:
    """Re-encrypt and rebuild lookups batch by batch; each batch commits with its audit event.

    `new_context` gives a fresh context (own session) per batch; `after_batch` is called
    after each commit (progress output).
    """
    report = RekeyReport()
    for table, columns in encrypted_tables():
        report.tables.append(table.name)
        (pk,) = table.primary_key.columns
        extra = [table.c[LOOKUPS[table.name][1]]] if table.name in LOOKUPS else []
        raw = [type_coerce(c, Text).label(c.name) for c in columns]
        last_id = None
        while True:
            ctx = new_context()
            with ctx.session:
                query = select(pk, *raw, *extra).order_by(pk).limit(batch_size)
                if last_id is not None:
                    query = query.where(pk > last_id)
                rows = [dict(r._mapping) for r in ctx.session.execute(query)]
                if not rows:
                    break
                batch_reencrypted = batch_rebuilt = 0
                for row in rows:
                    try:
                        values, reencrypted, rebuilt = _row_changes(
                            ctx.settings.keyring, table, columns, row)
                    except InvalidToken:
                        raise UnreadableValue(
                            f"{table.name} {row[pk.name]}: a value is encrypted with a key not "
                            "in PRO_DATA_KEYS; put the old key back (after the new one) and "
                            "run pro rekey again") from None
                    if values:
                        ctx.session.execute(
                            update(table).where(pk == row[pk.name]).values(values))
                    batch_reencrypted += reencrypted
                    batch_rebuilt += rebuilt
                last_id = rows[-1][pk.name]
                if batch_reencrypted or batch_rebuilt:
                    record(ctx, "crypto.rekey_batch", table.name, None, after={
                        "first_id": rows[0][pk.name], "last_id": last_id, "rows": len(rows),
                        "values_reencrypted": batch_reencrypted,
                        "lookups_rebuilt": batch_rebuilt})
                ctx.session.commit()
            report.rows_examined += len(rows)
            report.values_reencrypted += batch_reencrypted
            report.lookups_rebuilt += batch_rebuilt
            report.batches += 1
            if after_batch is not None:
                after_batch(report)
    ctx = new_context()
    with ctx.session:
        record(ctx, "crypto.rekey", "database", None, after=report.as_dict())
        ctx.session.commit()
    return report
