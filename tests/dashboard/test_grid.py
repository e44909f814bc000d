"""The participant grid: statuses derived on read, projections, filters and scope."""

from datetime import timedelta

import pytest

from pro_server.dashboard.schemas import GridSchema

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
    assert GridSchema().validate(grid) == {}  # built without marshmallow, documented with it
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
