"""Delivery reports that never arrived, asked of the provider.

Twilio posts each status callback once. Its connection overrides (a `#rc=..&rp=..` fragment
on the callback URL) retry a callback only on the failures its retry policy names, and
only for the products that honour them
(https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides). So a callback
answered 5xx during a database blip, or lost on the way, can leave a row `sent` for good:
no delivered, no undelivered, and an undelivered reminder never retried.

This job looks for SMS rows that the provider accepted (they have its message id) but that
have had no final status for `check_after`, fetches each message from the provider, and
applies its status exactly as the callback would (`inbound.record_status`: delivered,
undelivered or failed, with the same error-code policy). Bounded per run; a row asked about
is not asked again before `check_after` (its `updated_at` says when it was last looked
at), and rows sent more than `give_up_after` ago are left alone (Twilio's own validity
period is far shorter). A lookup that fails means "check again later"; the provider being
unavailable ends the run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from pro_server.context import ServiceContext
from pro_server.messaging import inbound
from pro_server.messaging.models import OutboxMessage
from pro_server.messaging.provider_errors import ErrorPolicy
from pro_server.messaging.purposes import MessageStatus
from pro_server.messaging.sms_backends import ProviderError, SmsError, SmsSender
from pro_server.participants.reminder_channels import Channel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reconciler:
    sender: SmsSender
    error_policy: ErrorPolicy
    check_after: timedelta = timedelta(minutes=15)
    give_up_after: timedelta = timedelta(days=3)
    batch_size: int = 100

    def run(self, new_context: Callable[[], ServiceContext]) -> int:
        """Asks about at most `batch_size` rows; returns how many changed status."""
        changed = 0
        for row_id, sid, attempt in self._waiting(new_context):
            try:
                report = self.sender.fetch_status(sid)
            except SmsError as exc:
                log.warning("outbox message %s: the provider could not be asked for its "
                            "status (%s); asking again later", row_id, exc)
                self._checked(new_context, row_id)
                if not (isinstance(exc, ProviderError) and exc.retryable_kind is None):
                    break  # the provider is unavailable: no point asking about the rest now
                continue
            changed += self._apply(new_context, row_id, sid, attempt, report.status,
                                   report.error_code)
        return changed

    def _waiting(self, new_context: Callable[[], ServiceContext]
                 ) -> list[tuple[int, str, int]]:
        ctx = new_context()
        with ctx.session:
            now = ctx.now()
            return [tuple(r) for r in ctx.session.execute(
                select(OutboxMessage.id, OutboxMessage.provider_message_id,
                       OutboxMessage.attempts)
                .where(OutboxMessage.channel == Channel.SMS.value,
                       OutboxMessage.status == MessageStatus.SENT.value,
                       OutboxMessage.provider_message_id.is_not(None),
                       OutboxMessage.updated_at <= now - self.check_after,
                       OutboxMessage.sent_at > now - self.give_up_after)
                .order_by(OutboxMessage.updated_at, OutboxMessage.id)
                .limit(self.batch_size))]

    def _apply(self, new_context: Callable[[], ServiceContext], row_id: int, sid: str,
               attempt: int, status: str, error_code: int | None) -> int:
        """The provider's answer, recorded like its callback (one transaction)."""
        form = {"MessageSid": sid, "MessageStatus": status}
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
        ctx = new_context()
        with ctx.session:
            outcome = inbound.record_status(ctx, form, message_id=row_id, attempt=attempt,
                                            policy=self.error_policy)
            changed = not outcome.startswith(("unchanged", "unknown"))
            if not changed:
                self._touch(ctx, row_id)
            ctx.session.commit()
        if changed:
            log.info("outbox message %s: no delivery report came; the provider says %s",
                     row_id, status)
        return int(changed)

    def _checked(self, new_context: Callable[[], ServiceContext], row_id: int) -> None:
        ctx = new_context()
        with ctx.session:
            self._touch(ctx, row_id)
            ctx.session.commit()

    @staticmethod
    def _touch(ctx: ServiceContext, row_id: int) -> None:
        """Asked about now: not again before `check_after`."""
        ctx.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row_id,
                                        OutboxMessage.status == MessageStatus.SENT.value)
            .values(updated_at=ctx.now()).execution_options(synchronize_session=False))
