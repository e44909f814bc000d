"""The participant grid: statuses derived on read, projections, paging, filters and scope."""

import re
from datetime import timedelta

import pytest

from pro_server.dashboard.schemas import GridSchema
from tests.statements import counted

CODES = ["BASELINE", *(f"INF{n}_D{d}" for n in range(1, 7) for d in (7, 30))]
GNV = "coordinator.gnv@example.org"


def cells(grid: dict, subject: str) -> dict[str, str]:
    row = next(r for r in grid["rows"] if r["subject_key"] == subject)
    return {code: "expected" if c["projected"] else c["status"] for code, c in row["cells"].items()}


def test_each_cell_says_on_time_late_missed_open_started_upcoming_or_cancelled(story):
    grid = story.client(GNV).get("/api/v1/dashboard/grid").json
    assert grid["codes"] == CODES
    assert cells(grid, "GNV-001") == {
        "BASELINE": "on_time", "INF1_D7": "on_time", "INF1_D30": "late", "INF2_D7": "missed",
        "INF2_D30": "on_time", "INF3_D7": "on_time", "INF3_D30": "upcoming",
        **{code: "expected" for code in CODES[7:]},
    }
    assert cells(grid, "GNV-003") == {"BASELINE": "in_progress"}
    assert cells(grid, "GNV-004")["INF1_D7"] == "open"
    assert cells(grid, "GNV-005") == {}
    assert cells(grid, "GNV-006") == {"BASELINE": "cancelled"}


def test_a_cell_carries_its_window_in_local_days_and_its_completion(story):
    grid = story.client(GNV).get("/api/v1/dashboard/grid").json
    assert GridSchema().validate(grid) == {}  # what is sent is what the schema declares
    row = next(r for r in grid["rows"] if r["subject_key"] == "GNV-004")
    cell = row["cells"]["INF1_D7"]
    assert (cell["first_day"], cell["last_day"]) == ("2026-02-26", "2026-03-02")
    assert cell["completed_at"] is None
    assert row["cells"]["BASELINE"]["completed_at"].startswith("2026-02-20")
    assert row["timezone"] == "America/New_York"


def test_statuses_follow_the_clock_without_any_job(story, clock):
    client = story.client(GNV)
    clock.advance(timedelta(days=2))
    grid = client.get("/api/v1/dashboard/grid").json
    assert cells(grid, "GNV-004")["INF1_D7"] == "missed"
    assert cells(grid, "GNV-002")["INF1_D30"] == "open"
    clock.advance(timedelta(days=3))
    assert cells(client.get("/api/v1/dashboard/grid").json, "GNV-002")["INF1_D30"] == "missed"


def test_filter_by_participant_status(story):
    grid = story.client(GNV).get("/api/v1/dashboard/grid?status=enrolled").json
    assert [r["subject_key"] for r in grid["rows"]] == ["GNV-001", "GNV-002", "GNV-003", "GNV-004"]


@pytest.mark.parametrize(("email", "subjects"), [
    ("coordinator.gnv@example.org", {"GNV"}),
    ("coordinator.mia@example.org", {"MIA"}),
    ("investigator@example.org", {"GNV", "MIA"}),
    ("monitor@example.org", {"GNV", "MIA"}),
])
def test_each_role_sees_only_its_sites(story, email, subjects):
    grid = story.client(email).get("/api/v1/dashboard/grid").json
    assert {r["site_code"] for r in grid["rows"]} == subjects
    assert {s["code"] for s in grid["site_choices"]} == subjects


def test_another_sites_grid_is_not_found_and_admins_see_no_participant_data(story):
    assert story.client(GNV).get("/api/v1/dashboard/grid?site=MIA").status_code == 404
    assert story.client(GNV).get("/api/v1/dashboard/grid.csv?site=MIA").status_code == 404
    for url in ("/api/v1/dashboard/grid", "/api/v1/dashboard/overview",
                "/api/v1/dashboard/attention"):
        assert story.client("admin@example.org").get(url).status_code == 403
    assert story.app_client().get("/api/v1/dashboard/grid").status_code == 401


def subjects(grid: dict) -> list[str]:
    return [r["subject_key"] for r in grid["rows"]]


def test_pages_follow_the_subject_key_with_a_total_and_a_cursor(story):
    client = story.client("monitor@example.org")
    seen, after = [], None
    while True:
        page = client.get("/api/v1/dashboard/grid", query_string={
            "limit": 4, **({"after": after} if after else {})}).json
        assert page["total"] == 9
        assert len(page["rows"]) <= 4
        assert GridSchema().validate(page) == {}
        seen += subjects(page)
        after = page["next"]
        if after is None:
            break
        assert after == page["rows"][-1]["subject_key"]
    assert seen == sorted(seen)
    assert len(seen) == 9
    assert seen == subjects(client.get("/api/v1/dashboard/grid?limit=500").json)


def test_filters_are_applied_on_the_server_before_paging(story):
    client = story.client("monitor@example.org")
    found = client.get("/api/v1/dashboard/grid?q=mia-00&limit=2").json
    assert (subjects(found), found["total"], found["next"]) == (["MIA-001", "MIA-002"], 3,
                                                                "MIA-002")
    assert subjects(client.get("/api/v1/dashboard/grid?q=MIA-00&after=MIA-002").json) == [
        "MIA-003"]
    enrolled = client.get("/api/v1/dashboard/grid?status=enrolled&site=GNV&q=gnv").json
    assert subjects(enrolled) == ["GNV-001", "GNV-002", "GNV-003", "GNV-004"]
    assert enrolled["total"] == 4
    # Wildcards in the search are plain characters.
    assert client.get("/api/v1/dashboard/grid?q=%25").json["total"] == 0
    assert client.get("/api/v1/dashboard/grid?q=GNV_00").json["total"] == 0


def test_a_coordinator_pages_and_searches_only_their_own_site(story):
    client = story.client(GNV)
    assert client.get("/api/v1/dashboard/grid?q=MIA").json["total"] == 0
    after_gnv = client.get("/api/v1/dashboard/grid?after=GNV-006").json
    assert (after_gnv["rows"], after_gnv["total"], after_gnv["next"]) == ([], 6, None)
    page = client.get("/api/v1/dashboard/grid?limit=1&after=GNV-005").json
    assert subjects(page) == ["GNV-006"]
    assert page["next"] is None
    assert client.get("/api/v1/dashboard/grid?site=MIA&q=MIA&limit=1").status_code == 404
    text = client.get("/api/v1/dashboard/grid.csv?q=00").get_data(as_text=True)
    assert [line.split(",")[0] for line in text.splitlines()[1:]] == [
        f"GNV-00{n}" for n in range(1, 7)]


def test_bad_paging_arguments_are_named(story):
    response = story.client(GNV).get("/api/v1/dashboard/grid?limit=0&after=")
    assert response.status_code == 422
    assert set(response.json["errors"]["query"]) == {"limit", "after"}
    assert story.client(GNV).get("/api/v1/dashboard/grid?limit=501").status_code == 422


def test_a_page_costs_the_same_statements_whatever_its_size(story, engine):
    """Only the page's participants are derived, their facts read in one statement each."""
    client = story.client("monitor@example.org")
    sent = {}
    for limit in (1, 3, 9):
        with counted(engine) as statements:
            response = client.get(f"/api/v1/dashboard/grid?limit={limit}")
        assert len(response.json["rows"]) == limit
        sent[limit] = [s for s in statements if not s.startswith("BEGIN")]
    assert len(sent[1]) == len(sent[3]) == len(sent[9]), sent[9]
    for table in ("assessment", "infusion"):
        reads = [s for s in sent[9] if re.search(rf"\sFROM\s+{table}\b", s)]
        assert len(reads) == 1, sent[9]
    assert len(sent[9]) <= 12, sent[9]
