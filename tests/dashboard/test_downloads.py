"""CSV downloads of the grid and the attention list."""

import csv
import io

from pro_server.spreadsheet_csv import to_csv

GNV = "coordinator.gnv@example.org"


def rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_grid_csv_has_a_row_per_participant_and_a_column_per_assessment(story):
    table = rows(story.client(GNV).get("/api/v1/dashboard/grid.csv?status=enrolled"))
    assert [r["subject_key"] for r in table] == ["GNV-001", "GNV-002", "GNV-003", "GNV-004"]
    first = table[0]
    assert list(first)[:4] == ["subject_key", "site", "participant_status", "BASELINE"]
    assert first["INF1_D30"].startswith("done late 2025-")
    assert first["INF2_D7"].startswith("missed (window ")
    assert first["INF4_D7"].startswith("expected (window ")
    assert table[2]["INF1_D7"] == ""


def test_attention_csv_lists_each_item_with_its_next_step(story):
    table = rows(story.client(GNV).get("/api/v1/dashboard/attention.csv"))
    assert table[0] == {
        "what": "Survey window closing within 48 hours", "subject_key": "GNV-004", "site": "GNV",
        "assessment": "INF1_D7", "when_local": "2026-03-03T00:00-05:00",
        "detail": "INF1_D7: closes in 38 h", "next_step": "Call or send a reminder now"}
    assert {r["subject_key"] for r in table} <= {"GNV-001", "GNV-002", "GNV-003", "GNV-004"}


def test_cells_a_spreadsheet_would_run_are_neutralised():
    text = to_csv(["a", "b"], [["=HYPERLINK(\"x\")", "-2+3"], ["plain", "@SUM(A1)"]])
    assert text.splitlines() == ["a,b", "\"'=HYPERLINK(\"\"x\"\")\",'-2+3", "plain,'@SUM(A1)"]
