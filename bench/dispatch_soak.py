"""Soak: N due SMS on PostgreSQL, the real `pro scheduler` killed (kill -9) K times at
seeded random moments and stopped once with SIGTERM, the fake Twilio failing a share of the
create calls (429, 500, connection reset). When the outbox has settled it prints, per row:
sent once / sent twice / never sent / in review / still queued, and exits 1 unless every
row was sent exactly once (issue 19's acceptance: 10,000, 5 kills, 1 SIGTERM, 30 %).

Each message goes to a participant's phone as a help reply (no survey window needed); five
messages per participant, so that lookups must tell apart texts that look alike. Messages
are counted at the fake Twilio, by provider id, against the rows.

Run: `.venv/bin/python bench/dispatch_soak.py [--messages 10000] [--kills 5]
[--fault-rate 0.3] [--seed 19] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]`
(a scratch database is created next to the one named, and dropped at the end).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pro_server import create_app, crypto
from pro_server.config import load_settings
from pro_server.context import Actor, ServiceContext
from pro_server.messaging.models import OutboxMessage
from pro_server.messaging.planning import dedup_key
from pro_server.migrate import upgrade
from pro_server.participants.models import Participant, ParticipantStatus
from pro_server.studies.services import create_site, create_study
from tests.fakes.fake_twilio import FakeTwilio

REPO_ROOT = Path(__file__).resolve().parents[1]
# The server a scratch database is created on (and dropped from) unless --database-url.
DEFAULT_DATABASE_URL = os.environ.get("TEST_POSTGRES_URL",
                                      "postgresql+psycopg://postgres@127.0.0.1:5432/test")

ACCOUNT_SID = "AC" + "5e" * 16
AUTH_TOKEN = "soak-auth-token-0123456789abcdef"  # noqa: S105 - the fake's fake secret
SERVICE_SID = "MG" + "5e" * 16
DATA_KEY = "p3bPZ3rM2Dcv6nW8gYhRk5rj2oGkzV9i-kYx7x4sN0E="  # a scratch database's key
PER_PARTICIPANT = 5
SCHEDULER = [sys.executable, "-m", "flask", "--app", "wsgi", "pro", "scheduler"]
RUN_ONCE = [sys.executable, "-m", "flask", "--app", "wsgi", "pro", "jobs", "run-once"]


def scratch_database(base_url: str) -> str:
    url = make_url(base_url)
    name = f"soak_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(base_url: str, url: str) -> None:
    admin = create_engine(make_url(base_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def environment(database_url: str, fake: FakeTwilio, instance: str) -> dict[str, str]:
    # Enough attempts that a 30 % fault rate never exhausts them (0.3 ** 40); Twilio's
    # 20429 / 20500 have rules of their own, which keep the default limit unless named.
    retry = {"action": "retry", "max_attempts": 40}
    policy = {"retry_max_attempts": 40, "codes": {"20429": retry, "20500": retry},
              "retry_backoff": {"multiplier_seconds": 0.2, "max_seconds": 2,
                                "jitter_seconds": 0.2}}
    return {**os.environ, "DATABASE_URL": database_url, "PRO_INSTANCE_PATH": instance,
            "SECRET_KEY": "soak-" + "k" * 40, "PRO_DATA_KEYS": DATA_KEY, "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID, "TWILIO_API_BASE_URL": fake.base_url,
            "TWILIO_TIMEOUT_SECONDS": "2", "TWILIO_ERROR_POLICY": json.dumps(policy),
            "LOG_LEVEL": os.environ.get("SOAK_LOG_LEVEL", "WARNING")}


def texting_study(session, pro, code: str, people: int, now: datetime):  # type: ignore[no-untyped-def]
    """A study with one site and `people` participants with a phone and SMS consent:
    (study, site, participant ids in id order)."""
    ctx = ServiceContext.of_app(pro, Actor.system("bench"), session=session)
    study = create_study(ctx, code=code, name=f"{code} bench", registry_id=None,
                         default_timezone="America/New_York", program_name="Check-in",
                         protocol_code="RES001-DMPM-02")
    site = create_site(ctx, study, code="S1", name="Site 1", timezone="America/New_York",
                       contact_phone="+13525550100")
    session.commit()
    phones = [f"+1352{n:07d}" for n in range(people)]
    session.execute(insert(Participant), [{
        "study_id": study.id, "site_id": site.id, "subject_key": f"{code}-{n:05d}",
        "status": ParticipantStatus.enrolled, "language": "en",
        "timezone": "America/New_York", "phone": phone,
        "phone_lookup": ctx.settings.keyring.lookup_hash(phone), "sms_consent": True,
        "sms_consent_at": now, "sms_consent_source": "bench", "reminder_time": "10:00",
        "protocol_version": "2",
        "created_at": now, "updated_at": now} for n, phone in enumerate(phones)])
    pids = session.scalars(select(Participant.id).where(Participant.study_id == study.id)
                           .order_by(Participant.id)).all()
    return study, site, pids


def load(env: dict[str, str], messages: int) -> int:
    """A study, messages / 5 participants with SMS consent, 5 due help replies each."""
    app = create_app(load_settings(env))
    pro = app.extensions["pro"]
    upgrade(pro["engine"])
    now = datetime.now(UTC)
    with pro["session_factory"]() as session:
        study, site, pids = texting_study(session, pro, "SOAK", -(-messages // PER_PARTICIPANT),
                                          now)
        rows = []
        for n in range(messages):
            pid = pids[n // PER_PARTICIPANT]
            rows.append({
                "participant_id": pid, "study_id": study.id, "site_id": site.id,
                "channel": "sms", "purpose": "help_reply", "target_kind": "participant",
                "target_id": pid, "occurrence": n, "language": "en", "status": "pending",
                "dedup_key": dedup_key(pid, "help_reply", "participant", pid, n,
                                       channel="sms"),
                "due_at": now, "next_attempt_at": now, "attempts": 0,
                "included_opt_out": False, "outcome_unknown": False, "needs_review": False,
                "status_updated_at": now, "created_at": now, "updated_at": now})
        for start in range(0, len(rows), 5000):
            session.execute(insert(OutboxMessage), rows[start:start + 5000])
        session.commit()
    pro["engine"].dispose()
    return messages


def sent_count(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == "sent")) or 0


def open_count(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status.in_(("pending", "sending")),
            OutboxMessage.needs_review.is_(False))) or 0


def tally(engine, fake: FakeTwilio) -> Counter:  # type: ignore[no-untyped-def]
    """Per row: sent once / sent twice / never sent / in review / still queued."""
    at_fake = Counter(m.sid for m in fake.messages)
    per_phone = Counter(m.to for m in fake.messages)
    with engine.connect() as conn:
        rows = conn.execute(select(OutboxMessage.participant_id, OutboxMessage.status,
                                   OutboxMessage.provider_message_id,
                                   OutboxMessage.needs_review)).all()
        phones = dict(conn.execute(select(Participant.id, Participant.phone)).all())
    recorded = Counter(phones[r.participant_id] for r in rows
                       if r.provider_message_id in at_fake)
    # Texts at the provider that no row records: a row's message went out twice.
    extra = {phone: per_phone[phone] - recorded[phone] for phone in per_phone}
    result: Counter = Counter()
    for r in rows:
        phone = phones[r.participant_id]
        if r.needs_review:
            result["in review"] += 1
        elif r.status in ("pending", "sending"):
            result["still queued"] += 1
        elif r.provider_message_id in at_fake and at_fake[r.provider_message_id] == 1:
            if extra.get(phone, 0) > 0:
                extra[phone] -= 1
                result["sent twice"] += 1
            else:
                result["sent once"] += 1
        else:
            result["never sent"] += 1
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--fault-rate", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--port", type=int, default=0, help="fake Twilio port (0: any)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args()
    rng = random.Random(args.seed)  # the moments of the kills
    fake = FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, port=args.port,
                      hold_seconds=3)
    fake.set_failure_rate(args.fault_rate, seed=args.seed)
    database_url = scratch_database(args.database_url)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory() as instance:
            env = environment(database_url, fake, instance)
            load(env, args.messages)
            loaded = time.monotonic()
            print(f"loaded {args.messages} due messages in {loaded - started:.1f} s")
            engine = create_engine(make_url(database_url))
            crypto.bind(engine, load_settings(env).keyring)  # the phones are read back
            # Kills land at seeded moments while the scheduler is sending.
            for n in range(args.kills + 1):
                log = open(Path(instance) / f"scheduler-{n}.log", "w")  # noqa: SIM115
                proc = subprocess.Popen(SCHEDULER, cwd=REPO_ROOT, env=env,  # noqa: S603
                                        stdout=subprocess.DEVNULL, stderr=log)
                log.close()
                before = sent_count(engine)
                wanted = before + rng.randint(200, max(201, args.messages // (args.kills + 3)))
                while sent_count(engine) < wanted and open_count(engine) and proc.poll() is None:
                    time.sleep(0.1)
                if n < args.kills:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    print(f"kill -9 #{n + 1} at {sent_count(engine)} sent")
                    continue
                asked = time.monotonic()
                proc.send_signal(signal.SIGTERM)
                code = proc.wait(timeout=120)
                print(f"SIGTERM at {sent_count(engine)} sent: exit {code} after "
                      f"{time.monotonic() - asked:.1f} s")
                if code != 0:
                    print((Path(instance) / f"scheduler-{n}.log").read_text()[-3000:])
                    return 1
            # Settle: run the jobs until nothing is queued (a killed sender's lease ends
            # after 60 s; retries back off up to 2 s).
            while open_count(engine):
                subprocess.run(RUN_ONCE, cwd=REPO_ROOT, env=env, check=True,  # noqa: S603
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                if open_count(engine):
                    time.sleep(2)
            counts = tally(engine, fake)
            with engine.connect() as conn:
                reasons = conn.execute(
                    select(OutboxMessage.review_reason, func.count())
                    .where(OutboxMessage.needs_review.is_(True))
                    .group_by(OutboxMessage.review_reason).limit(5)).all()
            for reason, count in reasons:
                print(f"  in review: {count} x {reason}")
            engine.dispose()
    finally:
        fake.stop()
        drop_database(args.database_url, database_url)
    elapsed = time.monotonic() - started
    print(f"messages {args.messages}, kill -9 x{args.kills}, SIGTERM x1, "
          f"faults {args.fault_rate:.0%} (seed {args.seed}); provider calls "
          f"{fake.request_count}; {elapsed:.0f} s in all")
    for label in ("sent once", "sent twice", "never sent", "in review", "still queued"):
        print(f"  {label:<13} {counts[label]:>6}")
    return 0 if counts["sent once"] == args.messages else 1


if __name__ == "__main__":
    raise SystemExit(main())
