"""What every service function is given: the session, the clock, who acts, and the request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from pro_server.clock import Clock
from pro_server.config import Settings
from pro_server.db import use_clock
from pro_server.events import EventBus


@dataclass(frozen=True)
class Actor:
    """Who causes a change: a staff user, a participant, an EDC client or a system job."""

    type: str
    id: str | None = None
    label: str | None = None

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(type="system", id=None, label=job)


@dataclass
class ServiceContext:
    session: Session
    clock: Clock
    actor: Actor
    settings: Settings
    events: EventBus  # the app's bus: what this change tells the other features
    request_id: str | None = None
    client_address: str | None = None  # the client's IP (through TRUSTED_PROXIES proxies)

    def __post_init__(self) -> None:
        use_clock(self.session, self.clock)  # its created_at/updated_at (pro_server.db)

    def now(self) -> datetime:
        return self.clock.now()

    @classmethod
    def of_app(cls, pro: Mapping[str, Any], actor: Actor, *, session: Session | None = None,
               clock: Clock | None = None) -> ServiceContext:
        """A context outside a request (jobs, the CLI, tests, benches) from the app's parts,
        ``app.extensions["pro"]``: its settings and event bus, a new session unless one is
        given, and the app's clock unless another is given."""
        return cls(session=session or pro["session_factory"](), clock=clock or pro["clock"],
                   actor=actor, settings=pro["settings"], events=pro["events"])
