"""FHIR search parameters (pure): what a consumer's `_lastUpdated`, `subject` and `_count` mean."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pro_server.edc.fhir_api import Instant, PageCodec, SearchError, parse_search


def _at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(("value", "bounds"), [
    # A date is the whole (UTC) day: gt means from the next day on.
    ("gt2026-03-01", [Instant(">=", _at(2026, 3, 2))]),
    ("ge2026-03-01", [Instant(">=", _at(2026, 3, 1))]),
    ("lt2026-03-01", [Instant("<", _at(2026, 3, 1))]),
    ("2026-03-01", [Instant(">=", _at(2026, 3, 1)), Instant("<", _at(2026, 3, 2))]),
    # A dateTime is its own precision, converted to UTC; no zone is the server's (UTC).
    ("gt2026-03-01T10:00:00-05:00", [Instant(">=", _at(2026, 3, 1, 15, 0, 1))]),
    ("le2026-03-01T15:00:00Z", [Instant("<", _at(2026, 3, 1, 15, 0, 1))]),
    ("gt2026-03-01T15:00", [Instant(">=", _at(2026, 3, 1, 15, 1))]),
    ("gt2026-03-01T15:00:00.123456+00:00",
     [Instant(">=", _at(2026, 3, 1, 15, 0, 0, 123457))]),
])
def test_last_updated_means_what_fhir_says(value, bounds):
    assert list(parse_search({"_lastUpdated": [value]}).updated) == bounds


def test_a_range_is_two_last_updated_parameters():
    search = parse_search({"_lastUpdated": ["ge2026-03-01", "lt2026-04-01"]})
    assert search.updated == (Instant(">=", _at(2026, 3, 1)), Instant("<", _at(2026, 4, 1)))


@pytest.mark.parametrize("value", ["Patient/EDC-G01", "EDC-G01",
                                   "https://pro.example.org/fhir/Patient/EDC-G01"])
def test_subject_takes_a_reference_or_the_bare_key(value):
    assert parse_search({"subject": [value]}).subject == "EDC-G01"


@pytest.mark.parametrize(("args", "named"), [
    ({"_count": ["0"]}, "_count"),
    ({"_count": ["1001"]}, "_count"),
    ({"_lastUpdated": ["gt03/01/2026"]}, "_lastUpdated"),
    ({"_lastUpdated": ["gt2026-03-01T25:00:00Z"]}, "_lastUpdated"),
    ({"subject": ["Patient/a b"]}, "subject"),
    ({"subject": ["EDC-G01", "EDC-G02"]}, "subject"),
    ({"_revinclude": ["Observation:subject"]}, "_revinclude"),
    ({"patient": ["EDC-G01"]}, "patient"),
])
def test_bad_parameters_are_refused_by_name(args, named):
    with pytest.raises(SearchError) as caught:
        parse_search(args)
    assert caught.value.status == 400
    assert list(caught.value.errors["query"]) == [named]


def test_page_tokens_are_signed_and_bound_to_the_study():
    codec = PageCodec("secret")
    token = codec.encode(study_id=1, upto=40, after=12)
    assert codec.decode(token, 1) == (40, 12)
    with pytest.raises(SearchError):
        codec.decode(token, 2)
    with pytest.raises(SearchError):
        PageCodec("another secret").decode(token, 1)
