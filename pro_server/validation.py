"""Field validators shared by every feature's schemas (time zones, phone numbers, local times)."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache
from typing import Any

import phonenumbers
from marshmallow import ValidationError, fields, validate

LANGUAGES = ("en", "es")
ID_MAX = 2**31 - 1  # ids are INTEGER columns on PostgreSQL
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_timezone(name: str) -> bool:
    return name in _zones()


def timezone_names() -> list[str]:
    """Every IANA zone name this server's zoneinfo knows, sorted: what is_timezone accepts."""
    return sorted(_zones())


def validate_timezone(name: str) -> None:
    if not is_timezone(name):
        raise ValidationError(f"'{name}' is not an IANA time zone name (e.g. America/New_York)")


def normalise_phone(raw: str, region: str | None = None) -> str:
    """The E.164 form of a valid phone number, or ValidationError with the reason. A number
    without "+" is read in the national format of `region` (ISO 3166, e.g. "US": so
    "(352) 555-0177"); without a region it must be in E.164."""
    international = raw.lstrip().startswith("+")
    if not international and region is None:
        raise ValidationError("Phone numbers must be in E.164 form, e.g. +13525550123")
    try:
        number = phonenumbers.parse(raw, None if international else region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"Not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("Not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_region(e164: str | None) -> str | None:
    """The region (ISO 3166 code) a number in E.164 belongs to, e.g. a site's contact phone."""
    if not e164:
        return None
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None


def mask_phone(e164: str | None) -> str | None:
    return None if not e164 else f"{'*' * (len(e164) - 4)}{e164[-4:]}"


_NO_EXAMPLE = object()


# In a response schema's field `metadata`: the field is left out of some answers (its
# description says which); every other field is in every answer (tests/response_contract.py).
OMITTED: dict[str, object] = {"x-omitted": True}


def about(description: str, example: object = _NO_EXAMPLE) -> dict[str, object]:
    """A field's `metadata` for the OpenAPI document: what it means, and an example value."""
    return {"description": description} | ({} if example is _NO_EXAMPLE else {"example": example})


class TimeZone(fields.String):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate_timezone, **kwargs)


_NATIONAL = re.compile(r"^[0-9 ()./-]{4,30}$")


class Phone(fields.String):
    """A phone number given in E.164; loads to its normalised E.164 form.

    `national=True` also takes a number in a national format ("(352) 555-0177"), loaded as
    given: the service reads it in the region of the participant's site (normalise_phone)."""

    def __init__(self, *, national: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.national = national

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if self.national and not text.startswith("+"):
            if not _NATIONAL.match(text):
                raise ValidationError("Not a phone number: use digits, e.g. (352) 555-0177 "
                                      "or +13525550177")
            return text
        return normalise_phone(text)


class LocalTime(fields.String):
    """A local wall-clock time as HH:MM."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not _HHMM.match(text):
            raise ValidationError("Use 24-hour HH:MM, e.g. 10:00")
        return text


class Id(fields.Integer):
    """An id a caller sends (body or query): a positive integer an id column can hold, so a
    value beyond it is a 422 naming the field, never a database error."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Range(min=1, max=ID_MAX), **kwargs)
