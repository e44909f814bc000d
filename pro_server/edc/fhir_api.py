"""The FHIR R4 REST API's own rules (pure): search parameters, paging tokens, the
CapabilityStatement and OperationOutcome errors. The resources come from `fhir.py`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from pro_server.errors import DomainError

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"
JSON_FORMATS = ("json", "application/json", "application/fhir+json")
DEFAULT_COUNT, MAX_COUNT = 50, 1000
REVINCLUDE = "Observation:derived-from"
_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_PREFIX = re.compile(r"^(eq|gt|ge|lt|le)?(\d.*)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found",
               405: "not-supported", 406: "not-supported", 409: "conflict", 410: "deleted",
               422: "invalid", 429: "throttled"}


class SearchError(DomainError):
    """A search parameter the server cannot honour (400, one issue per parameter)."""

    @classmethod
    def of(cls, errors: Mapping[str, Sequence[str]]) -> SearchError:
        names = ", ".join(sorted(errors))
        return cls(f"Invalid search parameter {names}",
                   {"query": {k: list(v) for k, v in errors.items()}})


@dataclass(frozen=True)
class Instant:
    """A `_lastUpdated` comparison: `op` is one of > >= < <=, on a UTC instant."""

    op: str
    at: datetime


@dataclass(frozen=True)
class Search:
    subject: str | None = None
    updated: tuple[Instant, ...] = ()
    count: int = DEFAULT_COUNT
    page: str | None = None
    revinclude: bool = False
    # The parameters as given (without _page), to repeat in the paging links.
    params: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def check_format(args: Mapping[str, Sequence[str]]) -> list[str]:
    return [f"Only JSON is served ({', '.join(JSON_FORMATS)}), not {value!r}"
            for value in args.get("_format", []) if value not in JSON_FORMATS]


def only(args: Mapping[str, Sequence[str]], allowed: Sequence[str]) -> dict[str, list[str]]:
    """Errors for every parameter outside `allowed` (and `_format`): unknown parameters are
    refused rather than ignored, so a misspelt filter never widens what comes back."""
    errors = {name: [f"Not supported here; supported: {', '.join(allowed) or 'none'}"]
              for name in args if name not in (*allowed, "_format")}
    if "since" in errors:
        errors["since"] = ["The incremental export of every version (opaque cursor) is "
                           "_history?since=<cursor>; search takes _lastUpdated"]
    if formats := check_format(args):
        errors["_format"] = formats
    return errors


def _reference_id(value: str) -> str | None:
    """`Patient/X`, a full URL ending in `Patient/X`, or a bare `X`."""
    rid = value.rsplit("Patient/", 1)[-1] if "Patient/" in value else value
    return rid if _ID.match(rid) else None


def _interval(value: str) -> tuple[datetime, datetime]:
    """[low, high) that a FHIR date or dateTime denotes at its precision (UTC when no zone is
    given: the server's time)."""
    if _DATE.match(value):
        low = datetime.fromisoformat(value).replace(tzinfo=UTC)
        return low, low + timedelta(days=1)
    at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if "T" not in value:
        raise ValueError("a date (YYYY-MM-DD) or a dateTime with a time is needed")
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    clock = re.split(r"[Z+-]", value.split("T", 1)[1])[0]  # e.g. 15:04:05.123
    seconds, _, fraction = clock.partition(".")
    if fraction:
        step = timedelta(microseconds=10 ** max(0, 6 - len(fraction)))
    elif seconds.count(":") == 2:
        step = timedelta(seconds=1)
    else:
        step = timedelta(minutes=1)
    return at, at + step


def _updated(values: Sequence[str], errors: dict[str, list[str]]) -> tuple[Instant, ...]:
    found: list[Instant] = []
    for value in values:
        match = _PREFIX.match(value)
        try:
            if match is None:
                raise ValueError("expected a prefix (gt, ge, lt, le, eq) and a date or dateTime")
            low, high = _interval(match.group(2))
        except ValueError as exc:
            errors.setdefault("_lastUpdated", []).append(f"{value!r}: {exc}")
            continue
        prefix = match.group(1) or "eq"
        found += {"gt": [Instant(">=", high)], "ge": [Instant(">=", low)],
                  "lt": [Instant("<", low)], "le": [Instant("<", high)],
                  "eq": [Instant(">=", low), Instant("<", high)]}[prefix]
    return tuple(found)


def parse_search(args: Mapping[str, Sequence[str]]) -> Search:
    """QuestionnaireResponse search: subject, _lastUpdated (repeatable: a range), _count,
    _revinclude=Observation:derived-from, and our own _page token from a `next` link."""
    errors = only(args, ("subject", "_lastUpdated", "_count", "_page", "_revinclude"))
    subject = None
    if "subject" in args:
        values = args["subject"]
        subject = _reference_id(values[0]) if len(values) == 1 else None
        if subject is None:
            errors["subject"] = ["One Patient reference: Patient/<subject key>"]
    count = DEFAULT_COUNT
    if "_count" in args:
        raw = args["_count"][-1]
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_COUNT:
            errors["_count"] = [f"A whole number from 1 to {MAX_COUNT}"]
        else:
            count = int(raw)
    revinclude = False
    for value in args.get("_revinclude", []):
        if value != REVINCLUDE:
            errors.setdefault("_revinclude", []).append(f"Only {REVINCLUDE} is supported")
        revinclude = True
    updated = _updated(args.get("_lastUpdated", []), errors)
    if errors:
        raise SearchError.of(errors)
    params = tuple((k, v) for k, vs in args.items() if k != "_page" for v in vs)
    pages = args.get("_page", [])
    return Search(subject, updated, count, pages[-1] if pages else None, revinclude, params)


class PageCodec:
    """Search paging tokens: the study, the snapshot bound fixed by the first page (so pages
    neither repeat nor skip when data changes meanwhile), and the last position read."""

    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="pro-fhir-page")

    def encode(self, study_id: int, upto: int, after: int) -> str:
        return self._serializer.dumps({"v": 1, "s": study_id, "u": upto, "a": after})

    def decode(self, token: str, study_id: int) -> tuple[int, int]:
        try:
            data = self._serializer.loads(token)
        except BadSignature as exc:
            raise SearchError.of({"_page": ["Not a page token of this server"]}) from exc
        if not isinstance(data, dict) or data.get("v") != 1 or data.get("s") != study_id:
            raise SearchError.of({"_page": ["Belongs to another study or version"]})
        upto, after = data.get("u"), data.get("a")
        if not isinstance(upto, int) or not isinstance(after, int):
            raise SearchError.of({"_page": ["Not a page token of this server"]})
        return upto, after


def operation_outcome(status: int, message: str, errors: Any = None) -> dict[str, Any]:
    """An error as FHIR says: one issue for the message, one more per field error."""
    code = ISSUE_CODES.get(status, "exception" if status >= 500 else "processing")
    issues: list[dict[str, Any]] = [{"severity": "error", "code": code,
                                     "diagnostics": message}]
    for _location, fields in (errors or {}).items():
        items = fields.items() if isinstance(fields, Mapping) else [(str(_location), fields)]
        for name, messages in items:
            text = "; ".join(str(m) for m in messages) if isinstance(messages, list) else str(
                messages)
            issues.append({"severity": "error", "code": code, "diagnostics": text,
                           "expression": [str(name)]})
    return {"resourceType": "OperationOutcome", "issue": issues}


def _versioned(kind: str, *, search: list[dict[str, str]] | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "type": kind, "versioning": "versioned", "readHistory": True,
        "interaction": [{"code": c} for c in ("read", "vread", "history-instance")]}
    if search is not None:
        resource["interaction"].append({"code": "search-type"})
        resource["searchParam"] = search
    return resource


def capability_statement(base_url: str, now: datetime, software_version: str
                         ) -> dict[str, Any]:
    """Exactly what this API supports: reads, version reads and histories, one search."""
    responses = _versioned("QuestionnaireResponse", search=[
        {"name": "subject", "type": "reference",
         "documentation": "Patient/<subject key>"},
        {"name": "_lastUpdated", "type": "date",
         "documentation": "gt, ge, lt, le or eq; repeat for a range"}])
    responses["searchRevInclude"] = [REVINCLUDE]
    return {
        "resourceType": "CapabilityStatement", "status": "active", "date": now.isoformat(),
        "publisher": "pro-server", "kind": "instance",
        "software": {"name": "pro-server", "version": software_version},
        "implementation": {"description": "Scored PRO data of one study, read-only",
                           "url": base_url},
        "fhirVersion": FHIR_VERSION, "format": [FHIR_JSON],
        "rest": [{
            "mode": "server",
            "documentation": "Read-only. _count (1-1000, default 50) pages a search; follow "
                             "the Bundle's next link. _history?since=<cursor> is the "
                             "incremental export of every version in commit order.",
            "security": {"description": "Authorization: Bearer <EDC client token>, scoped to "
                                        "this study; Observations need the scores scope, "
                                        "answers the responses scope."},
            "resource": [
                {"type": "Questionnaire", "versioning": "no-version",
                 "interaction": [{"code": "read"}, {"code": "search-type"}]},
                responses,
                _versioned("Observation"),
                {"type": "Patient", "versioning": "no-version",
                 "interaction": [{"code": "read"}]},
            ],
            "interaction": [{"code": "history-system"}],
        }],
    }
