"""Classify inbound SMS: STOP / START / HELP keywords (English and Spanish) and free text
that reads like an opt-out.

Keywords count only when they are the whole message (Twilio's rule), after folding case,
accents, punctuation and spacing ("Stop.", " stop ", "OPT OUT", "Cancelár!" all match).
Free text that merely contains an opt-out phrase ("please stop texting me") is not acted on
automatically but flagged as POSSIBLE_OPT_OUT for staff: under FCC 24-18 a revocation "by any
reasonable means" must be honoured, so a person has to look at it.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class InboundKind(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"
    POSSIBLE_OPT_OUT = "possible_opt_out"
    OTHER = "other"


# Compared against the message with spaces removed, so "opt out" and "stop all" match too.
STOP_KEYWORDS = frozenset(
    {
        # Twilio's default opt-out keywords
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "revoke",
        "optout",
        # Spanish
        "parar",
        "para",
        "pare",
        "alto",
        "baja",
        "cancelar",
        "detener",
        "salir",
        "desuscribir",
        "darmedebaja",
    }
)
START_KEYWORDS = frozenset(
    {
        # Twilio's default opt-in keywords
        "start",
        "unstop",
        "yes",
        # Spanish
        "inicio",
        "iniciar",
        "comenzar",
        "empezar",
        "si",
        "alta",
    }
)
HELP_KEYWORDS = frozenset({"help", "info", "ayuda", "informacion"})

# What Twilio itself acts on without Advanced Opt-Out: it blocks/unblocks the number and
# sends its own reply. For these the service must not send a confirmation of its own (it
# would be blocked with 21610 or duplicate Twilio's); for the others (e.g. Spanish BAJA)
# Twilio does nothing, so the service stops sending and may confirm once.
TWILIO_DEFAULT_KEYWORDS = frozenset(
    {
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "START",
        "UNSTOP",
        "YES",
        "HELP",
        "INFO",
    }
)

# Searched for anywhere in normalized free text (lower case, no accents, single spaces).
_OPT_OUT_PHRASES = [
    # English
    r"\bstop\b",
    r"\bunsubscribe\b",
    r"\bopt(?:ing)? ?out\b",
    r"\bquit (?:texting|messaging|sending|calling)\b",
    r"\bno more (?:texts?|messages?|reminders?|sms)\b",
    r"\b(?:don ?t|do not|dont|never) (?:text|message|contact|sms|send)\b",
    r"\b(?:remove|take) me off\b",
    r"\bremove (?:me|my (?:number|phone))\b",
    r"\bleave me alone\b",
    r"\bcancel (?:the |these |all |my )?(?:texts?|messages?|reminders?|sms|subscription)\b",
    r"\b(?:don ?t|do not|dont|not|no longer) (?:want|wish|need)\b.*"
    r"\b(?:texts?|messages?|reminders?|sms)\b",
    # Spanish
    r"\bno (?:mas |quiero (?:mas )?)(?:mensajes|textos|recordatorios|sms)\b",
    r"\bya no quiero\b",
    r"\bno (?:me )?(?:escriban|escribas|manden|mandes|envien|envies|contacten|llamen)\b",
    r"\b(?:dejen|deje|deja|dejar) de (?:escribir|mandar|enviar|molestar|contactar)\w*",
    r"\b(?:quitenme|quiteme|sacarme|sacame|saquenme|borrenme)\b",
    r"\b(?:darme|dame|denme|dar) de baja\b",
    r"\bbasta\b",
    r"\bparen\b",
    r"\bcancelar (?:los |las |mis )?(?:mensajes|textos|recordatorios|sms)\b",
]
_OPT_OUT_RE = re.compile("|".join(f"(?:{p})" for p in _OPT_OUT_PHRASES))


def normalize(body: str) -> str:
    """Lower case, accents removed, anything but letters and digits turned into single spaces."""
    decomposed = unicodedata.normalize("NFKD", body)
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = without_marks.casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", folded).split())


def is_twilio_default_keyword(body: str | None) -> bool:
    """Whether Twilio's built-in handling has already answered this message (trimmed,
    case-insensitive whole-message match; an assumption to confirm for punctuation)."""
    return (body or "").strip().upper() in TWILIO_DEFAULT_KEYWORDS


def classify_inbound(body: str | None) -> InboundKind:
    text = normalize(body or "")
    if not text:
        return InboundKind.OTHER
    compact = text.replace(" ", "")
    if compact in STOP_KEYWORDS:
        return InboundKind.STOP
    if compact in START_KEYWORDS:
        return InboundKind.START
    if compact in HELP_KEYWORDS:
        return InboundKind.HELP
    if _OPT_OUT_RE.search(text):
        return InboundKind.POSSIBLE_OPT_OUT
    return InboundKind.OTHER
