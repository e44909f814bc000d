"""What one feature tells the others: events on a small bus held by each app.

A feature declares the events it publishes (a participant enrolled, an assessment changed)
and names, in order, the features that may react. Those features subscribe when the app is
built. Two things this makes explicit that module-level hook lists left to chance: the order
the reactions run in (the schedule syncs assessments before messaging replans reminders) is
written in the declaration, not implied by import order; and each app has its own bus, so
two apps in one process (tests, the CLI) never run each other's handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, ParamSpec

P = ParamSpec("P")


@dataclass(frozen=True, eq=False)
class Event(Generic[P]):
    """An event and, in the order their handlers run, the features that may subscribe."""

    name: str
    subscribers: tuple[str, ...]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[Event, dict[str, Callable[..., None]]] = {}

    def subscribe(self, event: Event[P], feature: str, handler: Callable[P, None]) -> None:
        if feature not in event.subscribers:
            raise ValueError(f"{feature} is not a declared subscriber of {event.name}; "
                             f"declared: {', '.join(event.subscribers)}")
        handlers = self._handlers.setdefault(event, {})
        if feature in handlers:
            raise ValueError(f"{feature} already subscribes to {event.name} on this bus")
        handlers[feature] = handler

    def publish(self, event: Event[P], *args: P.args, **kwargs: P.kwargs) -> None:
        """Run the subscribed handlers in the declared order, in the caller's transaction."""
        handlers = self._handlers.get(event, {})
        for feature in event.subscribers:
            handler = handlers.get(feature)
            if handler is not None:
                handler(*args, **kwargs)
