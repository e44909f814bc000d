"""Issue 15, item 11: Define-XML 2.1 of QS, EX and DS validates against the official CDISC
Define-XML 2.1 schema (shipped by the odmlib package) and agrees with the XPT files."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from pro_server.edc import participation, sdtm

BASE = "/api/v1/edc/studies/RES001-DMPM-02/sdtm"
NS = {"o": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}
PARSER = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)


@pytest.fixture(scope="module")
def define_schema() -> etree.XMLSchema:
    odmlib = pytest.importorskip("odmlib")
    path = Path(odmlib.__file__).parent / "schemas" / "define" / "2.1" / "define2-1-0.xsd"
    return etree.XMLSchema(etree.parse(str(path), PARSER))


def test_define_xml_validates_and_describes_qs_ex_ds(edc, client, define_schema, tmp_path):
    response = client.get(f"{BASE}/define.xml", headers=edc.headers())
    assert response.status_code == 200
    doc = etree.fromstring(response.data, PARSER)
    assert define_schema.validate(doc), [f"{e.line}: {e.message}"
                                         for e in define_schema.error_log][:5]
    mdv = doc.find(".//o:MetaDataVersion", NS)
    assert mdv.get("{http://www.cdisc.org/ns/def/v2.1}DefineVersion") == "2.1.0"
    ig = mdv.find("def:Standards/def:Standard[@Name='SDTMIG']", NS)
    assert ig.get("Version") == "3.3"
    groups = {g.get("Name"): g for g in mdv.iterfind("o:ItemGroupDef", NS)}
    assert set(groups) == {"QS", "EX", "DS"}
    qs_refs = [r.get("ItemOID") for r in groups["QS"].iterfind("o:ItemRef", NS)]
    assert qs_refs == [f"IT.QS.{n}" for n in sdtm.qs_dataset("3.3").names]
    ex_refs = [r.get("ItemOID") for r in groups["EX"].iterfind("o:ItemRef", NS)]
    assert ex_refs == [f"IT.EX.{n}" for n in participation.EX.names]
    testcds = {i.get("CodedValue") for i in mdv.iterfind(
        "o:CodeList[@OID='CL.QSTESTCD']/o:CodeListItem", NS)}
    assert {"HAQ01", "PAINNRS", "PAINSCR", "QSALL"} <= testcds
    vlm = mdv.findall("def:ValueListDef[@OID='VL.QS.QSORRES']/o:ItemRef", NS)
    assert len(vlm) == len(testcds) - 1  # every test but QSALL (which has no result)
    # Lengths agree with the XPT file the same data makes.
    import pyreadstat

    xpt = tmp_path / "qs.xpt"
    xpt.write_bytes(client.get(f"{BASE}/qs.xpt", headers=edc.headers()).data)
    _, meta = pyreadstat.read_xport(str(xpt), metadataonly=True)
    for item in mdv.iterfind("o:ItemDef", NS):
        oid, length = item.get("OID"), item.get("Length")
        if oid.startswith("IT.QS.") and oid.count(".") == 2 and length:
            assert int(length) == meta.variable_storage_width[item.get("Name")], oid


def test_define_html_is_readable(edc, client):
    response = client.get(f"{BASE}/define.html", headers=edc.headers())
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for text in ("QS: Questionnaires", "EX: Exposure", "QSBLFL", "PAINNRS", "SDTMIG 3.3"):
        assert text in page, text
