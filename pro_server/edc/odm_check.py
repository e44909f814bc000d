"""Checks on ODM files that the 1.3.2 XSD cannot make (it has no keyref): every reference
resolves, every coded value is in its CodeList, values match their DataType, and in a
Transactional file every change carries a TransactionType and an AuditRecord (pure, lxml).

Our rule for TransactionType="Context" (SubjectData and StudyEventData that only frame a
change): no AuditRecord is needed there; every element whose effective TransactionType is
Insert, Update, Remove or Upsert needs one on itself or an ancestor.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from lxml import etree

from pro_server.edc.catalogue import ODM_NS

N = {"o": ODM_NS}
DATA_ELEMENTS = ("SubjectData", "StudyEventData", "FormData", "ItemGroupData", "ItemData")
CHANGES = frozenset({"Insert", "Update", "Remove", "Upsert"})


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname


def _value_error(value: str, datatype: str) -> str | None:
    try:
        if datatype == "integer":
            int(value)
        elif datatype in ("float", "double"):
            Decimal(value)
        elif datatype == "datetime":
            if datetime.fromisoformat(value).tzinfo is None:
                return "datetime without offset"
        elif datatype in ("text", "string"):
            return None
    except (ValueError, InvalidOperation):
        return f"{value!r} is not {datatype}"
    return None


def _attribute(node: etree._Element, path: str, name: str) -> str | None:
    """Attribute ``name`` of the first element at ``path`` under ``node`` (None if either is
    missing)."""
    found = node.find(path, N)
    return None if found is None else found.get(name)


def _stamp(text: str | None) -> datetime:
    return datetime.fromisoformat((text or "").replace("Z", "+00:00"))


def semantic_errors(clinical: etree._Element, metadata: etree._Element) -> list[str]:
    """Problems in `clinical` (an ODM root) against the Study/MetaDataVersion in `metadata`."""
    errors: list[str] = []
    study = metadata.find("o:Study", N)
    mdv = study.find("o:MetaDataVersion", N) if study is not None else None
    if study is None or mdv is None:
        return ["metadata has no Study/MetaDataVersion"]
    item_defs = {d.get("OID"): d for d in mdv.iterfind("o:ItemDef", N)}
    code_lists = {c.get("OID"): {i.get("CodedValue") for i in c.iterfind("o:CodeListItem", N)}
                  for c in mdv.iterfind("o:CodeList", N)}
    defined = {tag: {d.get("OID") for d in mdv.iterfind(f"o:{tag}", N)}
               for tag in ("StudyEventDef", "FormDef", "ItemGroupDef", "MethodDef")}
    for ref, target in (("ItemRef", "ItemOID"), ("FormRef", "FormOID"),
                        ("ItemGroupRef", "ItemGroupOID"), ("StudyEventRef", "StudyEventOID")):
        pool = {"ItemOID": set(item_defs), "FormOID": defined["FormDef"],
                "ItemGroupOID": defined["ItemGroupDef"],
                "StudyEventOID": defined["StudyEventDef"]}[target]
        errors += [f"{ref} {r.get(target)} has no definition"
                   for r in mdv.iter(f"{{{ODM_NS}}}{ref}") if r.get(target) not in pool]
        if ref == "ItemRef":
            errors += [f"ItemRef {r.get('ItemOID')} names unknown method {r.get('MethodOID')}"
                       for r in mdv.iter(f"{{{ODM_NS}}}ItemRef")
                       if r.get("MethodOID") and r.get("MethodOID") not in defined["MethodDef"]]
    for oid, d in item_defs.items():
        code_list_ref = d.find("o:CodeListRef", N)
        if code_list_ref is not None and code_list_ref.get("CodeListOID") not in code_lists:
            errors.append(f"ItemDef {oid} names unknown CodeList "
                          f"{code_list_ref.get('CodeListOID')}")

    users = {u.get("OID") for u in clinical.iterfind("o:AdminData/o:User", N)}
    locations = {loc.get("OID") for loc in clinical.iterfind("o:AdminData/o:Location", N)}
    transactional = clinical.get("FileType") == "Transactional"
    created = _stamp(clinical.get("CreationDateTime"))
    for data in clinical.iterfind("o:ClinicalData", N):
        if data.get("StudyOID") != study.get("OID") or data.get("MetaDataVersionOID") != mdv.get(
                "OID"):
            errors.append("ClinicalData does not name the metadata's Study and MetaDataVersion")
        errors += _check_tree(data, item_defs, code_lists, defined, users, locations,
                              transactional, created)
    return errors


def _check_tree(data: etree._Element, item_defs: dict, code_lists: dict, defined: dict,
                users: set, locations: set, transactional: bool, created: datetime
                ) -> list[str]:
    errors: list[str] = []
    last_stamp: datetime | None = None
    oid_attr = {"StudyEventData": ("StudyEventOID", "StudyEventDef"),
                "FormData": ("FormOID", "FormDef"),
                "ItemGroupData": ("ItemGroupOID", "ItemGroupDef")}

    def walk(node: etree._Element, inherited: str | None, audited: bool) -> None:
        nonlocal last_stamp
        name = _local(node)
        if name not in DATA_ELEMENTS:
            return
        where = f"{name} {node.get('SubjectKey') or node.get('ItemOID') or ''}".strip()
        tt = node.get("TransactionType") or inherited
        audit = node.find("o:AuditRecord", N)
        if transactional and tt is None:
            errors.append(f"{where}: no TransactionType in a Transactional file")
        if not transactional and (tt not in (None, "Insert") or audit is not None):
            errors.append(f"{where}: Snapshot files carry no changes or AuditRecords")
        if audit is not None:
            audited = True
            if _attribute(audit, "o:UserRef", "UserOID") not in users:
                errors.append(f"{where}: AuditRecord names an unknown User")
            if _attribute(audit, "o:LocationRef", "LocationOID") not in locations:
                errors.append(f"{where}: AuditRecord names an unknown Location")
            stamp = _stamp(audit.findtext("o:DateTimeStamp", namespaces=N))
            if stamp >= created:
                errors.append(f"{where}: DateTimeStamp not before CreationDateTime")
            if last_stamp is not None and stamp < last_stamp:
                errors.append(f"{where}: AuditRecords out of DateTimeStamp order")
            last_stamp = stamp
            if node.get("TransactionType") == "Update" and not audit.findtext(
                    "o:ReasonForChange", namespaces=N):
                errors.append(f"{where}: an Update without ReasonForChange")
        if transactional and tt in CHANGES and not audited:
            errors.append(f"{where}: {tt} without an AuditRecord")
        site = node.find("o:SiteRef", N)
        if site is not None and site.get("LocationOID") not in locations:
            errors.append(f"{where}: SiteRef names an unknown Location")
        if name in oid_attr:
            attr, tag = oid_attr[name]
            if node.get(attr) not in defined[tag]:
                errors.append(f"{where}: {attr} {node.get(attr)} has no {tag}")
        if name == "ItemData":
            errors.extend(_item_errors(node, tt, item_defs, code_lists))
        for child in node:
            walk(child, tt, audited)

    for subject in data.iterfind("o:SubjectData", N):
        walk(subject, None, False)
    return errors


def _item_errors(node: etree._Element, tt: str | None, item_defs: dict,
                 code_lists: dict) -> list[str]:
    oid = node.get("ItemOID")
    item = item_defs.get(oid)
    if item is None:
        return [f"ItemData {oid} has no ItemDef"]
    value = node.get("Value")
    if value is None:
        return [] if tt == "Remove" or node.get("IsNull") == "Yes" else [
            f"ItemData {oid} has no Value"]
    errors = []
    problem = _value_error(value, item.get("DataType"))
    if problem:
        errors.append(f"ItemData {oid}: {problem}")
    ref = item.find("o:CodeListRef", N)
    if ref is not None and value not in code_lists.get(ref.get("CodeListOID"), set()):
        errors.append(f"ItemData {oid}: {value!r} is not in {ref.get('CodeListOID')}")
    length = item.get("Length")
    if length and len(value) > int(length):
        errors.append(f"ItemData {oid}: longer than Length {length}")
    return errors
