"""ODM for what is not a response: the status of each assessment (completed, missed,
cancelled) and the infusions, as metadata and as Snapshot clinical data (pure).

Each assessment event gets the form `F.ASSESSMENT_STATUS`; each infusion is a study event
`SE.INFUSION_<n>` with the form `F.INFUSION` (never the product: the study is masked).
Transactional files carry response versions only; these come in Snapshots.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from pro_server.edc.catalogue import StudyCatalogue
from pro_server.local_time import local_to_utc, utc_to_local
from pro_server.protocol.planner import ScheduledInfusion
from pro_server.schedule.missed import row_reason

STATUS_FORM, INFUSION_FORM = "F.ASSESSMENT_STATUS", "F.INFUSION"
STATUS_GROUP, INFUSION_GROUP = "IG.ASSESSMENT_STATUS", "IG.INFUSION"
STATUS_CODES = ("COMPLETED", "MISSED", "CANCELLED")
INFUSION_CODES = ("PLANNED", "GIVEN", "NOT_GIVEN")
MISSED_REASON = "Not completed within the assessment window"
# (OID suffix, Name, DataType, Length, CodeList, description) of each item
STATUS_ITEMS = (("STATUS", "status", "text", 9, "CL.ASSESSMENT_STATUS", "Assessment status"),
                ("REASON", "reason", "text", 500, None, "Why the assessment was not done"))
INFUSION_ITEMS = (
    ("NUMBER", "number", "integer", 2, None, "Infusion number"),
    ("STATUS", "status", "text", 9, "CL.INFUSION_STATUS", "Infusion status"),
    ("PROTOCOL_DATE", "protocol_date", "date", None, None, "Protocol date (Day 0 + planned day)"),
    ("PLANNED_DATE", "planned_date", "date", None, None, "Planned date"),
    ("GIVEN_AT", "given_at", "datetime", None, None,
     "Given at (participant's local time with offset, as the site recorded it)"),
    ("REASON", "reason", "text", 500, None, "Why the infusion was not given"),
)


def infusion_event_oid(number: int) -> str:
    return f"SE.INFUSION_{number}"


def _item_oid(group: str, suffix: str) -> str:
    return f"I.{group.removeprefix('IG.')}.{suffix}"


def metadata(catalogue: StudyCatalogue, el: Any, translated: Any) -> dict[str, list[Any]]:
    """Event, form, group and item defs and code lists to add to the MetaDataVersion."""
    out: dict[str, list[Any]] = {"events": [], "forms": [], "groups": [], "items": [],
                                 "code_lists": []}
    for form, group, name, items in ((STATUS_FORM, STATUS_GROUP, "Assessment status",
                                      STATUS_ITEMS),
                                     (INFUSION_FORM, INFUSION_GROUP, "Infusion",
                                      INFUSION_ITEMS)):
        out["forms"].append(el("FormDef", {"OID": form, "Name": name, "Repeating": "No"},
                               el("ItemGroupRef", {"ItemGroupOID": group, "Mandatory": "Yes"})))
        out["groups"].append(el("ItemGroupDef", {"OID": group, "Name": name, "Repeating": "No"},
                                *[el("ItemRef", {"ItemOID": _item_oid(group, s),
                                                 "Mandatory": "No", "OrderNumber": n})
                                  for n, (s, *_rest) in enumerate(items, start=1)]))
        for suffix, item_name, datatype, length, code_list, text in items:
            out["items"].append(el(
                "ItemDef", {"OID": _item_oid(group, suffix), "Name": item_name,
                            "DataType": datatype, "Length": length},
                translated("Question", {"en": text}),
                el("CodeListRef", {"CodeListOID": code_list}) if code_list else None))
    for oid, codes in (("CL.ASSESSMENT_STATUS", STATUS_CODES),
                       ("CL.INFUSION_STATUS", INFUSION_CODES)):
        out["code_lists"].append(el("CodeList", {"OID": oid, "Name": oid[3:].lower(),
                                                 "DataType": "text"},
                                    *[el("CodeListItem", {"CodedValue": c},
                                         translated("Decode", {"en": c.replace("_", " ")
                                                               .capitalize()}))
                                      for c in codes]))
    for n in range(1, catalogue.infusion_count + 1):
        out["events"].append(el("StudyEventDef", {"OID": infusion_event_oid(n),
                                                  "Name": f"INFUSION_{n}", "Repeating": "No",
                                                  "Type": "Scheduled"},
                                translated("Description", {"en": f"Infusion {n}"}),
                                el("FormRef", {"FormOID": INFUSION_FORM, "Mandatory": "No"})))
    return out


def _group(el: Any, group: str, values: Mapping[str, Any]) -> Any:
    node = el("ItemGroupData", {"ItemGroupOID": group})
    for suffix, value in values.items():
        if value is not None and value != "":
            node.append(el("ItemData", {"ItemOID": _item_oid(group, suffix),
                                        "Value": str(value)}))
    return node


def status_form(el: Any, status: str, reason: str | None = None) -> etree._Element:
    return el("FormData", {"FormOID": STATUS_FORM},
              _group(el, STATUS_GROUP, {"STATUS": status, "REASON": reason}))


def not_done_event(el: Any, catalogue: StudyCatalogue, row: Mapping[str, Any]
                   ) -> etree._Element:
    reason = (f"Cancelled: {row['cancel_reason'] or ''}".rstrip(": ")
              if row["status"] == "cancelled" else row_reason(row) or MISSED_REASON)
    return el("StudyEventData", {"StudyEventOID": catalogue.event(row["code"]).oid},
              status_form(el, row["status"].upper(), reason[:500]))


def infusion_values(i: ScheduledInfusion, tz: str) -> dict[str, Any]:
    """The infusion's ItemData values by OID suffix (None or '': not written)."""
    given = (utc_to_local(local_to_utc(i.given_at_local, tz), tz).isoformat()
             if i.given_at_local else None)
    return {"NUMBER": i.number, "STATUS": i.status.upper(),
            "PROTOCOL_DATE": i.protocol_date.isoformat() if i.protocol_date else None,
            "PLANNED_DATE": i.planned_date.isoformat() if i.planned_date else None,
            "GIVEN_AT": given,
            "REASON": i.reason if i.status == "not_given" else None}


def infusion_item_oid(suffix: str) -> str:
    return _item_oid(INFUSION_GROUP, suffix)


def infusion_event(el: Any, i: ScheduledInfusion, tz: str) -> etree._Element:
    return el("StudyEventData", {"StudyEventOID": infusion_event_oid(i.number)},
              el("FormData", {"FormOID": INFUSION_FORM},
                 _group(el, INFUSION_GROUP, infusion_values(i, tz))))
