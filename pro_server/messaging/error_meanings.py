"""What a provider's error code means, in words a coordinator can act on.

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
}


def error_meaning(code: str | int | None) -> str | None:
    """The plain-language meaning of a provider error code, or None when unknown or absent."""
    return None if code is None else MEANINGS.get(str(code).strip())
