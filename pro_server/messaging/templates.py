"""Short SMS/web texts in English and Spanish.

No clinical detail ever: no diagnosis, product, treatment or dose; only the configured short
program name, the site's phone, the participant's link and dates. The Spanish wording avoids
the letters outside the GSM-7 alphabet (á, í, ó, ú) so both languages stay in GSM-7 and
within two segments; keep it that way when editing (tests check it). These texts are also
what an A2P 10DLC campaign registers, so change them deliberately.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from pro_server.messaging.purposes import Purpose

SUPPORTED_LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
PROGRAM_NAME_MAX_LEN = 24
MAX_SEGMENTS = 2

_OPT_OUT_LINE = {
    "en": "Reply STOP to opt out, HELP for help.",
    "es": "Responda STOP para no recibir mensajes o AYUDA si necesita ayuda.",
}

# Each entry: (text with all optional parts, text when the optional part is missing).
# Placeholders: {program} {phone} {link} {deadline} {visit}.
_TEMPLATES: dict[str, dict[Purpose, str]] = {
    "en": {
        Purpose.WINDOW_OPENED: "{program}: a new survey is ready for you.{deadline_en} {link} "
        "Questions? Call {phone}.",
        Purpose.SURVEY_REMINDER: "{program} reminder: your survey is still waiting, "
        "open until {deadline}: {link} Questions? Call {phone}.",
        Purpose.LAST_DAY: "{program}: today is the last day for your survey "
        "(open until {deadline}): {link} Questions? Call {phone}.",
        Purpose.VISIT_REMINDER_24H: "{program}: reminder of your study appointment on "
        "{visit}. Details: {link} To change it, call {phone}.",
        Purpose.VISIT_REMINDER_1H: "{program}: your study appointment starts in about "
        "1 hour ({visit}). Details: {link} Need help? Call {phone}.",
        Purpose.VISIT_CHANGED: "{program}: your study appointment has moved to {visit}. "
        "Details: {link} Questions? Call {phone}.",
        Purpose.VISIT_CANCELLED: "{program}: your study appointment on {visit} is "
        "cancelled. The study team will contact you. Questions? Call {phone}.",
        Purpose.HELP_REPLY: "{program}: for help, call {phone}.{link_en} "
        "Msg&data rates may apply. Reply STOP to opt out.",
        Purpose.OPT_OUT_CONFIRMATION: "{program}: you will no longer get texts from us. "
        "Reply START to get them again. Questions? Call {phone}.",
        Purpose.OPT_IN_CONFIRMATION: "{program}: you will get text reminders again. "
        "Reply STOP to opt out, HELP for help.",
    },
    "es": {
        Purpose.WINDOW_OPENED: "{program}: tiene un cuestionario nuevo.{deadline_es} {link} "
        "¿Preguntas? Llame al {phone}.",
        Purpose.SURVEY_REMINDER: "{program}, recordatorio: su cuestionario sigue pendiente, "
        "abierto hasta el {deadline}: {link} ¿Preguntas? Llame al {phone}.",
        Purpose.LAST_DAY: "{program}: hoy se cierra su cuestionario (abierto hasta el "
        "{deadline}): {link} ¿Preguntas? Llame al {phone}.",
        Purpose.VISIT_REMINDER_24H: "{program}: le recordamos su cita del estudio el {visit}. "
        "Detalles: {link} Para cambiarla, llame al {phone}.",
        Purpose.VISIT_REMINDER_1H: "{program}: su cita del estudio empieza en 1 hora "
        "aproximadamente ({visit}). Detalles: {link} ¿Necesita ayuda? Llame al {phone}.",
        Purpose.VISIT_CHANGED: "{program}: su cita del estudio ha cambiado al {visit}. "
        "Detalles: {link} ¿Preguntas? Llame al {phone}.",
        Purpose.VISIT_CANCELLED: "{program}: su cita del estudio del {visit} fue cancelada. "
        "El equipo del estudio le va a llamar. ¿Preguntas? Llame al {phone}.",
        Purpose.HELP_REPLY: "{program}: si necesita ayuda, llame al {phone}.{link_es} "
        "Pueden aplicarse tarifas de mensajes y datos. Responda STOP para no recibir mensajes.",
        Purpose.OPT_OUT_CONFIRMATION: "{program}: ya no le enviaremos mensajes. Responda "
        "START para volver a recibirlos. ¿Preguntas? Llame al {phone}.",
        Purpose.OPT_IN_CONFIRMATION: "{program}: le enviaremos recordatorios de nuevo. "
        "Responda STOP para no recibir mensajes o AYUDA si necesita ayuda.",
    },
}

# Purposes whose text already says how to opt out (or must not: the opt-out confirmation).
_OWN_OPT_OUT_TEXT = frozenset(
    {Purpose.HELP_REPLY, Purpose.OPT_OUT_CONFIRMATION, Purpose.OPT_IN_CONFIRMATION}
)
_NEEDS_LINK = frozenset(
    {
        Purpose.WINDOW_OPENED,
        Purpose.SURVEY_REMINDER,
        Purpose.LAST_DAY,
        Purpose.VISIT_REMINDER_24H,
        Purpose.VISIT_REMINDER_1H,
        Purpose.VISIT_CHANGED,
    }
)
_NEEDS_DEADLINE = frozenset({Purpose.SURVEY_REMINDER, Purpose.LAST_DAY})
_NEEDS_VISIT = frozenset(
    {
        Purpose.VISIT_REMINDER_24H,
        Purpose.VISIT_REMINDER_1H,
        Purpose.VISIT_CHANGED,
        Purpose.VISIT_CANCELLED,
    }
)


def needs_link(purpose: Purpose | str) -> bool:
    """Whether the purpose's text carries the participant's link (then the sender issues one)."""
    return Purpose(purpose) in _NEEDS_LINK


def normalize_language(lang: str | None) -> str:
    """'es', 'es-US', 'es_MX' -> 'es'; anything unsupported falls back to English."""
    if not lang:
        return DEFAULT_LANGUAGE
    primary = lang.replace("_", "-").split("-", 1)[0].strip().lower()
    return primary if primary in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


def render(
    purpose: Purpose | str,
    lang: str | None,
    *,
    program_name: str,
    site_phone: str,
    link: str | None,
    local_deadline_text: str | None = None,
    visit_time_text: str | None = None,
    include_opt_out: bool,
) -> str:
    """Render one message. Raises ValueError when a value the purpose needs is missing.

    ``include_opt_out`` appends the "Reply STOP" line; it is ignored for HELP and STOP/START
    replies, whose text already deals with opting out. ``link`` may be None only for
    visit_cancelled and the replies (an inbound HELP from an unknown number gets no link).
    """
    purpose = Purpose(purpose)
    language = normalize_language(lang)
    if not program_name.strip():
        raise ValueError("program_name is required")
    if not site_phone.strip():
        raise ValueError("site_phone is required")
    if purpose in _NEEDS_LINK and not link:
        raise ValueError(f"{purpose} needs a link")
    if purpose in _NEEDS_DEADLINE and not local_deadline_text:
        raise ValueError(f"{purpose} needs local_deadline_text")
    if purpose in _NEEDS_VISIT and not visit_time_text:
        raise ValueError(f"{purpose} needs visit_time_text")

    text = _TEMPLATES[language][purpose].format(
        program=program_name.strip(),
        phone=site_phone.strip(),
        link=link or "",
        deadline=local_deadline_text or "",
        visit=visit_time_text or "",
        deadline_en=f" Please complete it by {local_deadline_text}:" if local_deadline_text else "",
        deadline_es=f" Puede completarlo hasta el {local_deadline_text}:"
        if local_deadline_text
        else "",
        link_en=f" Your link: {link}" if link else "",
        link_es=f" Su enlace: {link}" if link else "",
    )
    if include_opt_out and purpose not in _OWN_OPT_OUT_TEXT:
        text = f"{text} {_OPT_OUT_LINE[language]}"
    return " ".join(text.split())


def opt_out_notice_due(
    messages_since_notice: int | None,
    last_notice_utc: datetime | None,
    now: datetime,
    *,
    every_messages: int = 10,
    every_days: int = 30,
) -> bool:
    """Whether the next message should carry the "Reply STOP" line.

    Always for the first message (no notice yet), then again after ``every_messages``
    messages or ``every_days`` days, whichever comes first.
    """
    if messages_since_notice is None or last_notice_utc is None:
        return True
    return messages_since_notice >= every_messages or now - last_notice_utc >= timedelta(
        days=every_days
    )


def validate_program_name(name: str) -> str:
    """Check a configured program name: short, GSM-7 (keeps messages cheap and short)."""
    name = name.strip()
    if not name:
        raise ValueError("program name is empty")
    if len(name) > PROGRAM_NAME_MAX_LEN:
        raise ValueError(f"program name longer than {PROGRAM_NAME_MAX_LEN} characters")
    if not is_gsm7(name):
        raise ValueError("program name has characters outside the GSM-7 alphabet")
    return name


# --- Dates in the participant's language -------------------------------------------------

_MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "es": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
}
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def format_local_datetime(at_utc: datetime, tz: tzinfo | str, lang: str | None) -> str:
    """'Tue, Mar 10, 2:30 PM' / '10 de marzo, 2:30 de la tarde' in the participant's zone.

    Spanish leaves out the weekday ("sábado" would push the message out of GSM-7) and says
    "de la mañana / tarde / noche" rather than "a.m./p.m.", which would end a sentence in "..".
    """
    local = _to_local(at_utc, tz)
    language = normalize_language(lang)
    hour12 = local.hour % 12 or 12
    clock = f"{hour12}:{local.minute:02d}"
    month = _MONTHS[language][local.month - 1]
    if language == "es":
        return f"{local.day} de {month}, {clock} {_spanish_day_part(local.hour)}"
    weekday = _WEEKDAYS_EN[local.weekday()]
    return f"{weekday}, {month} {local.day}, {clock} {'AM' if local.hour < 12 else 'PM'}"


def _spanish_day_part(hour: int) -> str:
    if hour < 6:
        return "de la madrugada"
    if hour < 12:
        return "de la mañana"
    return "de la tarde" if hour < 19 else "de la noche"


def format_deadline(window_end_utc: datetime, tz: tzinfo | str, lang: str | None) -> str:
    """The last moment a survey can be done, for people: an end at local midnight (exclusive)
    reads as 11:59 PM of the day before rather than 12:00 AM of the next day."""
    local = _to_local(window_end_utc, tz)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        window_end_utc -= timedelta(minutes=1)
    return format_local_datetime(window_end_utc, tz, lang)


def _to_local(at_utc: datetime, tz: tzinfo | str) -> datetime:
    if at_utc.tzinfo is None:
        raise ValueError("expected an aware datetime (UTC)")
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return at_utc.astimezone(UTC).astimezone(zone)


# --- SMS segments ------------------------------------------------------------------------

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


def is_gsm7(text: str) -> bool:
    return all(ch in _GSM7_BASIC or ch in _GSM7_EXTENDED for ch in text)


def encoding(text: str) -> str:
    """'GSM-7' or 'UCS-2': one character outside GSM-7 switches the whole message."""
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def segment_count(text: str) -> int:
    """Number of SMS segments: GSM-7 160 septets alone, 153 per part when concatenated
    (extended characters take two septets); UCS-2 70 / 67 UTF-16 code units."""
    if is_gsm7(text):
        units = sum(2 if ch in _GSM7_EXTENDED else 1 for ch in text)
        single, multi = 160, 153
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
    if units <= single:
        return 1
    return math.ceil(units / multi)
