"""unit_of_work: one transaction, committed when the block ends normally, rolled back when
the block, or the commit itself, raises; the exception goes on to the caller."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pro_server import web
from pro_server.context import Actor


class _Session:
    def __init__(self, fail_commit: bool = False) -> None:
        self.calls: list[str] = []
        self.fail_commit = fail_commit

    def commit(self) -> None:
        self.calls.append("commit")
        if self.fail_commit:
            raise RuntimeError("commit failed")

    def rollback(self) -> None:
        self.calls.append("rollback")


def _unit(monkeypatch, session: _Session):
    ctx = SimpleNamespace(session=session)
    monkeypatch.setattr(web, "context", lambda actor: ctx)
    return web.unit_of_work(Actor.system("test")), ctx


def test_commits_when_the_block_ends_normally(monkeypatch):
    session = _Session()
    unit, ctx = _unit(monkeypatch, session)
    with unit as given:
        assert given is ctx
    assert session.calls == ["commit"]


@pytest.mark.parametrize("error", [ValueError("no"), KeyboardInterrupt()])
def test_rolls_back_and_re_raises_when_the_block_raises(monkeypatch, error):
    session = _Session()
    unit, _ = _unit(monkeypatch, session)
    with pytest.raises(type(error)), unit:
        raise error
    assert session.calls == ["rollback"]


def test_rolls_back_and_re_raises_when_the_commit_fails(monkeypatch):
    session = _Session(fail_commit=True)
    unit, _ = _unit(monkeypatch, session)
    with pytest.raises(RuntimeError, match="commit failed"), unit:
        pass
    assert session.calls == ["commit", "rollback"]
