"""Counting the SQL statements a piece of work sends, so a test can pin an endpoint's cost."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


class Statements(list[str]):
    """The statements sent, in order (an executemany counts once: one round trip)."""

    def __repr__(self) -> str:
        return "\n".join(f"{n + 1:3}. {' '.join(s.split())[:160]}" for n, s in enumerate(self))


@contextmanager
def counted(engine: Engine) -> Iterator[Statements]:
    """Every statement sent through `engine` inside the block."""
    sent = Statements()

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", note)
