"""What every service function is given: the session, the clock, who acts, and the request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from pro_server.clock import Clock
from pro_server.config import Settings


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
    request_id: str | None = None
    client_address: str | None = None  # the client's IP (through TRUSTED_PROXIES proxies)

    def now(self) -> datetime:
        return self.clock.now()
