"""CDISC ODM 1.3.2: the study's metadata, and its clinical data as a Transactional or Snapshot
file (pure builders: catalogue and rows in, XML bytes out).

Transactional files carry one FormData per response version, in commit order:
`TransactionType="Insert"` for version 1, `"Update"` for a correction, each with its
AuditRecord (who, where, when, why, and the audit sequence number as SourceID). SubjectData
and StudyEventData are sent as `Context`: they frame the change without being changed. An
item that a correction empties, or a score that can no longer be computed, is sent with
`TransactionType="Remove"`. Unanswered items and absent scores are simply not sent.
"""

from __future__ import annotations

import heapq
import io
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from lxml import etree

from pro_server.edc import catalogue as cat
from pro_server.edc import odm_participation
from pro_server.edc.catalogue import ODM_NS, StudyCatalogue
from pro_server.edc.records import Row, check_texts, requester, timing
from pro_server.instruments.definitions import InstrumentDefinition, Item
from pro_server.local_time import utc_to_local
from pro_server.protocol.planner import ScheduledInfusion
from pro_server.responses.export_text import item_group

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
PARTICIPANT_USER = "USR.PARTICIPANT"
FLUSH_BYTES = 64 * 1024


def _tag(name: str) -> str:
    return f"{{{ODM_NS}}}{name}"


def el(name: str, attrib: Mapping[str, Any] | None = None, *children: etree._Element | None,
       text: str | None = None) -> etree._Element:
    node = etree.Element(_tag(name), {k: str(v) for k, v in (attrib or {}).items()
                                      if v is not None}, nsmap={None: ODM_NS})
    node.extend(c for c in children if c is not None)
    if text is not None:
        node.text = text
    return node


def translated(name: str, texts: Mapping[str, str]) -> etree._Element:
    node = el(name)
    for lang, text in texts.items():
        child = etree.SubElement(node, _tag("TranslatedText"), {XML_LANG: lang})
        child.text = " ".join(text.split())
    return node


def _iso(at: datetime) -> str:
    return at.isoformat()


def user_oid(recorded_by: str) -> str:
    if recorded_by == "participant":
        return PARTICIPANT_USER
    return "USR." + re.sub(r"[^A-Za-z0-9]+", "_", recorded_by).strip("_").upper()


def location_oid(site_code: str) -> str:
    return f"LOC.{site_code}"


def _root_attrib(file_oid: str, file_type: str, created: datetime, granularity: str,
                 prior_file_oid: str | None = None) -> dict[str, str]:
    attrib = {"FileOID": file_oid, "FileType": file_type, "Granularity": granularity,
              "CreationDateTime": _iso(created), "ODMVersion": "1.3.2",
              "Originator": "pro-server", "SourceSystem": "pro-server"}
    if file_type == "Snapshot" and granularity != "Metadata":
        attrib["AsOfDateTime"] = _iso(created)  # the data as committed when it was read
    if prior_file_oid:
        attrib["PriorFileOID"] = prior_file_oid
    return attrib


# --- metadata --------------------------------------------------------------------------------


def _codelist_items(item: Item) -> list[etree._Element]:
    return [el("CodeListItem", {"CodedValue": option.code, "OrderNumber": n},
               translated("Decode", option.label))
            for n, option in enumerate(item.options, start=1)]


def _item_defs(d: InstrumentDefinition) -> tuple[list[etree._Element], list[etree._Element],
                                                   list[etree._Element]]:
    """(ItemRefs, ItemDefs, CodeLists) of one instrument's answers."""
    refs, defs, lists = [], [], []
    tests = {(t.item.id if t.item else None, t.option): t.testcd for t in cat.qs_tests(d)}
    order = itertools.count(1)
    for item in d.items:
        if item.type == cat.MULTI:
            for option in item.options:
                oid = cat.item_oid(d.code, item.id, str(option.code))
                refs.append(el("ItemRef", {"ItemOID": oid, "OrderNumber": next(order),
                                           "Mandatory": "No"}))
                question = {lang: f"{text} — {option.label[lang]}"
                            for lang, text in item.text.items()}
                defs.append(el(
                    "ItemDef", {"OID": oid, "Name": f"{item.id}.{option.code}",
                                "DataType": "text", "Length": 1},
                    translated("Question", question),
                    el("CodeListRef", {"CodeListOID": cat.YN_CODELIST}),
                    el("Alias", {"Context": "SDTM.QSTESTCD",
                                 "Name": tests[(item.id, str(option.code))]}),
                ))
            continue
        oid = cat.item_oid(d.code, item.id)
        mandatory = "Yes" if item.required and item.enable_when is None else "No"
        refs.append(el("ItemRef", {"ItemOID": oid, "OrderNumber": next(order),
                                   "Mandatory": mandatory}))
        children: list[etree._Element | None] = [translated("Question", item.text)]
        if item.type == "single_choice":
            children.append(el("CodeListRef", {"CodeListOID": cat.codelist_oid(d.code, item.id)}))
            lists.append(el("CodeList", {"OID": cat.codelist_oid(d.code, item.id),
                                         "Name": f"{d.code}.{item.id}", "DataType": "integer"},
                            *_codelist_items(item)))
        else:
            children[0:0] = [translated("Description", {
                "en": f"Integer {item.min}-{item.max}" + (f" {item.unit}" if item.unit else "")})]
            children += [
                el("RangeCheck", {"Comparator": "GE", "SoftHard": "Hard"},
                   el("CheckValue", text=str(item.min))),
                el("RangeCheck", {"Comparator": "LE", "SoftHard": "Hard"},
                   el("CheckValue", text=str(item.max))),
            ]
        children += [el("Alias", {"Context": "SDTM.QSTESTCD", "Name": item.sdtm_testcd}),
                     el("Alias", {"Context": "REDCap",
                                  "Name": cat.redcap_field(d.code, item.sdtm_testcd)})]
        defs.append(el("ItemDef", {"OID": oid, "Name": item.id, "DataType": "integer"},
                       *children))
    return refs, defs, lists


def _score_defs(d: InstrumentDefinition) -> tuple[list[etree._Element], list[etree._Element]]:
    refs, defs = [], []
    for n, score in enumerate(d.scores, start=1):
        oid = cat.score_oid(d.code, score.key)
        refs.append(el("ItemRef", {"ItemOID": oid, "OrderNumber": n, "Mandatory": "No",
                                   "MethodOID": cat.method_oid(d.code)}))
        unit = f" Unit: {score.unit}." if score.unit else ""
        defs.append(el(
            "ItemDef", {"OID": oid, "Name": f"score.{score.key}", "DataType": "float",
                        "Origin": "Derived"},
            translated("Description", {"en": f"{score.label['en']}. {score.precision}.{unit}"}),
            translated("Question", score.label),
            el("Alias", {"Context": "SDTM.QSTESTCD", "Name": score.sdtm_testcd}),
            el("Alias", {"Context": "REDCap", "Name": cat.redcap_field(d.code, score.sdtm_testcd)}),
        ))
    return refs, defs


def _admin_defs(d: InstrumentDefinition) -> tuple[list[etree._Element], list[etree._Element]]:
    refs, defs = [], []
    for n, (name, datatype, label) in enumerate(cat.ADMIN_ITEMS, start=1):
        oid = cat.admin_oid(d.code, name)
        refs.append(el("ItemRef", {"ItemOID": oid, "OrderNumber": n, "Mandatory": "Yes"}))
        defs.append(el("ItemDef", {"OID": oid, "Name": f"admin.{name.lower()}",
                                   "DataType": datatype,
                                   "Length": 40 if datatype == "text" else None},
                       translated("Description", {"en": label})))
    return refs, defs


def _method_def(d: InstrumentDefinition) -> etree._Element:
    spec = d.scoring
    notes = " ".join(spec.notes)
    scores = "; ".join(f"{s.key}: {s.precision}" for s in d.scores)
    return el("MethodDef", {"OID": cat.method_oid(d.code),
                            "Name": f"{spec.algorithm} {spec.algorithm_version}",
                            "Type": "Computation"},
              translated("Description", {"en": (
                  f"{d.title['en']} {d.version} scored by algorithm {spec.algorithm} version "
                  f"{spec.algorithm_version} (method {spec.method}). {notes} Scores: {scores}. "
                  "A score that cannot be computed is absent, never 0.")}),
              el("FormalExpression", {"Context": "pro-server"},
                 text=f"{spec.algorithm} {spec.algorithm_version}"))


def metadata_element(catalogue: StudyCatalogue) -> etree._Element:
    """The Study element: GlobalVariables and one MetaDataVersion."""
    form_defs, group_defs, item_defs, code_lists, methods = [], [], [], [], []
    for d in catalogue.definitions:
        answer_refs, answer_defs, lists = _item_defs(d)
        score_refs, score_defs = _score_defs(d)
        admin_refs, admin_defs = _admin_defs(d)
        form_defs.append(el(
            "FormDef", {"OID": cat.form_oid(d.code), "Name": d.title["en"], "Repeating": "No"},
            translated("Description", {lang: f"{d.title[lang]} (version {d.version})"
                                       for lang in d.title}),
            *[el("ItemGroupRef", {"ItemGroupOID": cat.item_group_oid(d.code, part),
                                  "Mandatory": "Yes", "OrderNumber": n})
              for n, part in enumerate((None, "SCORES", "ADMIN"), start=1)],
            el("Alias", {"Context": "REDCap", "Name": d.code}),
            el("Alias", {"Context": "SDTM.QSCAT", "Name": d.sdtm_qscat}),
        ))
        for part, name, refs in ((None, "answers", answer_refs), ("SCORES", "scores", score_refs),
                                 ("ADMIN", "versions and timestamps", admin_refs)):
            group_defs.append(el("ItemGroupDef", {
                "OID": cat.item_group_oid(d.code, part), "Name": f"{d.code} {name}",
                "Repeating": "No", "Domain": "QS" if part != "ADMIN" else None}, *refs))
        item_defs += answer_defs + score_defs + admin_defs
        code_lists += lists
        methods.append(_method_def(d))
    code_lists.append(el("CodeList", {"OID": cat.YN_CODELIST, "Name": "Checked",
                                      "DataType": "text"},
                         el("CodeListItem", {"CodedValue": cat.CHECKED},
                            translated("Decode", {"en": "Checked", "es": "Marcado"})),
                         el("CodeListItem", {"CodedValue": cat.NOT_CHECKED},
                            translated("Decode", {"en": "Not checked", "es": "No marcado"}))))
    events = catalogue.events
    extra = odm_participation.metadata(catalogue, el, translated)
    form_defs += extra["forms"]
    group_defs += extra["groups"]
    item_defs += extra["items"]
    code_lists += extra["code_lists"]
    protocol = el("Protocol", None, *[
        el("StudyEventRef", {"StudyEventOID": e.oid, "OrderNumber": e.order, "Mandatory": "No"})
        for e in events], *[
        el("StudyEventRef", {"StudyEventOID": e.get("OID"), "OrderNumber": len(events) + n,
                             "Mandatory": "No"})
        for n, e in enumerate(extra["events"], start=1)])
    event_defs = [el("StudyEventDef", {"OID": e.oid, "Name": e.code, "Repeating": "No",
                                       "Type": "Scheduled"},
                     translated("Description", {"en": e.description}),
                     *[el("FormRef", {"FormOID": cat.form_oid(code), "Mandatory": "No",
                                      "OrderNumber": n})
                       for n, code in enumerate(e.instruments, start=1)],
                     el("FormRef", {"FormOID": odm_participation.STATUS_FORM,
                                    "Mandatory": "No", "OrderNumber": len(e.instruments) + 1}),
                     el("Alias", {"Context": "REDCap", "Name": e.redcap_name}),
                     el("Alias", {"Context": "SDTM.VISITNUM", "Name": str(e.visitnum)}))
                  for e in events] + extra["events"]
    registry = f" ({catalogue.registry_id})" if catalogue.registry_id else ""
    return el(
        "Study", {"OID": catalogue.study_oid},
        el("GlobalVariables", None,
           el("StudyName", text=catalogue.study_code),
           el("StudyDescription", text=f"Patient-reported outcomes of {catalogue.study_code}"
                                       f"{registry}"),
           el("ProtocolName", text=catalogue.study_code)),
        el("MetaDataVersion", {"OID": catalogue.mdv_oid,
                               "Name": f"{catalogue.study_code} PRO metadata"},
           protocol, *event_defs, *form_defs, *group_defs, *item_defs, *code_lists, *methods),
    )


def metadata_document(catalogue: StudyCatalogue, created: datetime) -> bytes:
    root = el("ODM", _root_attrib(f"{catalogue.study_code}.metadata.{created:%Y%m%dT%H%M%S}",
                                  "Snapshot", created, "Metadata"),
              metadata_element(catalogue))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- clinical data ---------------------------------------------------------------------------


def admin_data(catalogue: StudyCatalogue, sites: Sequence[tuple[str, str]],
               recorders: Iterable[str], effective: datetime) -> etree._Element:
    users = {PARTICIPANT_USER: "Participant (self-report in the ePRO web app)"}
    users.update({user_oid(r): r for r in recorders if r != "participant"})
    return el(
        "AdminData", {"StudyOID": catalogue.study_oid},
        *[el("User", {"OID": oid, "UserType": "Other"}, el("LoginName", text=login))
          for oid, login in sorted(users.items())],
        *[el("Location", {"OID": location_oid(code), "Name": name, "LocationType": "Site"},
             el("MetaDataVersionRef", {"StudyOID": catalogue.study_oid,
                                       "MetaDataVersionOID": catalogue.mdv_oid,
                                       "EffectiveDate": effective.date().isoformat()}))
          for code, name in sites],
    )


def admin_values(d: InstrumentDefinition, row: Row) -> dict[str, str]:
    tz = row["timezone"]
    return _admin_values(d.code, row["instrument_version"], row["algorithm"],
                         row["algorithm_version"], row["language"],
                         _iso(utc_to_local(row["started_at"], tz)),
                         _iso(utc_to_local(row["submitted_at"], tz)), row["version"],
                         timing(row)["status"] == "late")


def _admin_values(code: str, instrument_version: str, algorithm: str, algorithm_version: str,
                  language: str, started: str, submitted: str, version: int,
                  late: bool) -> dict[str, str]:
    values = {
        "INSTRUMENT_VERSION": instrument_version,
        "ALGORITHM": algorithm,
        "ALGORITHM_VERSION": algorithm_version,
        "LANGUAGE": language,
        "STARTED": started,
        "SUBMITTED": submitted,
        "RESPONSE_VERSION": str(version),
        "TIMING": "late" if late else "on_time",
    }
    return {cat.admin_oid(code, k): v for k, v in values.items()}


_TIME = "\ue000"  # stands for a local time in `_admin_parts` (no escaping changes it)


@lru_cache(maxsize=4096)
def _admin_parts(code: str, instrument_version: str, algorithm: str, algorithm_version: str,
                 language: str, version: int, late: bool) -> tuple[bytes, bytes, bytes]:
    """The admin ItemGroupData, then the FormData end, as bytes before, between and after
    the local start and submit times: all of it but the times repeats from row to row."""
    group = item_group(cat.item_group_oid(code, "ADMIN"), _admin_values(
        code, instrument_version, algorithm, algorithm_version, language, _TIME, _TIME,
        version, late))
    head, middle, tail = (group + "</FormData>").split(_TIME)
    return head.encode(), middle.encode(), tail.encode()


def change_annotation(row: Row, make: Any = None) -> etree._Element:
    """Who asked for a correction and who approved it: the AuditRecord's one UserRef is the
    approver (the change took effect by their decision); the requester is named here."""
    make = make or el
    approver = row["recorded_by"]
    asked = requester(row)
    people = ([f"requested by {asked} ({user_oid(asked)})"] if asked else []) + [
        f"approved by {approver} ({user_oid(approver)})"]
    return make("Annotation", {"SeqNum": 1, "TransactionType": "Insert"},
                make("Comment", {"SponsorOrSite": "Site"},
                     text=f"Correction {'; '.join(people)}; source: {row['change_source']}"))


# --- the clinical data of a subject, as bytes --------------------------------------------
# A Snapshot or Transactional file is mostly ItemData. Instead of a tree of lxml elements
# per subject, each element is serialised by lxml once and kept: a leaf such as
# <ItemData ItemOID="I.X.Y" Value="3"/> (its values repeat), a start tag of a container.
# They are written inside the file's ODM element, whose default namespace is the ODM one,
# so they are made without a namespace (the same bytes as a namespaced child would have).


def fragment_el(name: str, attrib: Mapping[str, Any] | None = None,
                *children: etree._Element | None, text: str | None = None) -> etree._Element:
    """`el` without the namespace: for elements serialised as fragments inside the file."""
    node = etree.Element(name, {k: str(v) for k, v in (attrib or {}).items()
                                if v is not None})
    node.extend(c for c in children if c is not None)
    if text is not None:
        node.text = text
    return node


def fragment(node: etree._Element) -> bytes:
    return etree.tostring(node, encoding="UTF-8")


@lru_cache(maxsize=16384)  # the repeated leaves stay; unique timestamps pass through
def _leaf(name: str, attrib: tuple[tuple[str, str], ...]) -> bytes:
    return fragment(fragment_el(name, dict(attrib)))


@lru_cache(maxsize=4096)
def _start(name: str, attrib: tuple[tuple[str, str], ...], namespaced: bool = False) -> bytes:
    """The start tag of a container element (`namespaced`: declaring the ODM namespace)."""
    node = el(name, dict(attrib)) if namespaced else fragment_el(name, dict(attrib))
    empty = fragment(node)  # <Name a="b"/>
    return empty[:-2] + b">"


def _end(name: str) -> bytes:
    return f"</{name}>".encode()


@lru_cache(maxsize=256)
def _form_start(code: str, transaction: str | None) -> bytes:
    """A FormData start tag of instrument `code` (`transaction`: its TransactionType)."""
    attrib: tuple[tuple[str, str], ...] = (("FormOID", cat.form_oid(code)),)
    if transaction:
        attrib += (("TransactionType", transaction),)
    return _start("FormData", attrib)


def form_data(d: InstrumentDefinition, row: Row, *, transactional: bool, items: bool,
              scores: bool, out: list[bytes]) -> None:
    """One response version's FormData, appended to `out` as bytes (its answers and scores
    ItemGroupData joined by the database when the row has `odm_groups`, with the admin
    items' local times: odm_pg)."""
    check_texts(row)
    built = "odm_groups" in row
    update = transactional and row["version"] > 1
    out.append(_form_start(d.code, ("Update" if update else "Insert") if transactional
                           else None))
    if transactional and built:
        audit_record(row, update, out)
    elif transactional:
        make = fragment_el
        out.append(fragment(make(
            "AuditRecord", None,
            make("UserRef", {"UserOID": user_oid(row["recorded_by"])}),
            make("LocationRef", {"LocationOID": location_oid(row["site_code"])}),
            make("DateTimeStamp", text=_iso(row["recorded_at"])),
            make("ReasonForChange", text=row["change_reason"]) if update else None,
            make("SourceID", text=f"audit-seq:{row['audit_seq']}"))))
    if update:
        out.append(fragment(change_annotation(row, fragment_el)))
    if built:  # the stored texts joined by the database, then the admin ItemGroupData
        out.append(row["odm_groups"].encode())
        head, middle, tail = _admin_parts(
            d.code, row["instrument_version"], row["algorithm"], row["algorithm_version"],
            row["language"], row["version"], row["admin_late"])
        out += (head, row["admin_started"].encode(), middle, row["admin_submitted"].encode(),
                tail)
        return
    _item_groups(d, row, update=update, items=items, scores=scores, out=out)
    out.append(b"</FormData>")


@lru_cache(maxsize=1024)
def _audit_head(recorded_by: str, site_code: str) -> bytes:
    """An AuditRecord up to its DateTimeStamp's text: who and where."""
    return b"".join((b"<AuditRecord>", _leaf("UserRef", (("UserOID", user_oid(recorded_by)),)),
                     _leaf("LocationRef", (("LocationOID", location_oid(site_code)),)),
                     b"<DateTimeStamp>"))


def _escape_text(text: str) -> str:
    """XML text escaping, as lxml writes element text."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;"))


def audit_record(row: Row, update: bool, out: list[bytes]) -> None:
    """The AuditRecord of a row from odm_pg, appended to `out`: as `form_data` writes it from
    the Python rows, when (UTC) from the text stored with the version (`recorded_utc`, its Z
    written +00:00)."""
    out += (_audit_head(row["recorded_by"], row["site_code"]),
            row["recorded_utc"][:-1].encode())
    if update:
        out.append(b"+00:00</DateTimeStamp><ReasonForChange>%s</ReasonForChange>"
                   % _escape_text(row["change_reason"] or "").encode())
    else:
        out.append(b"+00:00</DateTimeStamp>")
    out.append(b"<SourceID>audit-seq:%d</SourceID></AuditRecord>" % row["audit_seq"])


def _item_groups(d: InstrumentDefinition, row: Row, *, update: bool, items: bool,
                 scores: bool, out: list[bytes]) -> None:
    """The answers and scores ItemGroupData stored with the version (`update`: with what the
    correction of a Transactional file removed), and the admin ItemGroupData."""
    for name, wanted in (("items", items), ("scores", scores)):
        if wanted:
            stored = row[f"odm_{name}_update"] if update else None
            out.append((row[f"odm_{name}"] if stored is None else stored).encode())
    out.append(item_group(cat.item_group_oid(d.code, "ADMIN"), admin_values(d, row)).encode())


# A Snapshot's StudyEventData of what is not a response: made with `fragment_el`, or its bytes.
Event = etree._Element | bytes

_STATUS_COMPLETED = fragment(odm_participation.status_form(fragment_el, "COMPLETED"))


def infusion_data(i: ScheduledInfusion, tz: str) -> bytes:
    """`odm_participation.infusion_event` serialised (as `fragment` writes it), from bytes
    kept: its start tags, its ItemData as `_leaf` keeps them. Building the elements of each
    infusion was a third of a Snapshot's writing."""
    group = odm_participation.INFUSION_GROUP
    leaves = [_leaf("ItemData", (("ItemOID", odm_participation.infusion_item_oid(suffix)),
                                 ("Value", str(value))))
              for suffix, value in odm_participation.infusion_values(i, tz).items()
              if value is not None and value != ""]
    return b"".join((
        _start("StudyEventData",
               (("StudyEventOID", odm_participation.infusion_event_oid(i.number)),)),
        _start("FormData", (("FormOID", odm_participation.INFUSION_FORM),)),
        *([_start("ItemGroupData", (("ItemGroupOID", group),)), *leaves, b"</ItemGroupData>"]
          if leaves else [_leaf("ItemGroupData", (("ItemGroupOID", group),))]),
        b"</FormData></StudyEventData>"))


def subject_data(catalogue: StudyCatalogue, rows: Sequence[Row], definitions: Any, *,
                 transactional: bool, items: bool, scores: bool,
                 subject: tuple[str, str] | None = None,
                 extra_events: Sequence[Event] = ()) -> bytes:
    """One SubjectData for consecutive rows of one subject (grouped by assessment), and in a
    Snapshot the subject's other events (`subject`: key and site when there are no rows;
    `extra_events` made with `fragment_el`, or their bytes)."""
    context = "Context" if transactional else None
    key, site = subject or (rows[0]["subject_key"], rows[0]["site_code"])
    head: tuple[tuple[str, str], ...] = (("SubjectKey", key),)
    if context:
        head += (("TransactionType", context),)
    out = [_start("SubjectData", head, namespaced=True),
           _leaf("SiteRef", (("LocationOID", location_oid(site)),))]
    for code, group in itertools.groupby(rows, key=lambda r: r["assessment_code"]):
        attrib: tuple[tuple[str, str], ...] = (("StudyEventOID", catalogue.event(code).oid),)
        if context:
            attrib += (("TransactionType", context),)
        out.append(_start("StudyEventData", attrib))
        if not transactional:
            out.append(_STATUS_COMPLETED)
        for row in group:
            d = definitions(row["instrument_code"], row["instrument_version"])
            form_data(d, row, transactional=transactional, items=items, scores=scores,
                      out=out)
        out.append(b"</StudyEventData>")
    out.extend(event if isinstance(event, bytes) else fragment(event)
               for event in extra_events)
    out.append(b"</SubjectData>")
    return b"".join(out)


def _subjects(rows: Iterable[Row], extras: Iterable[tuple[int, str, str, Event]],
              transactional: bool) -> Iterator[tuple[list[Row], tuple[str, str],
                                                     list[Event]]]:
    """Per subject: its rows, (key, site) and its other events, merged by subject rank."""
    if transactional:
        for _, group in itertools.groupby(rows, key=lambda r: r["subject_key"]):
            found = list(group)
            yield found, (found[0]["subject_key"], found[0]["site_code"]), []
        return
    # merged a subject at a time (its rows are consecutive): not a row at a time
    tagged: Iterator[tuple[int, int, list[Row] | tuple[str, str, Event]]] = heapq.merge(
        ((rank, 0, list(group)) for rank, group in itertools.groupby(
            rows, key=lambda r: r["subject_rank"])),
        ((rank, 1, (key, site, event)) for rank, key, site, event in extras),
        key=lambda t: (t[0], t[1]))
    for _, of_subject in itertools.groupby(tagged, key=lambda t: t[0]):
        own: list[Row] = []
        events: list[Event] = []
        subject: tuple[str, str] | None = None
        for _, _kind, item in of_subject:
            if isinstance(item, tuple):  # another event of the subject
                key, site, event = item
                subject = subject or (key, site)
                events.append(event)
            else:  # its rows (before its other events)
                own.extend(item)
                subject = subject or (item[0]["subject_key"], item[0]["site_code"])
        assert subject is not None
        yield own, subject, events


def clinical_stream(catalogue: StudyCatalogue, rows: Iterable[Row], definitions: Any, *,
                    transactional: bool, created: datetime, file_oid: str,
                    sites: Sequence[tuple[str, str]], recorders: Iterable[str],
                    items: bool = True, scores: bool = True,
                    prior_file_oid: str | None = None,
                    extras: Iterable[tuple[int, str, str, Event]] = ()
                    ) -> Iterator[bytes]:
    """The ClinicalData file, yielded in chunks; `definitions(code, version)` finds a form.

    `extras` (Snapshots): (subject rank, subject key, site code, StudyEventData) of the
    missed or cancelled assessments and the infusions, ordered by rank like `rows`."""
    buf = io.BytesIO()
    attrib = _root_attrib(file_oid, "Transactional" if transactional else "Snapshot", created,
                          "AllClinicalData", prior_file_oid)
    with etree.xmlfile(buf, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(_tag("ODM"), attrib, nsmap={None: ODM_NS}):
            xf.write(admin_data(catalogue, sites, recorders, created))
            with xf.element(_tag("ClinicalData"), {"StudyOID": catalogue.study_oid,
                                                   "MetaDataVersionOID": catalogue.mdv_oid}):
                xf.flush()  # the ClinicalData start tag, before the subjects' own bytes
                for subject_rows, subject, events in _subjects(rows, extras, transactional):
                    buf.write(subject_data(catalogue, subject_rows, definitions,
                                           transactional=transactional, items=items,
                                           scores=scores, subject=subject,
                                           extra_events=events))
                    if buf.tell() >= FLUSH_BYTES:
                        yield buf.getvalue()
                        buf.seek(0)
                        buf.truncate()
    yield buf.getvalue()
