"""Domain errors raised by services; the web layer turns each into the one JSON error shape.

Plain Python (no Flask), so business rules can raise them anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class DomainError(Exception):
    status = 400

    def __init__(self, message: str, errors: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = dict(errors) if errors else None

    def field_messages(self) -> list[str]:
        """Every message about a field of the request body (``errors["json"]``), in order."""
        fields = (self.errors or {}).get("json")
        if not isinstance(fields, Mapping):
            return []
        return [message for messages in fields.values() for message in messages]


class NotFound(DomainError):
    """Unknown id, or an id the caller may not see (the two look the same on purpose)."""

    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class Gone(DomainError):
    status = 410


class InvalidInput(DomainError):
    """Input that is well-formed but breaks a rule; `errors` maps each field to its messages."""

    status = 422

    @classmethod
    def field(cls, name: str, *messages: str) -> InvalidInput:
        return cls(f"Invalid value for {name}", {"json": {name: list(messages)}})

    @classmethod
    def fields(cls, errors: Mapping[str, Sequence[str]]) -> InvalidInput:
        names = ", ".join(sorted(errors))
        return cls(f"Invalid value for {names}", {"json": {k: list(v) for k, v in errors.items()}})


class Unauthorized(DomainError):
    status = 401


class TooManyRequests(DomainError):
    status = 429
