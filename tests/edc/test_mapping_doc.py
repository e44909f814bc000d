"""docs/edc-mapping.md lists every item, option and score exactly as the code names them."""

from pathlib import Path

from pro_server.edc.mapping_table import table

DOC = Path(__file__).resolve().parents[2] / "docs" / "edc-mapping.md"


def test_the_mapping_table_in_the_docs_matches_the_definitions():
    assert table() in DOC.read_text(encoding="utf-8")
