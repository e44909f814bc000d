"""Helpers for the messaging database tests: a participant's world driven through the real
services, jobs and webhooks, with the fake Twilio counting what arrives."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from pro_server.instruments import default_registry
from pro_server.instruments.examples import example_answers
from pro_server.jobs import all_jobs, run_job
from pro_server.messaging.models import InboundMessage, OutboxMessage
from pro_server.messaging.webhooks import INBOUND_PATH
from pro_server.participants import services as participants
from pro_server.participants.models import Participant, ParticipantStatus
from pro_server.responses.services import submit
from pro_server.schedule.infusions import record_infusion
from pro_server.schedule.models import Assessment
from pro_server.studies.models import Site, Study
from tests.fakes.fake_twilio import FakeMessage, FakeTwilio, SignedRequest

ACCOUNT_SID = "AC" + "c3" * 16
AUTH_TOKEN = "messaging-db-test-token-0123456789"
MESSAGING_SERVICE_SID = "MG" + "d4" * 16
SERVICE_NUMBER = "+13525550199"
NEW_YORK = ZoneInfo("America/New_York")
SITE_PHONE = "+13525550100"  # the demo's GNV contact phone


def local(*args: int) -> datetime:
    """A New York wall-clock time as an aware datetime."""
    return datetime(*args, tzinfo=NEW_YORK)  # type: ignore[misc]


class World:
    def __init__(self, app, ctx_factory, clock, fake: FakeTwilio) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.ctx_factory = ctx_factory
        self.clock = clock
        self.fake = fake
        self.client = app.test_client()
        self.settings = app.extensions["pro"]["settings"]
        jobs = {job.id: job for job in all_jobs()}
        self._jobs = [jobs["window-transitions"], jobs["dispatch-messages"]]
        # The demo's participants gave no SMS consent here, so that what reaches the fake
        # Twilio (and its injected failures) is only about each test's own participants.
        with self.session() as session:
            session.execute(update(Participant).values(sms_consent=False))
            session.commit()

    def close(self) -> None:
        sender = self.app.extensions["pro"].get("sms_sender")
        if sender is not None and hasattr(sender, "close"):
            sender.close()

    # -- arranging -------------------------------------------------------------------------

    def enrol(self, key: str, phone: str | None, *, language: str = "en",
              reminder_time: str = "10:00", enrolled_on: date = date(2026, 2, 20),
              infusion_local: datetime | None = datetime(2026, 2, 27, 10, 0),
              consent: bool = True, site_code: str = "GNV") -> int:
        ctx = self.ctx_factory()
        study = ctx.session.scalar(select(Study))
        site = ctx.session.scalar(select(Site).where(Site.code == site_code))
        p = participants.enrol(ctx, study, site, {
            "subject_key": key, "status": ParticipantStatus.enrolled, "language": language,
            "timezone": "America/New_York", "phone": phone, "email": None,
            "reminder_time": reminder_time, "enrolled_on": enrolled_on,
            "sms_consent": {"given": consent, "source": "test ICF"} if phone else None,
        })
        if infusion_local is not None:
            record_infusion(ctx, p, 1, status="given", given_at_local=infusion_local)
        ctx.session.commit()
        return p.id

    def submit_survey(self, pid: int, code: str) -> None:
        ctx = self.ctx_factory()
        a = ctx.session.scalar(select(Assessment).where(
            Assessment.participant_id == pid, Assessment.code == code))
        rng = random.Random(pid)
        answers = {c: example_answers(default_registry().get(c), rng, 0.4) for c in a.instruments}
        submit(ctx, a, f"test-{a.id}", answers, "en")
        ctx.session.commit()

    def change(self, action: Callable, *args, **kwargs):  # type: ignore[no-untyped-def]
        """Run a service function with a fresh context and commit."""
        ctx = self.ctx_factory()
        result = action(ctx, *args, **kwargs)
        ctx.session.commit()
        return result

    # -- running ---------------------------------------------------------------------------

    def dispatch(self) -> int:
        return run_job(self.app, self._jobs[1])

    def run_jobs(self) -> None:
        for job in self._jobs:
            run_job(self.app, job)

    def walk(self, until: datetime, step: timedelta = timedelta(minutes=30),
             on_step: Callable[[datetime], None] | None = None) -> None:
        """Move the clock to `until` in steps, running the jobs at every step."""
        self.run_jobs()
        while self.clock.now() < until:
            now = self.clock.advance(step)
            if on_step is not None:
                on_step(now)
            self.run_jobs()

    # -- looking ---------------------------------------------------------------------------

    def session(self):  # type: ignore[no-untyped-def]
        return self.app.extensions["pro"]["session_factory"]()

    def rows(self, *conditions) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
        with self.session() as session:
            return list(session.scalars(
                select(OutboxMessage).where(*conditions).order_by(OutboxMessage.due_at,
                                                                  OutboxMessage.id)))

    def inbound(self) -> list[InboundMessage]:
        with self.session() as session:
            return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))

    def participant(self, pid: int) -> Participant:
        with self.session() as session:
            return session.get(Participant, pid)

    def texts_to(self, phone: str) -> list[FakeMessage]:
        return [m for m in self.fake.messages if m.to == phone]

    # -- Twilio calling the service ----------------------------------------------------------

    def post(self, request: SignedRequest, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return self.client.post(path, data=request.params,
                                headers=headers if headers is not None else request.headers)

    def reply(self, phone: str, body: str):  # type: ignore[no-untyped-def]
        """The participant texts the service."""
        return self.post(self.fake.build_inbound(
            phone, body, SERVICE_NUMBER, self.settings.public_base_url + INBOUND_PATH,
            messaging_service_sid=MESSAGING_SERVICE_SID))

    def report(self, sid: str, status: str, error_code: int | None = None):  # type: ignore[no-untyped-def]
        """Twilio reports a delivery status for one message."""
        return self.post(self.fake.build_status_callback(sid, status, error_code))
