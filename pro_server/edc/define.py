"""Define-XML 2.1 for the SDTM datasets we produce (QS, EX, DS), and a readable HTML view of
the same metadata (pure: catalogue and measured widths in, bytes out; lxml builds both).

Dataset and variable metadata, code lists (QSTESTCD with its QSTEST decodes, QSCAT, flags),
value-level metadata for QSORRES per QSTESTCD (its question or score, Collected or Derived
with the scoring MethodDef), and the SDTMIG version the QS export was made for (the
`SDTMIG_VERSION` setting: QSBLFL in 3.3, QSLOBXFL in 3.4).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree
from lxml.builder import E

from pro_server.edc import catalogue as cat
from pro_server.edc import participation, sdtm
from pro_server.edc.catalogue import ODM_NS, StudyCatalogue
from pro_server.edc.xpt import Dataset

DEF_NS = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NSMAP = {None: ODM_NS, "def": DEF_NS, "xlink": XLINK_NS}
CT_VERSION = "2024-03-29"  # NCI/CDISC SDTM controlled terminology the codes follow

# Per variable: (data type, origin type, origin source, code list key or None)
_DATE, _DATETIME = "date", "datetime"
VARIABLES: Mapping[str, tuple[str, str, str | None, str | None]] = {
    "STUDYID": ("text", "Assigned", "Sponsor", None),
    "DOMAIN": ("text", "Assigned", "Sponsor", None),
    "USUBJID": ("text", "Assigned", "Sponsor", None),
    "QSSEQ": ("integer", "Assigned", "Sponsor", None),
    "QSTESTCD": ("text", "Assigned", "Sponsor", "QSTESTCD"),
    "QSTEST": ("text", "Assigned", "Sponsor", None),
    "QSCAT": ("text", "Assigned", "Sponsor", "QSCAT"),
    "QSSCAT": ("text", "Assigned", "Sponsor", None),
    "QSORRES": ("text", "Collected", "Subject", None),
    "QSORRESU": ("text", "Assigned", "Sponsor", "UNIT"),
    "QSSTRESC": ("text", "Derived", "Sponsor", None),
    "QSSTRESN": ("float", "Derived", "Sponsor", None),
    "QSSTRESU": ("text", "Assigned", "Sponsor", "UNIT"),
    "QSSTAT": ("text", "Assigned", "Sponsor", "ND"),
    "QSREASND": ("text", "Assigned", "Sponsor", None),
    "QSBLFL": ("text", "Derived", "Sponsor", "NY"),
    "QSLOBXFL": ("text", "Derived", "Sponsor", "NY"),
    "QSDRVFL": ("text", "Assigned", "Sponsor", "NY"),
    "VISITNUM": ("integer", "Assigned", "Sponsor", None),
    "VISIT": ("text", "Assigned", "Sponsor", None),
    "VISITDY": ("integer", "Protocol", None, None),
    "QSDTC": (_DATETIME, "Collected", "Subject", None),
    "QSDY": ("integer", "Derived", "Sponsor", None),
    "QSEVLINT": ("durationDatetime", "Assigned", "Sponsor", None),
    "EXSEQ": ("integer", "Assigned", "Sponsor", None),
    "EXSPID": ("text", "Assigned", "Sponsor", None),
    "EXTRT": ("text", "Assigned", "Sponsor", None),
    "EXROUTE": ("text", "Assigned", "Sponsor", "ROUTE"),
    "EXOCCUR": ("text", "Collected", "Investigator", "NY"),
    "EXSTAT": ("text", "Assigned", "Sponsor", "ND"),
    "EXREASND": ("text", "Collected", "Investigator", None),
    "EXPLDTC": (_DATE, "Derived", "Sponsor", None),
    "EXSTDTC": (_DATETIME, "Collected", "Investigator", None),
    "EXSTDY": ("integer", "Derived", "Sponsor", None),
    "DSSEQ": ("integer", "Assigned", "Sponsor", None),
    "DSTERM": ("text", "Collected", "Investigator", None),
    "DSDECOD": ("text", "Assigned", "Sponsor", None),
    "DSCAT": ("text", "Assigned", "Sponsor", "DSCAT"),
    "DSSTDTC": (_DATE, "Collected", "Investigator", None),
    "DSSTDY": ("integer", "Derived", "Sponsor", None),
}
KEYS = {"QS": ("STUDYID", "USUBJID", "QSCAT", "QSTESTCD", "VISITNUM"),
        "EX": ("STUDYID", "USUBJID", "EXSPID"),
        "DS": ("STUDYID", "USUBJID", "DSSEQ")}
CLASSES = {"QS": "FINDINGS", "EX": "INTERVENTIONS", "DS": "EVENTS"}
STRUCTURES = {"QS": "One record per questionnaire per question per visit per subject",
              "EX": "One record per infusion per subject",
              "DS": "One record per disposition event per subject"}


@dataclass(frozen=True)
class DefineInput:
    """What the Define file describes: the catalogue, the SDTMIG version, and per dataset
    the character widths measured on the data (as in the XPT files)."""

    catalogue: StudyCatalogue
    sdtmig: str
    widths: Mapping[str, Mapping[str, int]]  # dataset name -> variable -> width


def datasets(sdtmig: str) -> tuple[Dataset, ...]:
    return (sdtm.qs_dataset(sdtmig), participation.EX, participation.DS)


def _element(ns: str, name: str, attrib: Mapping[str, Any] | None, children: Iterable[Any],
             text: str | None) -> etree._Element:
    node = etree.Element(f"{{{ns}}}{name}", {k: str(v) for k, v in (attrib or {}).items()
                                             if v is not None}, nsmap=NSMAP)
    node.extend(c for c in children if c is not None)
    if text is not None:
        node.text = text
    return node


def _d(name: str, attrib: Mapping[str, Any] | None = None, *children: Any,
       text: str | None = None) -> etree._Element:
    """An element of the Define-XML namespace (def:)."""
    return _element(DEF_NS, name, attrib, children, text)


def _o(name: str, attrib: Mapping[str, Any] | None = None, *children: Any,
       text: str | None = None) -> etree._Element:
    """An element of the ODM namespace."""
    return _element(ODM_NS, name, attrib, children, text)


def _description(text: str) -> etree._Element:
    node = _o("Description")
    child = etree.SubElement(node, f"{{{ODM_NS}}}TranslatedText", {XML_LANG: "en"})
    child.text = text
    return node


def _origin(kind: str, source: str | None) -> etree._Element:
    return _d("Origin", {"Type": kind, "Source": source})


def _test_origin(test: cat.QsTest) -> tuple[str, str | None]:
    return ("Derived", "Sponsor") if test.score is not None else ("Collected", "Subject")


def code_lists(catalogue: StudyCatalogue) -> dict[str, tuple[str, Sequence[tuple[str, str]]]]:
    """key -> (name, [(coded value, decode)]); a decode of "" means an EnumeratedItem list."""
    tests = {t.testcd: t.test for d in catalogue.definitions for t in cat.qs_tests(d)}
    tests[sdtm.QSALL[0]] = sdtm.QSALL[1]
    units = sorted({u for d in catalogue.definitions
                    for u in [i.unit for i in d.items] + [s.unit for s in d.scores] if u})
    return {
        "QSTESTCD": ("Questionnaire test codes", sorted(tests.items())),
        "QSCAT": ("Questionnaire categories",
                  sorted({(d.sdtm_qscat, "") for d in catalogue.definitions})),
        "UNIT": ("Units", [(u, "") for u in units]),
        "NY": ("No Yes Response", [("N", "No"), ("Y", "Yes")]),
        "ND": ("Not Done", [(sdtm.NOT_DONE, "")]),
        "ROUTE": ("Route of Administration", [(participation.EXROUTE, "")]),
        "DSCAT": ("Category for Disposition Event",
                  [("DISPOSITION EVENT", ""), ("PROTOCOL MILESTONE", "")]),
    }


def _code_list(key: str, name: str, items: Sequence[tuple[str, str]]) -> etree._Element:
    decoded = any(decode for _, decode in items)
    node = _o("CodeList", {"OID": f"CL.{key}", "Name": name, "DataType": "text"})
    for n, (value, decode) in enumerate(items, start=1):
        if decoded:
            item = _o("CodeListItem", {"CodedValue": value, "OrderNumber": n})
            decode_node = _o("Decode")
            t = etree.SubElement(decode_node, f"{{{ODM_NS}}}TranslatedText", {XML_LANG: "en"})
            t.text = decode
            item.append(decode_node)
        else:
            item = _o("EnumeratedItem", {"CodedValue": value, "OrderNumber": n})
        node.append(item)
    return node


def document(spec: DefineInput, created: datetime) -> bytes:
    """The define.xml of the study's SDTM datasets."""
    c = spec.catalogue
    std = f"STD.SDTMIG.{spec.sdtmig}"
    standards = _d("Standards", None,
                   _d("Standard", {"OID": std, "Name": "SDTMIG", "Type": "IG",
                                   "Version": spec.sdtmig, "Status": "Final"}),
                   _d("Standard", {"OID": "STD.CT.SDTM", "Name": "CDISC/NCI", "Type": "CT",
                                   "PublishingSet": "SDTM", "Version": CT_VERSION,
                                   "Status": "Final"}))
    value_items, where_clauses, vl_refs = [], [], []
    all_tests = ((d, t) for d in c.definitions for t in cat.qs_tests(d))
    for n, (d, test) in enumerate(all_tests, start=1):
        wc = f"WC.QS.QSTESTCD.{d.sdtm_qscat}.{test.testcd}".replace(" ", "_")
        oid = f"IT.QS.QSORRES.{d.code.upper()}.{test.testcd}"
        where_clauses.append(_d("WhereClauseDef", {"OID": wc},
                                _o("RangeCheck", {"SoftHard": "Soft",
                                                  f"{{{DEF_NS}}}ItemOID": "IT.QS.QSTESTCD",
                                                  "Comparator": "EQ"},
                                   _o("CheckValue", text=test.testcd)),
                                _o("RangeCheck", {"SoftHard": "Soft",
                                                  f"{{{DEF_NS}}}ItemOID": "IT.QS.QSCAT",
                                                  "Comparator": "EQ"},
                                   _o("CheckValue", text=d.sdtm_qscat))))
        vl_refs.append(_o("ItemRef", {"ItemOID": oid, "OrderNumber": n, "Mandatory": "No",
                                      "MethodOID": cat.method_oid(d.code)
                                      if test.score is not None else None},
                          _d("WhereClauseRef", {"WhereClauseOID": wc})))
        kind, source = _test_origin(test)
        text = (test.score.label["en"] if test.score is not None
                else " ".join((test.item.text["en"] if test.item else "").split()))
        value_items.append(_o("ItemDef", {"OID": oid, "Name": f"QSORRES.{test.testcd}",
                                          "DataType": "text",
                                          "Length": spec.widths["QS"].get("QSORRES", 1)},
                              _description(f"{d.sdtm_qscat} {test.testcd}: {text}"[:1000]),
                              _origin(kind, source)))
    value_list = _d("ValueListDef", {"OID": "VL.QS.QSORRES"}, *vl_refs)
    groups, item_defs, used_lists = [], [], set()
    for ds in datasets(spec.sdtmig):
        refs = []
        for n, (name, _label) in enumerate(ds.columns, start=1):
            key = KEYS[ds.name].index(name) + 1 if name in KEYS[ds.name] else None
            refs.append(_o("ItemRef", {"ItemOID": f"IT.{ds.name}.{name}", "OrderNumber": n,
                                       "Mandatory": "Yes" if name in ("STUDYID", "DOMAIN",
                                                                      "USUBJID") or key
                                       else "No", "KeySequence": key}))
        groups.append(_o("ItemGroupDef", {
            "OID": f"IG.{ds.name}", "Name": ds.name, "Domain": ds.name, "Repeating": "Yes",
            "IsReferenceData": "No", "SASDatasetName": ds.name, "Purpose": "Tabulation",
            f"{{{DEF_NS}}}Structure": STRUCTURES[ds.name], f"{{{DEF_NS}}}StandardOID": std,
            f"{{{DEF_NS}}}ArchiveLocationID": f"LF.{ds.name}"},
            _description(ds.label), *refs,
            _d("Class", {"Name": CLASSES[ds.name]}),
            _d("leaf", {"ID": f"LF.{ds.name}", f"{{{XLINK_NS}}}href": f"{ds.name.lower()}.xpt"},
               _d("title", text=f"{ds.name.lower()}.xpt"))))
        for name, label in ds.columns:
            datatype, kind, source, code_list = VARIABLES[name]
            numeric = name in ds.numeric
            length = None if numeric or datatype in (_DATE, _DATETIME, "durationDatetime") \
                else spec.widths[ds.name].get(name, 1)
            if code_list:
                used_lists.add(code_list)
            item_defs.append(_o(
                "ItemDef", {"OID": f"IT.{ds.name}.{name}", "Name": name, "DataType": datatype,
                            "Length": length, "SASFieldName": name},
                _description(label),
                _o("CodeListRef", {"CodeListOID": f"CL.{code_list}"}) if code_list else None,
                _origin(kind, source),
                _d("ValueListRef", {"ValueListOID": "VL.QS.QSORRES"})
                if (ds.name, name) == ("QS", "QSORRES") else None))
    lists = [_code_list(key, name, items) for key, (name, items) in code_lists(c).items()
             if key in used_lists]
    methods = [_o("MethodDef", {"OID": cat.method_oid(d.code),
                                "Name": f"{d.scoring.algorithm} {d.scoring.algorithm_version}",
                                "Type": "Computation"},
                  _description(f"{d.title['en']} {d.version}: scored by {d.scoring.algorithm} "
                               f"{d.scoring.algorithm_version} ({d.scoring.method}); a score "
                               "that cannot be computed is NOT DONE with the reason."))
               for d in c.definitions if d.scores]
    mdv = _o("MetaDataVersion", {"OID": f"MDV.{c.study_code}.SDTM",
                                 "Name": f"{c.study_code} SDTM (PRO data)",
                                 f"{{{DEF_NS}}}DefineVersion": "2.1.0"},
             standards, value_list, *where_clauses, *groups, *item_defs, *value_items,
             *lists, *methods)
    registry = f" ({c.registry_id})" if c.registry_id else ""
    root = _o("ODM", {"FileOID": f"{c.study_code}.define.{created:%Y%m%dT%H%M%S}",
                      "FileType": "Snapshot", "ODMVersion": "1.3.2",
                      "CreationDateTime": created.isoformat(), "Originator": "pro-server",
                      "SourceSystem": "pro-server", f"{{{DEF_NS}}}Context": "Other"},
              _o("Study", {"OID": c.study_oid},
                 _o("GlobalVariables", None, _o("StudyName", text=c.study_code),
                    _o("StudyDescription", text=f"Patient-reported outcomes of {c.study_code}"
                                                f"{registry}"),
                    _o("ProtocolName", text=c.study_code)),
                 mdv))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- the HTML view ---------------------------------------------------------------------------


def _table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> etree._Element:
    return E.table(E.thead(E.tr(*[E.th(h) for h in header])),
                   E.tbody(*[E.tr(*[E.td("" if v is None else str(v)) for v in row])
                             for row in rows]))


def html(spec: DefineInput, created: datetime) -> bytes:
    """The same metadata as define.xml, as a page a person can read."""
    c = spec.catalogue
    body: list[Any] = [E.h1(f"{c.study_code}: SDTM define (Define-XML 2.1)"),
                       E.p(f"SDTMIG {spec.sdtmig}, CDISC/NCI SDTM CT {CT_VERSION}. Created "
                           f"{created.isoformat()}. Machine-readable: define.xml.")]
    for ds in datasets(spec.sdtmig):
        body += [E.h2(f"{ds.name}: {ds.label}"),
                 E.p(f"Class {CLASSES[ds.name]}. Structure: {STRUCTURES[ds.name]}. Keys: "
                     f"{', '.join(KEYS[ds.name])}. File: {ds.name.lower()}.xpt")]
        body.append(_table(("Variable", "Label", "Type", "Length", "Origin", "Codelist"), [
            (name, label, VARIABLES[name][0],
             "" if name in ds.numeric else spec.widths[ds.name].get(name, ""),
             " / ".join(filter(None, VARIABLES[name][1:3])), VARIABLES[name][3] or "")
            for name, label in ds.columns]))
    body += [E.h2("Value-level metadata: QSORRES by QSCAT and QSTESTCD"),
             _table(("QSCAT", "QSTESTCD", "QSTEST", "Origin", "Method"), [
                 (d.sdtm_qscat, t.testcd, t.test, _test_origin(t)[0],
                  cat.method_oid(d.code) if t.score is not None else "")
                 for d in c.definitions for t in cat.qs_tests(d)])]
    body.append(E.h2("Codelists"))
    for key, (name, items) in code_lists(c).items():
        body += [E.h3(f"CL.{key}: {name}"), _table(("Coded value", "Decode"), items)]
    page = E.html(E.head(E.meta(charset="utf-8"), E.title(f"{c.study_code} define"),
                         E.style("body{font-family:sans-serif;margin:2em}"
                                 "table{border-collapse:collapse;margin:1em 0}"
                                 "td,th{border:1px solid #999;padding:2px 6px;text-align:left}"
                                 "th{background:#eee}")),
                  E.body(*body))
    return etree.tostring(page, method="html", encoding="UTF-8", doctype="<!DOCTYPE html>")
