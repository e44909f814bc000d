"""Study overview: completion per assessment and per site."""

GNV = "coordinator.gnv@example.org"


def by_code(counts: list[dict]) -> dict[str, dict]:
    return {a["code"]: a["counts"] for a in counts}


def test_counts_per_assessment_for_a_coordinator(story):
    data = story.client(GNV).get("/api/v1/dashboard/overview").json
    assert data["buckets"] == ["on_time", "late", "missed", "open", "upcoming"]
    codes = by_code(data["assessments"])
    # GNV-001, 002, 004 answered on time; GNV-003 started (open); GNV-006's is cancelled.
    assert codes["BASELINE"] == {"on_time": 3, "late": 0, "missed": 0, "open": 1, "upcoming": 0,
                                 "total": 4, "completion_percent": 100}
    assert codes["INF1_D7"] == {"on_time": 1, "late": 0, "missed": 1, "open": 1, "upcoming": 0,
                                "total": 3, "completion_percent": 50}
    assert codes["INF1_D30"] == {"on_time": 0, "late": 1, "missed": 0, "open": 1, "upcoming": 1,
                                 "total": 3, "completion_percent": 100}
    # Projected from planned infusion dates: GNV-001's fourth, GNV-002's and 004's second.
    assert codes["INF4_D7"]["upcoming"] == 3
    assert data["totals"]["missed"] == 2


def test_counts_per_site_for_the_monitor(story):
    data = story.client("monitor@example.org").get("/api/v1/dashboard/overview").json
    sites = {s["code"]: s for s in data["sites"]}
    assert set(sites) == {"GNV", "MIA"}
    # The headline counts whom the bars count: GNV-005 (screening) has no survey and
    # GNV-006 (withdrawn) only a cancelled one; the page names them instead.
    assert sites["GNV"]["participants"] == 4
    assert sites["MIA"]["participants"] == 3
    assert data["left_out"] == [
        {"subject_key": "GNV-005", "site_code": "GNV", "status": "screening"},
        {"subject_key": "GNV-006", "site_code": "GNV", "status": "withdrawn"}]
    mia = by_code(sites["MIA"]["assessments"])
    assert mia["BASELINE"]["on_time"] == 2
    assert mia["BASELINE"]["open"] == 1
    assert mia["INF1_D7"]["missed"] == 1
    assert sites["MIA"]["counts"]["missed"] == 1
    totals = by_code(data["assessments"])
    assert totals["BASELINE"]["total"] == (by_code(sites["GNV"]["assessments"])["BASELINE"]["total"]
                                           + mia["BASELINE"]["total"])


def test_one_site_at_a_time(story):
    data = story.client("monitor@example.org").get("/api/v1/dashboard/overview?site=MIA").json
    assert [s["code"] for s in data["sites"]] == ["MIA"]
    assert {s["code"] for s in data["site_choices"]} == {"GNV", "MIA"}
    assert data["study"]["code"] == "RES001-DMPM-02"
