"""CI smoke of the national benchmark suite (benchmarks/national*.py): a tiny dataset on the test
database and the measuring code in-process. Nothing here is timed against a target."""

import json

import pytest
from django.db.models import Count, F
from django.test import Client

from benchmarks import national
from benchmarks.national_report import write_report
from benchmarks.national_run import bench_credentials, measure_page

COUNT_KEYS = ("agencies", "risks", "largest_agency_risks", "smallest_agency_risks", "assets", "controls",
              "threat_vectors", "users", "memberships", "risk_threat_vector_links", "risk_asset_links",
              "risk_control_links")
SCALE = 0.0005  # 500 risks in 10 agencies, the largest 50


@pytest.fixture
def dataset(db):
    return national.generate(SCALE, seed=11, log=lambda *_: None)


def test_generated_counts_match_the_scale(dataset):
    from qgov.models import Agency, Membership
    from risks.models import Asset, Control, Risk, RiskMatrix

    expected = national.plan(SCALE)
    assert dataset["counts"]["risks"] == Risk.objects.count() == expected["risks"] == 500
    assert Agency.objects.count() == RiskMatrix.objects.count() == expected["agencies"]
    assert Asset.objects.count() == expected["assets"]
    assert Control.objects.count() == expected["controls"]
    per_agency = sorted(Risk.objects.values("agency").annotate(n=Count("pk")).values_list("n", flat=True),
                        reverse=True)
    assert per_agency == sorted(expected["risks_per_agency"], reverse=True)
    assert Risk.objects.filter(agency_id=dataset["largest_agency_id"]).count() == per_agency[0] == 50
    for relation, per_risk in national.LINKS.items():
        assert getattr(Risk, relation).through.objects.count() == per_risk * 500
    # Links and owners stay inside the risk's agency; ratings are derived as Risk.save() derives them.
    assert not Risk.objects.exclude(assets__agency=F("agency")).exists()
    assert not Risk.objects.exclude(controls__agency=F("agency")).exists()
    members = set(Membership.objects.values_list("agency_id", "user_id"))
    assert all((agency, owner) in members for agency, owner in
               Risk.objects.filter(owner__isnull=False).values_list("agency_id", "owner_id"))
    risk = Risk.objects.filter(current_likelihood__isnull=False).first()
    assert risk.rating_score == risk.current_likelihood * risk.current_impact
    assert risk.rating == risk.matrix.band_for(risk.rating_score)["name"]
    # The bench user belongs to the largest agency only.
    assert list(Membership.objects.filter(user__username="bench-largest").values_list("agency_id", flat=True)) \
        == [dataset["largest_agency_id"]]
    assert national.dataset_info()["counts"] == dataset["counts"]


def test_the_same_seed_gives_the_same_plan():
    assert national.plan(1.0)["risks_per_agency"] == national.plan(1.0)["risks_per_agency"]
    scale_one = national.plan(1.0)
    assert (scale_one["agencies"], scale_one["risks"], scale_one["assets"]) == (200, 1_000_000, 200_000)
    assert scale_one["risks_per_agency"][0] == max(scale_one["risks_per_agency"]) == 100_000


def test_measures_record_timings_queries_and_sql_time(dataset):
    key, user = bench_credentials()
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    api_page = measure_page("api", None, "/api/risks/?limit=10", client=api, headers={}, repeats=2, warmup=1)
    assert api_page["status"] == 200
    assert api_page["runs"] == 2 and api_page["median_ms"] > 0 and api_page["p95_ms"] >= api_page["min_ms"]
    assert api_page["queries"] >= 2 and api_page["sql_ms"] > 0 and api_page["sql_share"] > 0
    assert json.loads(api.get("/api/risks/?limit=10").content)["count"] == 50  # the largest agency only

    browser = Client()
    browser.force_login(user)
    register = measure_page("register", None, "/risks/register/", client=browser, headers={}, repeats=1, warmup=0)
    assert register["status"] == 200 and register["queries"] > 0 and register["bytes"] > 0

    missing = measure_page("bad", None, "/api/risks/?limit=10&status=no-such-status", client=api, headers={},
                           repeats=1, warmup=0)
    assert missing == {"path": "/api/risks/?limit=10&status=no-such-status", "status": 400,
                       "skipped": "n/a before: the endpoint answers 400"}


def test_report_merges_before_and_after(tmp_path):
    measure = {"path": "/api/risks/?limit=10", "status": 200, "runs": 20, "median_ms": 47.0, "p95_ms": 50.0,
               "min_ms": 40.0, "max_ms": 60.0, "queries": 5, "sql_ms": 4.0, "sql_share": 0.085, "bytes": 100}
    result = {"profile": "sqlite-10k", "label": "before", "backend": "sqlite", "scale": 0.01,
              "measured_at": "2026-12-01T06:00:00+00:00",
              "dataset": {"scale": 0.01, "seed": 7, "generation_s": 9.0, "steps_s": {"risks": 2.0},
                          "counts": dict.fromkeys(COUNT_KEYS, 1)},
              "method": {"repeats": 20, "warmup": 3, "status_filter": "in_treatment", "search_word": "blinding"},
              "machine": {"cpu": "test", "cores": 2, "platform": "linux", "load_average_at_start": [1, 1, 1],
                          "load_average_1m_during": {"min": 1, "median": 1, "max": 1, "samples": 1},
                          "load_average_at_end": [1, 1, 1]},
              "versions": {"python": "3.11"},
              "measures": {"api_10": measure, "api_50_cursor_deep": {"path": "/x", "status": 400,
                                                                      "skipped": "n/a before"}}}
    (tmp_path / "national-sqlite-0.01-before.json").write_text(json.dumps(result))
    (tmp_path / "national-analysis.md").write_text("## Where this leaves the issue\n\nThe count.\n")
    text = write_report(tmp_path, tmp_path / "RESULTS.md").read_text()
    assert "| API 10-row risk page, 10k risks, SQLite, p50 | < 10 ms | 47 ms | 47.0 ms | — | — | — |\n" in text
    assert "## Where this leaves the issue\n\nThe count.\n" in text
    assert "| api_10 | `/api/risks/?limit=10` | 47.0 | 50.0 | 40.0–60.0 | 5 | 4.0 | 8% | 11.8× | 100 |" in text
