"""What a provider's error code means, in words a coordinator can act on (SMS: Twilio's
codes; email: the mail server's SMTP reply code).

The wording paraphrases Twilio's error dictionary (https://www.twilio.com/docs/api/errors,
one page per code, e.g. /docs/api/errors/30003). Twilio renumbers codes from time to time;
a code not listed here is shown as its number alone.
"""

from __future__ import annotations

MEANINGS: dict[str, str] = {
    "20429": "too many requests to the provider at once (retried later)",
    "21211": "not a valid phone number",
    "21408": "texts to this country are not enabled on our account",
    "21610": "participant replied STOP (texts are stopped until they reply START)",
    "21612": "the provider cannot route texts to this number",
    "21614": "not a mobile number (cannot receive texts)",
    "21635": "landline number (cannot receive texts)",
    "30003": "phone unreachable or off",
    "30004": "the participant's phone or carrier blocks these texts",
    "30005": "unknown number (not in service)",
    "30006": "landline, or the carrier cannot take texts",
    "30007": "filtered by the carrier as possible spam",
    "30008": "unknown error at the carrier",
    "30034": "our sender number is not registered for US texting (A2P 10DLC)",
    # SMTP replies (RFC 5321) to an email; Twilio's codes have five digits.
    "421": "email: the mail server is not available now (retried later)",
    "450": "email: the mailbox is not available now (retried later)",
    "451": "email: the mail server could not take it now (retried later)",
    "452": "email: the mailbox is full for now (retried later)",
    "550": "email: no such mailbox, or it refuses mail (no more email to this address)",
    "551": "email: the address has moved (no more email to this address)",
    "552": "email: the mailbox is full (no more email to this address)",
    "553": "email: the address is not valid (no more email to this address)",
    "554": "email: the mail server refused it (no more email to this address)",
}


def error_meaning(code: str | int | None) -> str | None:
    """The plain-language meaning of a provider error code, or None when unknown or absent."""
    return None if code is None else MEANINGS.get(str(code).strip())
