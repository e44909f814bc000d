"""ProFlask keeps whether a hook or view is `async def`: a plain function is run as it is,
a coroutine function still goes through async_to_sync, every time."""

from __future__ import annotations

from pro_server.app import ProFlask


def test_plain_and_async_functions(monkeypatch):
    app = ProFlask(__name__)
    wrapped: list[object] = []
    monkeypatch.setattr(app, "async_to_sync", lambda f: wrapped.append(f) or "wrapped")

    def plain() -> None: ...

    async def coroutine() -> None: ...

    for _ in range(2):
        assert app.ensure_sync(plain) is plain
        assert app.ensure_sync(coroutine) == "wrapped"
    assert wrapped == [coroutine, coroutine]
    assert app.ensure_sync(print) is print  # a built-in: no weak reference, still answered


def test_a_hook_made_for_one_request_is_not_kept():
    app = ProFlask(__name__)

    def once() -> None: ...

    app.ensure_sync(once)
    assert len(app._is_async) == 1
    del once
    assert len(app._is_async) == 0


def test_a_bound_method_is_answered_by_its_function(monkeypatch):
    """A MethodView's methods are bound anew in every request: kept under their function,
    not under each bound method, and an `async def` method is still run through async_to_sync."""
    app = ProFlask(__name__)
    monkeypatch.setattr(app, "async_to_sync", lambda f: "wrapped")

    class View:
        def get(self) -> None: ...

        async def post(self) -> None: ...

    for _ in range(3):
        view = View()
        assert app.ensure_sync(view.get) == view.get
        assert app.ensure_sync(view.post) == "wrapped"
    assert set(app._is_async) == {View.get, View.post}
