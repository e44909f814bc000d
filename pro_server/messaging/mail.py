"""Email reminders: the message (EN/ES, the SMS text of the same purpose), its one-click
unsubscribe (RFC 8058), the senders (console, SMTP through `smtplib`) and what a mail
server's refusal means for the participant's address.

An email carries what the SMS of the same purpose carries and nothing more: no health
information, no score; the program name, the site's phone, dates and the participant's
link. Its Message-ID is derived from the outbox row, so a copy sent again after an
interrupted attempt carries the same Message-ID as the first: mail systems and the
participant's mail program can recognise it as the same message. SMTP has no way to ask a
server what it accepted: a process that dies after the server took the message (its
"250" after DATA) and before the row is recorded sends it again (RFC 5321 4.1.1.4 names
this duplicate); the Message-ID is what tells the two copies apart.

The console backend logs that an email went, with its Message-ID only: no address, no text.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Protocol

from itsdangerous import BadSignature, URLSafeSerializer

from pro_server.audit.services import record
from pro_server.config import Settings
from pro_server.context import ServiceContext
from pro_server.messaging.purposes import Purpose
from pro_server.messaging.sms_backends import ProviderError, ProviderTimeout, RetryableKind
from pro_server.messaging.templates import normalize_language
from pro_server.participants import events, reminder_channels
from pro_server.participants.models import EmailFlag, Participant
from pro_server.participants.reminder_channels import Channel

log = logging.getLogger(__name__)

UNSUBSCRIBE_PATH = "/e/unsubscribe/"
# SMTP line endings, and lines up to RFC 5322's 998 characters: the default 78 folds the
# long List-Unsubscribe URL into an RFC 2047 encoded-word, which mail programs do not read
# as a URL.
_POLICY = policy.SMTP.clone(max_line_length=998)
UNSUBSCRIBE_PLACEHOLDER = "[unsubscribe link]"
# What staff read when an email is not sent because of the address's flag.
FLAG_REASONS = {
    EmailFlag.BOUNCED: "the email address bounced",
    EmailFlag.COMPLAINT: "the mail server refused the email as spam or by policy",
    EmailFlag.UNSUBSCRIBED: "the participant unsubscribed from email",
}

_SUBJECTS: dict[str, dict[Purpose, str]] = {
    "en": {
        Purpose.WINDOW_OPENED: "{program}: a new survey is ready for you",
        Purpose.SURVEY_REMINDER: "{program} reminder: your survey is still waiting",
        Purpose.LAST_DAY: "{program}: today is the last day for your survey",
        Purpose.VISIT_REMINDER_24H: "{program}: reminder of your study appointment",
        Purpose.VISIT_REMINDER_1H: "{program}: your study appointment starts in about 1 hour",
        Purpose.VISIT_CHANGED: "{program}: your study appointment has moved",
        Purpose.VISIT_CANCELLED: "{program}: your study appointment is cancelled",
    },
    "es": {
        Purpose.WINDOW_OPENED: "{program}: tiene un cuestionario nuevo",
        Purpose.SURVEY_REMINDER: "{program}, recordatorio: su cuestionario sigue pendiente",
        Purpose.LAST_DAY: "{program}: hoy se cierra su cuestionario",
        Purpose.VISIT_REMINDER_24H: "{program}: le recordamos su cita del estudio",
        Purpose.VISIT_REMINDER_1H: "{program}: su cita del estudio empieza en 1 hora",
        Purpose.VISIT_CHANGED: "{program}: su cita del estudio ha cambiado",
        Purpose.VISIT_CANCELLED: "{program}: su cita del estudio fue cancelada",
    },
}
_FOOTER = {
    "en": "You get this email because you chose email reminders for your study.\n"
          "To stop reminders by email: {url}",
    "es": "Recibe este correo porque eligió recordatorios por correo electrónico para su "
          "estudio.\nPara no recibir más recordatorios por correo: {url}",
}


# -- the message -------------------------------------------------------------------------


def message_id(row_id: int, email_from: str) -> str:
    """The same for every attempt of one outbox row."""
    domain = parseaddr(email_from)[1].rpartition("@")[2] or "localhost"
    return f"<pro-outbox-{row_id}@{domain}>"


def subject(purpose: Purpose | str, language: str, program_name: str) -> str:
    texts = _SUBJECTS[normalize_language(language)]
    return texts[Purpose(purpose)].format(program=program_name.strip())


def body(text: str, language: str, unsubscribe_url: str) -> str:
    """The purpose's SMS text, then why the email came and how to stop it."""
    footer = _FOOTER[normalize_language(language)].format(url=unsubscribe_url)
    return f"{text}\n\n--\n{footer}\n"


def compose(*, row_id: int, to: str, email_from: str, subject_text: str, text: str,
            unsubscribe_url: str, at: datetime) -> EmailMessage:
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = email_from
    msg["To"] = to
    msg["Subject"] = subject_text
    msg["Date"] = format_datetime(at)
    msg["Message-ID"] = message_id(row_id, email_from)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text)
    return msg


# -- one-click unsubscribe (RFC 8058) ----------------------------------------------------


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key, salt="pro-email-unsubscribe")


def _address_ref(settings: Settings, address: str) -> str:
    return settings.keyring.lookup_hash(address.lower())[:12]


def unsubscribe_url(settings: Settings, p: Participant) -> str:
    """Signed for the participant and their current address (a link in a mail sent to an
    earlier address does not unsubscribe the new one)."""
    token = _serializer(settings).dumps([p.id, _address_ref(settings, p.email or "")])
    return settings.public_base_url + UNSUBSCRIBE_PATH + token


def participant_of(ctx: ServiceContext, token: str) -> Participant | None:
    """The participant an unsubscribe token was made for, None when it is not one of ours
    or names an address the participant no longer has."""
    try:
        pid, ref = _serializer(ctx.settings).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    p = ctx.session.get(Participant, pid) if isinstance(pid, int) else None
    if p is None or not p.email or _address_ref(ctx.settings, p.email) != ref:
        return None
    return p


def flag_address(ctx: ServiceContext, p: Participant, flag: EmailFlag, detail: str, *,
                 drop_channel: bool = False) -> bool:
    """No more email to this address (changing the address clears the flag); an email row
    still queued for it goes on the participant's next channel. `drop_channel`: email
    also leaves the participant's channels (an unsubscribe), and their reminders are
    planned on the rest. Audited, without the address. False: already so."""
    if p.email_flag == flag:
        return False
    before = {"email_flag": p.email_flag, "reminder_channels": p.reminder_channels}
    p.email_flag, p.email_flag_at = flag, ctx.now()
    if drop_channel:
        p.reminder_channels = reminder_channels.without(p.reminder_channels, Channel.EMAIL)
    record(ctx, f"participant.email_{flag}", "participant", p.id, before=before,
           after={"email_flag": flag, "reminder_channels": p.reminder_channels,
                  "detail": detail[:300]},
           study_id=p.study_id, site_id=p.site_id)
    if p.reminder_channels != before["reminder_channels"]:
        ctx.events.publish(events.UPDATED, ctx, p, {"reminder_channels"})
    return True


def unsubscribe(ctx: ServiceContext, p: Participant) -> bool:
    return flag_address(ctx, p, EmailFlag.UNSUBSCRIBED, "one-click unsubscribe link",
                        drop_channel=True)


# -- sending -----------------------------------------------------------------------------


class EmailRefused(Exception):
    """The mail server refused the message for good (5xx at RCPT or DATA): bounced, or a
    complaint when the enhanced status is 5.7.x (policy, spam)."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"SMTP {code} {detail}".strip())
        self.code = code
        self.detail = detail
        self.complaint = detail.startswith("5.7.")


class EmailSender(Protocol):
    def send(self, msg: EmailMessage) -> None:
        """Raises EmailRefused, ProviderError (temporary: retry) or ProviderTimeout."""


class ConsoleEmailSender:
    """Development backend: logs that an email went (Message-ID only) and keeps it."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, msg: EmailMessage) -> None:
        self.sent = [*self.sent[-99:], msg]
        log.info("email %s sent (console backend: not delivered)", msg["Message-ID"])


def _refusal(code: int, text: bytes | str) -> Exception:
    detail = (text.decode("utf-8", "replace") if isinstance(text, bytes) else text).strip()
    if 400 <= code < 500:
        return ProviderError(None, code, RetryableKind.SERVER,
                             f"mail server: SMTP {code} {detail}"[:500])
    return EmailRefused(code, detail)


class SmtpSender:
    """One connection per message (STARTTLS or implicit TLS, optional login)."""

    def __init__(self, settings: Settings,
                 connect: Callable[[], smtplib.SMTP] | None = None) -> None:
        self._settings = settings
        self._connect = connect or self._open

    def _open(self) -> smtplib.SMTP:
        s = self._settings
        if s.smtp_security == "ssl":
            return smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds,
                                    context=ssl.create_default_context())
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
        if s.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp

    def send(self, msg: EmailMessage) -> None:
        try:
            smtp = self._connect()
        except (smtplib.SMTPException, OSError) as exc:
            raise ProviderError(None, None, RetryableKind.NETWORK,
                                f"mail server: cannot connect ({type(exc).__name__})") from exc
        try:
            if self._settings.smtp_username:
                smtp.login(self._settings.smtp_username, self._settings.smtp_password)
            smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:  # the only recipient refused at RCPT
            code, text = next(iter(exc.recipients.values()))
            raise _refusal(code, text) from exc
        except smtplib.SMTPDataError as exc:  # refused after DATA
            raise _refusal(exc.smtp_code, exc.smtp_error) from exc
        except smtplib.SMTPResponseException as exc:
            # Our sender or login refused: the server's set-up, not the participant's address.
            raise ProviderError(None, exc.smtp_code, RetryableKind.SERVER,
                                f"mail server: SMTP {exc.smtp_code} (sender or login "
                                "refused)") from exc
        except (smtplib.SMTPException, OSError) as exc:
            # The server may have taken it: sent again later under the same Message-ID.
            raise ProviderTimeout(f"mail server: {type(exc).__name__}") from exc
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


def build_sender(settings: Settings) -> EmailSender | None:
    if settings.email_backend == "smtp":
        return SmtpSender(settings)
    if settings.email_backend == "console":
        return ConsoleEmailSender()
    return None
