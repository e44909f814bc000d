"""Helpers for the messaging database tests: a participant's world driven through the real
services, jobs and webhooks, with the fake Twilio counting what arrives."""

from __future__ import annotations

import os
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
from pro_server.messaging.planning import dedup_key
from pro_server.messaging.webhooks import INBOUND_PATH
from pro_server.participants.models import Participant
from pro_server.responses.services import submit
from pro_server.schedule.infusions import record_infusion
from pro_server.schedule.models import Assessment
from tests.conftest import TEST_DATA_KEY
from tests.factories import enrol_participant
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
              consent: bool = True, site_code: str = "GNV",
              reminder_channels: list[str] | None = None) -> int:
        ctx = self.ctx_factory()
        p = enrol_participant(ctx, key, site_code=site_code, language=language, phone=phone,
                              reminder_time=reminder_time, enrolled_on=enrolled_on,
                              sms_consent=consent if phone else None, consent_source="test ICF",
                              reminder_channels=reminder_channels)
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

    def walk_to_day7_eve(self) -> None:
        """From the start (Sun Mar 1, 10:00) to the evening before the Day 7 window opens
        (Mar 4) with the jobs every 6 hours: nothing is due there, and a message that was
        due would still be sent, at a time the test would see."""
        assert self.clock.now() == local(2026, 3, 1, 10, 0), self.clock.now()
        self.walk(local(2026, 3, 3, 22, 0), step=timedelta(hours=6))

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


class ProcessDeath(BaseException):
    """Stands for kill -9 inside one process: nothing in the service catches it."""


class DyingSender:
    """The configured sender, except that the process "dies" during the provider call
    that matches: before the request went out, or after the provider accepted it."""

    def __init__(self, real, *, to: str | None = None, call: int | None = None,  # type: ignore[no-untyped-def]
                 after_accept: bool = False) -> None:
        self.real, self.to, self.call, self.after_accept = real, to, call, after_accept
        self.calls = 0
        self.accepted: str | None = None

    def send(self, to: str, body: str, *, status_callback: str | None):  # type: ignore[no-untyped-def]
        self.calls += 1
        if (self.to is None or to == self.to) and (self.call is None or self.calls == self.call):
            if self.after_accept:
                self.accepted = self.real.send(to, body, status_callback=status_callback
                                               ).provider_id
            raise ProcessDeath(f"died during the provider call to {to}")
        return self.real.send(to, body, status_callback=status_callback)

    def find_sent(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self.real.find_sent(*args, **kwargs)

    def die_in(self, world) -> None:  # type: ignore[no-untyped-def]
        """Run the dispatcher with this sender until it dies; the real one is back after."""
        pro = world.app.extensions["pro"]
        pro["sms_sender"] = self
        try:
            world.dispatch()
        except ProcessDeath:
            pass
        else:
            raise AssertionError("the dispatcher never reached the fatal call")
        finally:
            pro["sms_sender"] = self.real


def queue_day7_reminders(ctx, p: Participant, channel: str, first_occurrence: int,  # type: ignore[no-untyped-def]
                         count: int) -> None:
    """`count` manual reminders on `channel` for `p`'s Day 7 survey, all due now (distinct
    occurrences, so distinct deduplication keys); added to the session, not committed."""
    now = ctx.now()
    a = ctx.session.scalar(select(Assessment).where(
        Assessment.participant_id == p.id, Assessment.code == "INF1_D7"))
    for occurrence in range(first_occurrence, first_occurrence + count):
        ctx.session.add(OutboxMessage(
            participant_id=p.id, study_id=p.study_id, site_id=p.site_id, channel=channel,
            purpose="survey_reminder", target_kind="assessment", target_id=a.id,
            occurrence=occurrence, language="en", status="pending", due_at=now,
            expires_at=a.window_end, next_attempt_at=now, status_updated_at=now,
            created_at=now, updated_at=now,
            dedup_key=dedup_key(p.id, "survey_reminder", "assessment", a.id, occurrence,
                                channel=channel)))


def queue_bulk(ctx_factory, pids: list[int], per_participant: int) -> None:  # type: ignore[no-untyped-def]
    """`per_participant` manual SMS reminders for each participant's Day 7 survey, all due
    now (distinct deduplication keys)."""
    ctx = ctx_factory()
    for pid in pids:
        queue_day7_reminders(ctx, ctx.session.get(Participant, pid), "sms", 10_000,
                             per_participant)
    ctx.session.commit()


def scheduler_env(database, now: datetime, tmp_path, fake: FakeTwilio, *,  # type: ignore[no-untyped-def]
                  timeout_seconds: float = 5, log_level: str = "WARNING") -> dict[str, str]:
    """The environment of a `flask --app wsgi pro ...` process on the test database, its
    clock fixed at `now`, texting through the fake Twilio."""
    return {
        **os.environ, "DATABASE_URL": database.url, "PRO_FAKE_NOW": now.isoformat(),
        "PRO_INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "s" * 40,
        "PRO_DATA_KEYS": TEST_DATA_KEY, "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": MESSAGING_SERVICE_SID,
        "TWILIO_API_BASE_URL": fake.base_url, "TWILIO_TIMEOUT_SECONDS": str(timeout_seconds),
        "LOG_LEVEL": log_level,
    }
