"""On PostgreSQL, make_engine's connections make `cursor.description` as it is read: the
same Column objects psycopg makes, read from the result they describe, whatever the cursor
ran since."""

from __future__ import annotations

import psycopg
import pytest

from pro_server.db import make_engine
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL only")

QUERY = "SELECT 1::int AS a, 'x'::varchar(4) AS b, now() AS c, NULL::numeric(6,2) AS d"


def _described(column: psycopg.Column) -> tuple:
    return (*column, column.type_display)


def test_description_is_psycopgs_own():
    plain = psycopg.connect(POSTGRES_URL.replace("postgresql+psycopg", "postgresql"))
    engine = make_engine(POSTGRES_URL)
    try:
        expected = [_described(c) for c in plain.execute(QUERY).description or ()]
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(QUERY)
            description = cursor.description
            assert description is not None
            assert len(description) == 4
            assert description
            cursor.execute("SELECT 'other' AS z")  # read after the cursor moved on
            assert [_described(c) for c in description] == expected
            assert [c.name for c in description[1:3]] == ["b", "c"]
            assert description[-1].name == "d"
            assert description == list(description)
            cursor.execute("CREATE TEMP TABLE t (x int)")
            assert cursor.description is None
            cursor.execute("SELECT")
            assert cursor.description == []
        finally:
            raw.close()
    finally:
        plain.close()
        engine.dispose()
