"""The dispatcher job: sends due outbox rows, at most once per deduplication key.

1. Claim (one short transaction per batch): due `pending` rows, locked with FOR UPDATE
   SKIP LOCKED on PostgreSQL so two dispatchers never hold the same row. Each is checked
   again (withdrawn, opted out, survey done, visit moved, past its event, quiet hours); an
   SMS that may go is rendered with a fresh link and marked `sending`, held by this
   process (`claimed_by`) for a lease. Commit.
2. Send, one message at a time: `attempted_at` is committed just before the row's own
   provider call (no transaction open during the call), renewing the lease on the rest.
3. Record (one transaction per message): sent, retry later, or stopped with a reason.

Only the row in flight can be ambiguous. A stop (SIGTERM) or an error releases the rest of
the batch at once; a process that died leaves its rows to its lease: claimed rows never
attempted go back to the queue (at once when the holder is known dead on this host), an
attempted row is settled by the provider's list (`find_sent`) once the lease ends (or, its
holder known dead, once its call would have timed out): found, recorded sent; not
found, sent again once the provider is asked once more; the list unavailable, asked again
later, and shown to staff only when it stays unavailable past `review_after`.

A timed-out call is never simply repeated: the provider is asked first, now and before any
later attempt.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, case, func, inspect, or_, select, update
from sqlalchemy.orm import Session, aliased, joinedload

from pro_server.context import ServiceContext
from pro_server.db import claim, rows_changed
from pro_server.messaging import mail, outbox, outcomes, push, templates
from pro_server.messaging.mail import EmailRefused, EmailSender
from pro_server.messaging.models import OutboxMessage
from pro_server.messaging.planning import visit_occurrence
from pro_server.messaging.policy import opt_out_every
from pro_server.messaging.provider_errors import ErrorAction, ErrorPolicy, ErrorRule
from pro_server.messaging.purposes import REPLY_PURPOSES, MessageStatus, Purpose
from pro_server.messaging.push import PushGone, PushSender, PushTarget
from pro_server.messaging.sms_backends import (
    ProviderError,
    ProviderTimeout,
    RetryableKind,
    SmsError,
    SmsSender,
)
from pro_server.messaging.sms_state import opt_out_waiting_lookups, sms_block_reason
from pro_server.participants import reminder_channels
from pro_server.participants.links import link_url, new_link, store_links
from pro_server.participants.models import (
    EmailFlag,
    Participant,
    ParticipantStatus,
    PushSubscription,
)
from pro_server.participants.reminder_channels import Channel
from pro_server.schedule.models import Assessment, Visit

log = logging.getLogger(__name__)

_Target = TypeVar("_Target", Assessment, Visit)  # what a message is about

LINK_PLACEHOLDER = "[link]"
SENT_OR_SENDING = (MessageStatus.SENDING.value, MessageStatus.SENT.value,
                   MessageStatus.DELIVERED.value, MessageStatus.UNDELIVERED.value)
_TIMEOUT_RULE = ErrorRule(ErrorAction.RETRY)
_PROCESS_NONCE = secrets.token_hex(4)
_COLUMNS = tuple(c.key for c in inspect(OutboxMessage).column_attrs if c.key != "id")
_RELEASED = "claimed by a dispatcher that stopped before sending it; back in the queue"


def process_owner() -> str:
    """This process as a row holder: host:pid:nonce (the nonce tells a restarted process
    that reuses a pid, as in a container, from its predecessor)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_PROCESS_NONCE}"


def owner_is_gone(owner: str) -> bool:
    """True only when `owner` is known dead: a process of this host that no longer runs."""
    host, _, rest = owner.partition(":")
    pid_text, _, nonce = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return nonce != _PROCESS_NONCE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
# What staff read on a text the service did not send because it runs without SMS.
SMS_DISABLED = "not sent (SMS disabled)"
PUSH_DISABLED = "not sent (push notifications are not configured)"
EMAIL_DISABLED = "not sent (email is not configured)"


@dataclass(frozen=True)
class Outgoing:
    """An SMS marked `sending`, with what the provider call needs (the body only in memory)."""

    row_id: int
    to: str
    body: str
    redacted: str
    started_at: datetime
    status_callback: str | None
    # An earlier attempt's outcome is unknown: ask the provider for messages since then.
    verify_since: datetime | None
    # Provider ids of the participant's other messages: never taken for this one.
    others: frozenset[str] = frozenset()
    channel: str = Channel.SMS.value
    # Push: the participant's devices, and the Topic that makes a resend replace a copy.
    push_targets: tuple[PushTarget, ...] = ()
    topic: str = ""
    # Email: the message as it goes out (its Message-ID is the row's, every attempt).
    email: EmailMessage | None = None


@dataclass(frozen=True)
class Outcome:
    kind: str  # sent | error | timeout | refused (push: no device took it; email: 5xx)
    provider_id: str | None = None
    error: ProviderError | None = None
    note: str | None = None
    # Push subscriptions the push service says are gone (404/410), and those that took it.
    gone: tuple[int, ...] = ()
    accepted: tuple[int, ...] = ()
    # Email refused for good: the SMTP code, and whether it was a complaint (5.7.x).
    bounce: EmailRefused | None = None


@dataclass
class _Batch:
    """What one claim transaction reads once for all its rows, in a few statements per
    batch and none per row: participants (with site and study), targets, each SMS
    participant's opt-out notice state and possible opt-outs waiting for staff. The
    session's identity map holds objects only weakly: the batch keeps them."""

    participants: dict[int, Participant] = field(default_factory=dict)
    targets: dict[tuple[str, int], Assessment | Visit | None] = field(default_factory=dict)
    # participant id -> (time of the last SMS with the notice, SMS sent since)
    notices: dict[int, tuple[datetime | None, int]] = field(default_factory=dict)
    # phone lookups with a reply that may be an opt-out, waiting for staff
    opt_out_waiting: set[str] = field(default_factory=set)
    # the links of the batch's texts, stored together before the claim commits
    links: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, session: Session, rows: list[OutboxMessage], *, sms: bool) -> _Batch:
        """`sms`: whether SMS rows may go out (else their per-SMS state is not needed)."""
        batch = cls()
        ids = {row.participant_id for row in rows}
        if not ids:
            return batch
        batch.participants = {p.id: p for p in session.scalars(
            select(Participant).where(Participant.id.in_(ids))
            .options(joinedload(Participant.site), joinedload(Participant.study)))}

        def load_targets(kind: str, model: type[_Target]) -> None:
            wanted = {row.target_id for row in rows if row.target_kind == kind}
            if wanted:
                found = {t.id: t for t in session.scalars(
                    select(model).where(model.id.in_(wanted)))}
                batch.targets.update({(kind, i): found.get(i) for i in wanted})

        load_targets("assessment", Assessment)
        load_targets("visit", Visit)
        texted = {row.participant_id for row in rows if row.channel == Channel.SMS.value}
        if sms and texted:
            batch.notices = _notice_states(session, texted)
            batch.opt_out_waiting = opt_out_waiting_lookups(
                session, (batch.participants[i].phone_lookup or "" for i in texted
                          if i in batch.participants))
        return batch

    def target(self, row: OutboxMessage) -> Assessment | Visit | None:
        return self.targets.get((row.target_kind, row.target_id))

    def waiting(self, p: Participant) -> bool:
        return bool(p.phone_lookup) and p.phone_lookup in self.opt_out_waiting

    def link(self, ctx: ServiceContext, p: Participant) -> str:
        """A fresh link for one text (every text carries its own); stored by `write`."""
        url, row = new_link(ctx, p.id)
        self.links.append(row)
        return url

    def write(self, ctx: ServiceContext, rows: list[OutboxMessage]) -> None:
        """The batch's links in one INSERT, and its rows in one UPDATE: each row's values of
        every column any of them changed (the unit of work would send one UPDATE per run
        of rows with the same changed columns, SMS and web rows alternating)."""
        states = [inspect(row) for row in rows]
        changed = sorted({key for state in states for key in _COLUMNS
                          if state.attrs[key].history.has_changes()})
        values = [{"id": row.id, **{key: getattr(row, key) for key in changed}}
                  for row in rows]
        for row in rows:
            ctx.session.expunge(row)  # written below, not by a flush (autoflush included)
        store_links(ctx, self.links)
        if changed:
            ctx.session.execute(update(OutboxMessage), values)


def _notice_states(session: Session, participant_ids: set[int]
                   ) -> dict[int, tuple[datetime | None, int]]:
    """Per participant: the last SMS that carried the opt-out notice and how many SMS went
    since (one statement for the batch; participants without a notice yet are absent)."""
    def sms(model: type[OutboxMessage]) -> tuple[ColumnElement[bool], ...]:
        return (model.channel == Channel.SMS.value, model.status.in_(SENT_OR_SENDING))

    last = (select(OutboxMessage.participant_id, OutboxMessage.id,
                   OutboxMessage.last_attempt_at,
                   func.row_number().over(
                       partition_by=OutboxMessage.participant_id,
                       order_by=(OutboxMessage.last_attempt_at.desc(),
                                 OutboxMessage.id.desc())).label("n"))
            .where(OutboxMessage.participant_id.in_(participant_ids), *sms(OutboxMessage),
                   OutboxMessage.included_opt_out.is_(True))
            .subquery())
    later = aliased(OutboxMessage)
    since = (select(func.count()).select_from(later)
             .where(later.participant_id == last.c.participant_id, *sms(later),
                    later.last_attempt_at >= last.c.last_attempt_at, later.id != last.c.id)
             .scalar_subquery())
    return {pid: (at, count or 0) for pid, at, count in session.execute(
        select(last.c.participant_id, last.c.last_attempt_at, since).where(last.c.n == 1))}


def link_redactor(ctx: ServiceContext) -> Callable[[str], str]:
    """Replaces participant links (their token is a credential) by a placeholder."""
    pattern = re.compile(re.escape(link_url(ctx, "")) + r"[A-Za-z0-9_\-]+")
    return lambda text: pattern.sub(LINK_PLACEHOLDER, text)


class Dispatcher:
    def __init__(self, sender: SmsSender | None, *, status_callback_url: str | None,
                 error_policy: ErrorPolicy | None = None, batch_size: int = 100,
                 lease: timedelta = timedelta(seconds=60),
                 recheck_after: timedelta = timedelta(minutes=1),
                 review_after: timedelta = timedelta(minutes=15),
                 call_timeout: timedelta = timedelta(seconds=10),
                 stopping: threading.Event | None = None, owner: str | None = None,
                 push_sender: PushSender | None = None,
                 email_sender: EmailSender | None = None,
                 email_from: str = "") -> None:
        self.sender = sender
        self.push_sender = push_sender
        self.email_sender = email_sender
        self.email_from = email_from
        # Rows queued on a participant's next channel in this run: sent in this run too.
        self._fell_back = 0
        self.status_callback_url = status_callback_url
        self.error_policy = error_policy or ErrorPolicy()
        self.batch_size = batch_size
        # Longer than one provider call (its timeout): a held row whose lease ran out
        # belongs to a process that is gone.
        self.lease = lease
        # The provider call's own timeout: a dead holder's call cannot outlast it.
        self.call_timeout = call_timeout
        self.recheck_after = recheck_after
        self.review_after = review_after
        self.stopping = stopping or threading.Event()
        self.owner = owner or process_owner()
        self._redact: Callable[[str], str] = lambda text: text

    def run(self, new_context: Callable[[], ServiceContext]) -> int:
        """Everything due now; returns how many rows it dealt with (sent, stopped, deferred).
        Returns early, its batch released, once `stopping` is set."""
        ctx = new_context()  # no connection is opened: the settings are all it is used for
        self._redact = link_redactor(ctx)
        ctx.session.close()
        done = self.recover(new_context)
        while not self.stopping.is_set():
            self._fell_back = 0
            claimed, handled, outgoing = self._claim(new_context)
            done += handled
            if outgoing:
                done += self._send_batch(new_context, outgoing)
            if claimed < self.batch_size and not self._fell_back:
                break
        return done

    def _send_batch(self, new_context: Callable[[], ServiceContext],
                    outgoing: list[Outgoing]) -> int:
        done = 0
        waiting = list(reversed(outgoing))
        try:
            ctx = new_context()
            with ctx.session:
                while waiting and not self.stopping.is_set():
                    out = waiting.pop()
                    if self._begin_attempt(ctx, out):
                        deliver = {Channel.PUSH.value: self._deliver_push,
                                   Channel.EMAIL.value: self._deliver_email,
                                   }.get(out.channel, self._deliver)
                        done += self._record(ctx, out, deliver(out))
        finally:
            # A stop or an error: the rows not attempted go back to the queue now.
            if waiting:
                self._release(new_context, [out.row_id for out in waiting])
        return done

    def _begin_attempt(self, ctx: ServiceContext, out: Outgoing) -> bool:
        """Record that this row's provider call starts (committed before the call) and
        renew the lease on the rest of the batch. False: the row is no longer ours."""
        now = ctx.now()
        mine = (OutboxMessage.status == MessageStatus.SENDING.value,
                OutboxMessage.claimed_by == self.owner, OutboxMessage.attempted_at.is_(None))
        this = OutboxMessage.id == out.row_id
        # One statement: this row's attempt starts, every row still ours keeps its lease.
        held = ctx.session.scalars(
            update(OutboxMessage).where(*mine).values(
                attempted_at=case((this, now), else_=OutboxMessage.attempted_at),
                last_attempt_at=case((this, now), else_=OutboxMessage.last_attempt_at),
                attempts=case((this, OutboxMessage.attempts + 1),
                              else_=OutboxMessage.attempts),
                updated_at=case((this, now), else_=OutboxMessage.updated_at),
                lease_until=now + self.lease,
            ).returning(OutboxMessage.id).execution_options(synchronize_session=False)).all()
        ctx.session.commit()
        return out.row_id in held

    def _release(self, new_context: Callable[[], ServiceContext], row_ids: list[int]) -> None:
        """Back to the queue: rows this process claimed and never attempted."""
        try:
            ctx = new_context()
            with ctx.session:
                ctx.session.execute(
                    update(OutboxMessage).where(
                        OutboxMessage.id.in_(row_ids),
                        OutboxMessage.status == MessageStatus.SENDING.value,
                        OutboxMessage.claimed_by == self.owner,
                        OutboxMessage.attempted_at.is_(None),
                    ).values(**self._released_values(ctx))
                    .execution_options(synchronize_session=False))
                ctx.session.commit()
        except Exception:  # the database is away: the lease releases them instead
            log.exception("could not release %d claimed outbox messages", len(row_ids))
            return
        log.info("released %d claimed outbox messages back to the queue", len(row_ids))

    @staticmethod
    def _released_values(ctx: ServiceContext) -> dict[str, object]:
        now = ctx.now()
        return {"status": MessageStatus.PENDING.value, "claimed_by": None, "lease_until": None,
                "status_reason": _RELEASED, "status_updated_at": now, "updated_at": now}

    # -- 1. claim ----------------------------------------------------------------------------

    def _claim(self, new_context: Callable[[], ServiceContext]
               ) -> tuple[int, int, list[Outgoing]]:
        ctx = new_context()
        with ctx.session:
            now = ctx.now()
            due = (select(OutboxMessage)
                   .where(OutboxMessage.status == MessageStatus.PENDING.value,
                          OutboxMessage.next_attempt_at <= now)
                   .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                   .limit(self.batch_size))
            rows = list(ctx.session.scalars(claim(due, ctx.session)))
            handled, outgoing = 0, []
            batch = _Batch.load(ctx.session, rows, sms=self.sender is not None)
            for row in rows:
                try:
                    out = self._prepare(ctx, row, now, batch)
                except Exception as exc:  # a bad row (no template value...) must not stop others
                    log.exception("outbox message %s could not be prepared", row.id)
                    outcomes.finish(ctx, row, MessageStatus.FAILED, "could not be prepared",
                                    review=f"The message could not be prepared: {exc}")
                    out = None
                if out is None:
                    handled += 1
                else:
                    outgoing.append(out)
            batch.write(ctx, rows)
            ctx.session.commit()
        return len(rows), handled, outgoing

    def _prepare(self, ctx: ServiceContext, row: OutboxMessage, now: datetime,
                 batch: _Batch) -> Outgoing | None:
        """Settle the row now (cancelled, suppressed, deferred, web notice shown) or mark it
        `sending` and return what to send."""
        p = batch.participants.get(row.participant_id) or row.participant
        purpose = Purpose(row.purpose)
        target = batch.target(row)
        stop = self._stop_reason(row, target, p, now)
        if stop is not None:
            outcomes.finish(ctx, row, *stop)
            return None
        if row.channel == Channel.WEB.value:
            row.body_redacted = self._render(row, target, p, LINK_PLACEHOLDER,
                                             include_opt_out=False)
            row.language = templates.normalize_language(p.language)
            outcomes.finish(ctx, row, MessageStatus.SENT, None)
            row.sent_at = now
            return None
        if row.channel == Channel.PUSH.value:
            return self._prepare_push(ctx, row, p, now)
        if row.channel == Channel.EMAIL.value:
            return self._prepare_email(ctx, row, p, now, batch, target)
        if self.sender is None:
            self._fall_back(ctx, row, MessageStatus.NOT_SENT, SMS_DISABLED)
            return None
        blocked = sms_block_reason(p, purpose, opt_out_waiting=batch.waiting(p))
        if blocked:
            self._fall_back(ctx, row, MessageStatus.SUPPRESSED, blocked)
            return None
        if self._defer_for_quiet_hours(ctx, row, now):
            return None
        if self._site_has_no_phone(ctx, row, p):
            return None
        include_opt_out = self._opt_out_notice_due(p, now, batch.notices)
        link = batch.link(ctx, p) if templates.needs_link(purpose) else None
        body = self._render(row, target, p, link, include_opt_out=include_opt_out)
        redacted = body.replace(link, LINK_PLACEHOLDER) if link else body
        verify_since = row.due_at if row.outcome_unknown else None
        self._mark_sending(row, now)
        row.body_redacted = redacted
        row.included_opt_out = include_opt_out
        callback = (f"{self.status_callback_url}?m={row.id}&a={row.attempts + 1}"
                    if self.status_callback_url else None)
        others = self._recorded_ids(ctx, row) if verify_since else frozenset()
        return Outgoing(row.id, p.phone or "", body, redacted, now, callback, verify_since,
                        others)

    def _defer_for_quiet_hours(self, ctx: ServiceContext, row: OutboxMessage,
                               now: datetime) -> bool:
        """True when the row waits for the end of the participant's quiet hours (or is
        suppressed because they last past its event)."""
        allowed_at = outcomes.later_allowed(row, now)
        if allowed_at <= now:
            return False
        if row.expires_at is not None and allowed_at >= row.expires_at:
            outcomes.finish(ctx, row, MessageStatus.SUPPRESSED,
                            "quiet hours last until after the event it is about")
        else:
            row.next_attempt_at = allowed_at
            row.status_reason = "waiting for the end of quiet hours"
            row.updated_at = now
        return True

    def _mark_sending(self, row: OutboxMessage, now: datetime) -> None:
        row.status = MessageStatus.SENDING
        row.status_reason = None
        row.claimed_by = self.owner
        row.lease_until = now + self.lease
        row.attempted_at = None  # set when its own provider call starts
        row.last_attempt_at = now
        row.status_updated_at = now
        row.updated_at = now
        row.language = templates.normalize_language(row.participant.language)

    def _prepare_push(self, ctx: ServiceContext, row: OutboxMessage, p: Participant,
                      now: datetime) -> Outgoing | None:
        """A push notification to each of the participant's devices, or the next channel
        when push cannot deliver (not configured, no device subscribed)."""
        if self.push_sender is None:
            self._fall_back(ctx, row, MessageStatus.NOT_SENT, PUSH_DISABLED)
            return None
        devices = push.targets(ctx, p)
        if not devices:
            self._fall_back(ctx, row, MessageStatus.SUPPRESSED,
                            "no device subscribed to notifications")
            return None
        if self._defer_for_quiet_hours(ctx, row, now):
            return None
        topic = f"pro-{row.id}"
        body = push.notification(row.purpose, p.language, topic)
        self._mark_sending(row, now)
        row.body_redacted = body
        row.included_opt_out = False
        return Outgoing(row.id, "", body, body, now, None, None, channel=Channel.PUSH.value,
                        push_targets=devices, topic=topic)

    def _prepare_email(self, ctx: ServiceContext, row: OutboxMessage, p: Participant,
                       now: datetime, batch: _Batch, target: Assessment | Visit | None
                       ) -> Outgoing | None:
        """An email to the participant's address, or the next channel when email cannot
        deliver (not configured, no address, the address bounced or unsubscribed)."""
        if self.email_sender is None:
            self._fall_back(ctx, row, MessageStatus.NOT_SENT, EMAIL_DISABLED)
            return None
        if not p.email or p.email_flag:
            why = (mail.FLAG_REASONS[p.email_flag] if p.email_flag
                   else "no email address")
            self._fall_back(ctx, row, MessageStatus.SUPPRESSED, why)
            return None
        if self._defer_for_quiet_hours(ctx, row, now):
            return None
        if self._site_has_no_phone(ctx, row, p):
            return None
        link = batch.link(ctx, p) if templates.needs_link(row.purpose) else None
        text = self._render(row, target, p, link, include_opt_out=False)
        unsubscribe = mail.unsubscribe_url(ctx.settings, p)
        subject = mail.subject(row.purpose, p.language, p.study.program_name)
        message = mail.compose(
            row_id=row.id, to=p.email, email_from=self.email_from, subject_text=subject,
            text=mail.body(text, p.language, unsubscribe), unsubscribe_url=unsubscribe, at=now)
        redacted = text.replace(link, LINK_PLACEHOLDER) if link else text
        self._mark_sending(row, now)
        row.body_redacted = f"{subject}\n\n{redacted}"
        row.included_opt_out = False
        return Outgoing(row.id, p.email, "", row.body_redacted, now, None, None,
                        channel=Channel.EMAIL.value, email=message)

    @staticmethod
    def _site_has_no_phone(ctx: ServiceContext, row: OutboxMessage, p: Participant) -> bool:
        """Every text and email carries the site's phone: without it the row fails for staff
        to review rather than go out without a number to call."""
        if (p.site.contact_phone or "").strip():
            return False
        outcomes.finish(ctx, row, MessageStatus.FAILED, "the site has no contact phone",
                        review="Set the site's contact phone; messages must carry it.")
        return True

    def _fall_back(self, ctx: ServiceContext, row: OutboxMessage, status: MessageStatus,
                   reason: str, *, review: str | None = None) -> None:
        """Settle the row, and queue its message on the participant's next channel if
        there is one (replies to texts have none)."""
        nxt = (None if Purpose(row.purpose) in REPLY_PURPOSES
               else reminder_channels.after(row.participant.reminder_channels, row.channel))
        if nxt is not None:
            outbox.queue_fallback(ctx, row, nxt)
            self._fell_back += 1
            reason, review = f"{reason}; sent by {nxt.label} instead", None
        outcomes.finish(ctx, row, status, reason, review=review)

    @staticmethod
    def _recorded_ids(ctx: ServiceContext, row: OutboxMessage) -> frozenset[str]:
        """Provider ids already recorded for the participant's other rows since this one was
        due: texts that differ only by their link look alike once it is redacted."""
        return frozenset(ctx.session.scalars(
            select(OutboxMessage.provider_message_id).where(
                OutboxMessage.participant_id == row.participant_id, OutboxMessage.id != row.id,
                OutboxMessage.provider_message_id.is_not(None),
                OutboxMessage.updated_at >= row.due_at)))

    @staticmethod
    def _stop_reason(row: OutboxMessage, target: Assessment | Visit | None, p: Participant,
                     now: datetime) -> tuple[MessageStatus, str] | None:
        """Why the row must not be sent at all (any channel), or None."""
        purpose = Purpose(row.purpose)
        if row.target_kind == "assessment":
            a = target if isinstance(target, Assessment) else None
            if a is None or a.completed_at is not None:
                return MessageStatus.CANCELLED, "survey completed"
            if a.cancelled_at is not None:
                return MessageStatus.CANCELLED, "survey cancelled"
        elif row.target_kind == "visit":
            visit = target if isinstance(target, Visit) else None
            if visit is None or (visit.status == "cancelled"
                                 and purpose is not Purpose.VISIT_CANCELLED):
                return MessageStatus.CANCELLED, "visit cancelled"
            if visit_occurrence(visit.starts_at) != row.occurrence:
                return MessageStatus.CANCELLED, "visit rescheduled"
        if purpose not in REPLY_PURPOSES and p.status is not ParticipantStatus.enrolled:
            return MessageStatus.SUPPRESSED, f"participant {p.status.value}"
        if row.expires_at is not None and now >= row.expires_at:
            return MessageStatus.SUPPRESSED, "would arrive after the event it is about"
        return None

    @staticmethod
    def _render(row: OutboxMessage, target: Assessment | Visit | None, p: Participant,
                link: str | None, *, include_opt_out: bool) -> str:
        lang = p.language
        deadline = visit_time = None
        if isinstance(target, Assessment):
            deadline = templates.format_deadline(target.window_end, p.timezone, lang)
        elif isinstance(target, Visit):
            visit_time = templates.format_local_datetime(target.starts_at, p.timezone, lang)
        return templates.render(
            row.purpose, lang, program_name=p.study.program_name,
            site_phone=p.site.contact_phone or "", link=link, local_deadline_text=deadline,
            visit_time_text=visit_time, include_opt_out=include_opt_out,
        )

    @staticmethod
    def _opt_out_notice_due(p: Participant, now: datetime,
                            notices: dict[int, tuple[datetime | None, int]]) -> bool:
        """On the participant's first SMS, then every N (protocol) messages or 30 days.
        `notices` holds (last notice, messages since) per participant, read for the batch
        (absent: no notice sent yet) and kept up to date within it."""
        last_at, since = notices.get(p.id, (None, 0))
        # "Every N": the notice goes on message 1, N+1, 2N+1, ...
        due = last_at is None or templates.opt_out_notice_due(
            since + 1, last_at, now, every_messages=opt_out_every(p))
        notices[p.id] = (now, 0) if due else (last_at, since + 1)
        return due

    # -- 2. send -----------------------------------------------------------------------------

    def _sms(self) -> SmsSender:
        if self.sender is None:  # without one, an SMS row is settled, never sent (_prepare)
            raise RuntimeError("SMS is disabled (SMS_BACKEND=none)")
        return self.sender

    def _push(self) -> PushSender:
        if self.push_sender is None:  # without one, a push row falls back (_prepare_push)
            raise RuntimeError("Web Push is disabled (no VAPID keys)")
        return self.push_sender

    def _email(self) -> EmailSender:
        if self.email_sender is None:  # without one, an email row falls back (_prepare_email)
            raise RuntimeError("email is disabled (no EMAIL_BACKEND)")
        return self.email_sender

    def _deliver(self, out: Outgoing) -> Outcome:
        if out.verify_since is not None:
            found, failed = self._lookup(out.to, out.verify_since, out.redacted,
                                         normalize=self._redact, exclude=out.others)
            if failed:
                return Outcome("timeout", note=f"an earlier attempt timed out; the check "
                                               f"failed too ({failed})")
            if found:
                return Outcome("sent", found, note="found at the provider after a timeout")
        try:
            result = self._sms().send(out.to, out.body, status_callback=out.status_callback)
        except ProviderError as exc:
            return Outcome("error", error=exc)
        except (ProviderTimeout, Exception) as exc:
            if not isinstance(exc, ProviderTimeout):
                log.exception("outbox message %s: unexpected error from the sender", out.row_id)
            return self._after_timeout(out)
        return Outcome("sent", result.provider_id)

    def _deliver_push(self, out: Outgoing) -> Outcome:
        """To every device; sent when one push service took it. No push service lists what
        it accepted: an unknown outcome is sent again later under the same Topic."""
        accepted, gone, refused, retry = [], [], [], None
        for target in out.push_targets:
            try:
                self._push().send(target, out.body, topic=out.topic)
            except PushGone as exc:
                gone.append(target.subscription_id)
                refused.append(str(exc))
            except ProviderError as exc:
                if exc.retryable_kind is None:
                    refused.append(exc.message)
                else:
                    retry = retry or Outcome("error", error=exc)
            except Exception as exc:
                if not isinstance(exc, ProviderTimeout):
                    log.exception("outbox message %s: unexpected error from push", out.row_id)
                retry = retry or Outcome("timeout", note=f"push service: no answer ({exc})")
            else:
                accepted.append(target.subscription_id)
        if accepted:
            return Outcome("sent", note=f"accepted for {len(accepted)} device(s)",
                           gone=tuple(gone), accepted=tuple(accepted))
        if retry is not None:
            return Outcome(retry.kind, error=retry.error, note=retry.note, gone=tuple(gone))
        return Outcome("refused", note="push service refused: " + ", ".join(refused),
                       gone=tuple(gone))

    def _deliver_email(self, out: Outgoing) -> Outcome:
        """One SMTP transaction. A 5xx refusal is final (bounce, or complaint for 5.7.x); a
        4xx is retried later; a lost connection too, under the same Message-ID."""
        assert out.email is not None
        message_id = out.email["Message-ID"]
        try:
            self._email().send(out.email)
        except EmailRefused as exc:
            return Outcome("refused", note=f"mail server refused it: {exc}"[:300], bounce=exc)
        except ProviderError as exc:
            return Outcome("error", error=exc)
        except Exception as exc:
            if not isinstance(exc, ProviderTimeout):
                log.exception("outbox message %s: unexpected error from email", out.row_id)
            return Outcome("timeout", note=f"mail server: no answer ({exc})")
        return Outcome("sent", message_id[:64])

    def _after_timeout(self, out: Outgoing) -> Outcome:
        """The provider may have the message: ask before anything is sent again."""
        found, failed = self._lookup(out.to, out.started_at, out.body)
        if failed:
            return Outcome("timeout", note=f"no answer in time; the check failed too ({failed})")
        if found:
            return Outcome("sent", found, note="no answer in time, found at the provider")
        return Outcome("timeout", note="no answer in time; the provider had not recorded it")

    def _lookup(self, to: str, since: datetime, body: str,
                normalize: Callable[[str], str] | None = None,
                exclude: frozenset[str] = frozenset()) -> tuple[str | None, str | None]:
        """(provider id or None, None), or (None, why the provider could not be asked):
        a failed lookup leaves the outcome unknown, it never aborts the job."""
        try:
            return self._sms().find_sent(to, since, body, normalize=normalize,
                                         exclude=exclude), None
        except SmsError as exc:
            return None, str(exc) or type(exc).__name__
        except Exception as exc:
            log.exception("provider lookup failed unexpectedly")
            return None, repr(exc)

    # -- 3. record ---------------------------------------------------------------------------

    def _record(self, ctx: ServiceContext, out: Outgoing, outcome: Outcome) -> int:
        """One transaction per message, committed at once (a crash loses at most one)."""
        if outcome.gone:
            row = ctx.session.get(OutboxMessage, out.row_id)
            if row is not None:
                push.forget_gone(ctx, row.participant, list(outcome.gone),
                                 "the push service no longer knows it (404/410)")
        if outcome.accepted:
            ctx.session.execute(
                update(PushSubscription).where(PushSubscription.id.in_(outcome.accepted))
                .values(last_sent_at=ctx.now()).execution_options(synchronize_session=False))
        if outcome.kind == "sent":
            outcomes.record_sent(ctx, out.row_id, outcome.provider_id, outcome.note)
            ctx.session.commit()
            return 1
        row = ctx.session.get(OutboxMessage, out.row_id, with_for_update=True)
        if row is not None:
            if row.status != MessageStatus.SENDING.value:
                pass  # a status callback already told what became of this attempt
            elif outcome.kind == "refused" and outcome.bounce is not None:
                self._bounced(ctx, row, outcome.bounce)
            elif outcome.kind == "refused":
                row.claimed_by = row.lease_until = None
                row.last_error_message = (outcome.note or "")[:500]
                self._fall_back(ctx, row, MessageStatus.FAILED, outcome.note or "refused")
            elif out.channel == Channel.EMAIL.value:
                row.claimed_by = row.lease_until = None
                label = outcome.error.message if outcome.error else "mail server: no answer"
                if outcome.error is not None and outcome.error.http_status:
                    row.last_error_code = str(outcome.error.http_status)
                row.last_error_message = (outcome.note or label)[:500]
                outcomes.retry_or_give_up(ctx, row, _TIMEOUT_RULE, self.error_policy, label)
            elif out.channel == Channel.PUSH.value:
                row.claimed_by = row.lease_until = None
                label = (f"HTTP {outcome.error.http_status}" if outcome.error
                         else "no answer in time")
                row.last_error_message = (outcome.note or label)[:500]
                outcomes.retry_or_give_up(ctx, row, _TIMEOUT_RULE, self.error_policy,
                                          f"push service: {label}")
            elif outcome.kind == "error" and outcome.error is not None:
                exc = outcome.error
                outcomes.apply_provider_error(
                    ctx, row, self.error_policy, code=exc.code, http_status=exc.http_status,
                    network=exc.retryable_kind is RetryableKind.NETWORK, message=exc.message)
            else:
                row.outcome_unknown = True
                row.last_error_code = outcomes.TIMEOUT_CODE
                row.last_error_message = (outcome.note or "no answer in time")[:500]
                outcomes.retry_or_give_up(ctx, row, _TIMEOUT_RULE, self.error_policy,
                                          "no answer from the provider in time")
        ctx.session.commit()
        return 1

    def _bounced(self, ctx: ServiceContext, row: OutboxMessage, exc: EmailRefused) -> None:
        """Refused for good: the row failed with the code, the address is flagged (no more
        email to it until staff change it), the message goes on the next channel."""
        flag = EmailFlag.COMPLAINT if exc.complaint else EmailFlag.BOUNCED
        row.claimed_by = row.lease_until = None
        row.last_error_code = str(exc.code)
        row.last_error_message = f"SMTP {exc.code} {exc.detail}"[:500]
        what = "complaint" if exc.complaint else "bounced"
        self._fall_back(ctx, row, MessageStatus.FAILED, f"{what} (SMTP {exc.code})")
        mail.flag_address(ctx, row.participant, flag, f"SMTP {exc.code} {exc.detail}")

    # -- interrupted sends -------------------------------------------------------------------

    def recover(self, new_context: Callable[[], ServiceContext]) -> int:
        """Rows left `sending` by a dispatcher that is gone: the ones it never attempted back
        to the queue, the one it was sending settled with the provider."""
        return self._release_abandoned(new_context) + self._settle_interrupted(new_context)

    def _release_abandoned(self, new_context: Callable[[], ServiceContext]) -> int:
        ctx = new_context()
        with ctx.session:
            now = ctx.now()
            held = (OutboxMessage.status == MessageStatus.SENDING.value,
                    OutboxMessage.attempted_at.is_(None))
            gone = self._gone_holders(ctx, now, *held)
            released = rows_changed(ctx.session,
                update(OutboxMessage).where(
                    *held, or_(OutboxMessage.lease_until.is_(None),
                               OutboxMessage.lease_until < now,
                               OutboxMessage.claimed_by.in_(gone)))
                .values(**self._released_values(ctx))
                .execution_options(synchronize_session=False))
            ctx.session.commit()
        if released:
            log.warning("%d outbox messages claimed by a stopped dispatcher are back in the "
                        "queue", released)
        return released

    @staticmethod
    def _gone_holders(ctx: ServiceContext, now: datetime, *held: ColumnElement[bool]
                      ) -> list[str]:
        """Holders of leased `held` rows known dead (processes of this host that ended)."""
        owners = ctx.session.scalars(
            select(OutboxMessage.claimed_by).where(
                *held, OutboxMessage.lease_until >= now,
                OutboxMessage.claimed_by.like(f"{socket.gethostname()}:%"))
            .distinct()).all()
        return [owner for owner in owners if owner and owner_is_gone(owner)]

    def _settle_interrupted(self, new_context: Callable[[], ServiceContext]) -> int:
        """An attempt whose dispatcher died during the provider call: the provider's list
        says whether it has the message. Found: sent. Not found: another attempt (which asks
        once more first). List unavailable: ask again later; staff see the row only when
        it stays unavailable past `review_after`. Settled once the lease is over, or as
        soon as the holder is known dead and its call would have timed out anyway."""
        ctx = new_context()
        with ctx.session:
            now = ctx.now()
            attempted = (OutboxMessage.status == MessageStatus.SENDING.value,
                         OutboxMessage.needs_review.is_(False),
                         OutboxMessage.attempted_at.is_not(None))
            gone = self._gone_holders(ctx, now, *attempted,
                                      OutboxMessage.attempted_at < now - self.call_timeout)
            stale = (select(OutboxMessage)
                     .where(*attempted,
                            or_(OutboxMessage.lease_until.is_(None),
                                OutboxMessage.lease_until < now,
                                and_(OutboxMessage.claimed_by.in_(gone),
                                     OutboxMessage.attempted_at < now - self.call_timeout)))
                     .order_by(OutboxMessage.id).limit(self.batch_size))
            rows = list(ctx.session.scalars(claim(stale, ctx.session)))
            for row in rows:
                self._settle(ctx, row, now)
            ctx.session.commit()
        return len(rows)

    def _settle(self, ctx: ServiceContext, row: OutboxMessage, now: datetime) -> None:
        attempted = row.attempted_at or row.last_attempt_at or now
        known = f"attempt {row.attempts} started {attempted:%Y-%m-%d %H:%M UTC} and never finished"
        if row.channel in (Channel.PUSH.value, Channel.EMAIL.value):
            # Neither a push service nor a mail server can be asked what it took; the next
            # attempt goes under the same Topic (push: it replaces an undelivered copy) or
            # the same Message-ID (email: a copy is recognisable as the same message).
            row.claimed_by = row.lease_until = None
            outcomes.retry_or_give_up(ctx, row, _TIMEOUT_RULE, self.error_policy,
                                      "interrupted while sending")
            if row.status == MessageStatus.PENDING.value:
                row.next_attempt_at = outcomes.later_allowed(row, now)
                again = ("sent again under the same Topic, which replaces an undelivered "
                         "copy" if row.channel == Channel.PUSH.value else
                         "sent again with the same Message-ID, which marks a copy as the "
                         "same message")
                row.status_reason = f"{known}; {again}"[:300]
            return
        found, failed = self._lookup(row.participant.phone or "", row.due_at,
                                     row.body_redacted or "", normalize=self._redact,
                                     exclude=self._recorded_ids(ctx, row))
        row.claimed_by = None
        if found:
            outcomes.mark_sent(ctx, row, found, f"{known}; found at the provider")
            row.lease_until = None
            return
        if failed is None:
            row.lease_until = None
            row.outcome_unknown = True  # the next attempt asks the provider once more first
            row.last_error_code = outcomes.TIMEOUT_CODE
            row.last_error_message = f"{known}; the provider has no record of it"[:500]
            outcomes.retry_or_give_up(ctx, row, _TIMEOUT_RULE, self.error_policy,
                                      "interrupted while sending; not at the provider")
            if row.status == MessageStatus.PENDING.value:
                row.next_attempt_at = outcomes.later_allowed(row, now)  # still useful: now
            return
        if attempted < now - self.review_after:
            row.needs_review = True
            row.lease_until = None
            row.review_reason = (f"Interrupted while sending: {known}; the provider could "
                                 f"not be asked since ({failed}). Check before sending it "
                                 "again.")[:500]
        else:
            row.lease_until = now + self.recheck_after
            row.status_reason = (f"interrupted while sending; the provider could not be "
                                 f"asked ({failed}); asking again later")[:300]
        row.updated_at = now
