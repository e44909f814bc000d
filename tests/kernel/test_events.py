"""The event bus: declared order, declared subscribers, one bus per app."""

from __future__ import annotations

import pytest

from pro_server.events import Event, EventBus
from pro_server.participants import events as participant_events
from pro_server.schedule import events as schedule_events

CHANGED: Event[[list[str], str]] = Event("thing.changed", subscribers=("schedule", "messaging"))


def test_handlers_run_in_the_declared_order_whatever_order_they_subscribed_in():
    bus = EventBus()
    calls: list[str] = []
    bus.subscribe(CHANGED, "messaging", lambda log, what: log.append(f"messaging:{what}"))
    bus.subscribe(CHANGED, "schedule", lambda log, what: log.append(f"schedule:{what}"))
    bus.publish(CHANGED, calls, "x")
    assert calls == ["schedule:x", "messaging:x"]


def test_an_undeclared_or_second_subscription_is_refused():
    bus = EventBus()
    with pytest.raises(ValueError, match=r"dashboard is not a declared subscriber of thing\.chan"):
        bus.subscribe(CHANGED, "dashboard", lambda log, what: None)
    bus.subscribe(CHANGED, "schedule", lambda log, what: None)
    with pytest.raises(ValueError, match="already subscribes"):
        bus.subscribe(CHANGED, "schedule", lambda log, what: None)


def test_each_app_has_its_own_bus_with_each_feature_subscribed_once(app, settings, clock, engine):
    from pro_server import create_app

    second = create_app(settings, clock=clock, engine=engine)
    buses = [a.extensions["pro"]["events"] for a in (app, second)]
    assert buses[0] is not buses[1]
    for bus in buses:
        handlers = bus._handlers
        assert set(handlers[participant_events.UPDATED]) == {"schedule", "messaging"}
        assert set(handlers[participant_events.ENROLLED]) == {"schedule"}
        assert set(handlers[schedule_events.ASSESSMENT_CHANGED]) == {"messaging"}
