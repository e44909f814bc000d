"""REDCap Dynamic Data Pull (DDP Custom): the metadata and data web services REDCap calls
to pull scored PRO data into a project (pure: catalogue and rows in, the documented JSON
shapes out).

Specification: REDCap "Dynamic Data Pull (DDP) - Custom" technical specification (the PDF on
the Control Center's DDP settings page; summarised in docs/edc-mapping.md). REDCap POSTs the
common parameters `user`, `project_id`, `redcap_url` to every service; the metadata service
answers a JSON array of fields (`field`, `label`, `description`, `temporal`, `category`,
`subcategory`, `identifier`); the data service gets JSON `{id, fields: [{field,
timestamp_min?, timestamp_max?}]}` and answers `[{field, value, timestamp?}]`.

Fields: `subject_key` is the identifier; every score (and, with the `responses` scope, every
item) is a temporal field named as its REDCap column (`haq_di_haqdi`), one value per
assessment, timestamped with the submission in the participant's local time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pro_server.edc import catalogue as cat
from pro_server.edc.catalogue import StudyCatalogue
from pro_server.edc.records import Row
from pro_server.local_time import utc_to_local

IDENTIFIER = "subject_key"
FIELD_RE = re.compile(r"^[A-Za-z0-9_-]+$")
TIMESTAMP = "%Y-%m-%d %H:%M:%S"


class DdpRequestError(ValueError):
    """The request does not have the shape the DDP specification gives."""


@dataclass(frozen=True)
class Source:
    """One source field: how to read its value from a response row."""

    field: str
    label: str
    category: str
    subcategory: str
    instrument: str
    item: str | None = None
    score: str | None = None


def sources(catalogue: StudyCatalogue, *, items: bool, scores: bool) -> list[Source]:
    found: list[Source] = []
    for d in catalogue.definitions:
        title = d.title["en"]
        if scores:
            found += [Source(cat.redcap_field(d.code, s.sdtm_testcd), s.label["en"], title,
                             "Scores", d.code, score=s.key) for s in d.scores]
        if items:
            found += [Source(cat.redcap_field(d.code, i.sdtm_testcd),
                             " ".join(i.text["en"].split()), title, "Answers", d.code,
                             item=i.id)
                      for i in d.items if i.type != cat.MULTI]
    return found


def metadata(catalogue: StudyCatalogue, *, items: bool, scores: bool) -> list[dict[str, str]]:
    """The metadata service's answer: the identifier, then every temporal field."""
    fields = [{"field": IDENTIFIER, "label": "Subject key",
               "description": f"Subject key of {catalogue.study_code} in the ePRO system",
               "temporal": "0", "category": "Identifier", "subcategory": "",
               "identifier": "1"}]
    for s in sources(catalogue, items=items, scores=scores):
        kind = "score" if s.score else "answer"
        fields.append({"field": s.field, "label": s.label[:100],
                       "description": f"{s.category}: {kind}, one value per assessment, "
                                      "timestamped with the submission (participant's "
                                      "local time)",
                       "temporal": "1", "category": s.category, "subcategory": s.subcategory,
                       "identifier": ""})
    return fields


def _bound(raw: Any, name: str) -> datetime | None:
    if raw in (None, ""):
        return None
    try:
        return datetime.strptime(str(raw), TIMESTAMP)  # noqa: DTZ007 (REDCap local time)
    except ValueError as exc:
        raise DdpRequestError(f"{name} must be YYYY-MM-DD HH:MM:SS, got {raw!r}") from exc


def parse_request(body: Any) -> tuple[str, list[tuple[str, datetime | None, datetime | None]]]:
    """(id, [(field, timestamp_min, timestamp_max)]) of a data service request."""
    if not isinstance(body, Mapping):
        raise DdpRequestError("the body must be a JSON object")
    record_id = body.get("id")
    if not isinstance(record_id, str | int) or str(record_id) == "":
        raise DdpRequestError("id (the subject key) is required")
    fields = body.get("fields")
    if not isinstance(fields, list):
        raise DdpRequestError("fields must be a list")
    wanted = []
    for f in fields:
        if not isinstance(f, Mapping) or not FIELD_RE.match(str(f.get("field", ""))):
            raise DdpRequestError("each field needs a field name (letters, digits, _ and -)")
        wanted.append((str(f["field"]), _bound(f.get("timestamp_min"), "timestamp_min"),
                       _bound(f.get("timestamp_max"), "timestamp_max")))
    return str(record_id), wanted


def data(catalogue: StudyCatalogue, record_id: str,
         wanted: Iterable[tuple[str, datetime | None, datetime | None]], rows: Iterable[Row],
         *, items: bool, scores: bool) -> Iterator[dict[str, str]]:
    """The data service's answer for one subject from its current response versions."""
    by_field = {s.field: s for s in sources(catalogue, items=items, scores=scores)}
    wanted = list(wanted)
    if any(field == IDENTIFIER for field, _, _ in wanted):
        yield {"field": IDENTIFIER, "value": record_id}
    for row in rows:
        stamp = utc_to_local(row["submitted_at"], row["timezone"]).replace(tzinfo=None,
                                                                           microsecond=0)
        for field, low, high in wanted:
            s = by_field.get(field)
            if s is None or s.instrument != row["instrument_code"]:
                continue
            if (low and stamp < low) or (high and stamp > high):
                continue
            value = _value(s, row)
            if value is not None:
                yield {"field": field, "value": value, "timestamp": stamp.strftime(TIMESTAMP)}


def _value(s: Source, row: Row) -> str | None:
    if s.score is not None:
        result = row["scores"]["scores"].get(s.score)
        return None if result is None else result["value_text"]
    answer = (row["answers"] or {}).get(s.item)
    return None if answer is None or answer["value"] is None else str(answer["value"])
