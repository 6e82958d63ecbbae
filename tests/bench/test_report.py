from typing import Any

from bench.report import ratios, table, verdicts


def figures(miss_p50: float = 30.0, calls_per_10: float = 1, ack_p99: float = 200.0, rss: float = 80.0) -> dict[str, Any]:
    pair = {"n": 10, "p50_ms": 3.0, "p99_ms": 5.0}
    return {
        "raw_sdk": {"n": 10, "p50_ms": 25.0, "p99_ms": 30.0},
        "miss": {"n": 10, "p50_ms": miss_p50, "p99_ms": 40.0},
        "repeat": {**pair, "upstream_calls": 0},
        "next": {**pair, "upstream_calls": 5, "calls_per_10_clicks": calls_per_10},
        "burst": {"commands": 100, "ack": {"n": 100, "p50_ms": 90.0, "p99_ms": ack_p99}, "not_acked": 0, "acked_in_3s": 100,
                  "answered": 100, "answered_once": 100, "last_reply_s": 2.5, "upstream_calls": 100},
        "memory": {"numbers_seen": 10000, "distinct": 10000, "in_instance": 10000, "upstream_calls": 100,
                   "click": pair, "rss_before_mib": 70.0, "peak_rss_mib": rss},
    }


def test_every_goal_met() -> None:
    results = {"targets": {"gunicorn": figures()}}
    assert all(v["met"] for v in verdicts(results))


def test_each_missed_goal_is_named() -> None:
    results = {"targets": {"gunicorn": figures(miss_p50=45.0, calls_per_10=2, ack_p99=600.0, rss=130.0)}}
    missed = [v["goal"] for v in verdicts(results) if not v["met"]]
    assert missed == ["cache miss p50 within raw SDK p50 + 15 ms", "at most 1 upstream call per 10 Next clicks",
                      "burst ack p99 < 500 ms", "peak RSS < 120 MiB with every number cached"]


def test_table_compares_with_the_naive_bot() -> None:
    naive = figures(miss_p50=28.0)
    naive["repeat"]["p50_ms"] = 30.0
    results: dict[str, Any] = {"targets": {"gunicorn": figures(), "naive": naive}}
    results["ratios"] = ratios(results["targets"])
    results["targets_met"] = verdicts(results)
    text = table(results)
    assert "same command again p50: 10.0x" in text
    assert results["ratios"]["cache miss p50"] == 0.93
    assert "MISSED" not in text and "Procfile (gunicorn)" in text and "naive bot" in text


def test_a_scenario_without_samples_is_a_missed_goal_not_a_crash() -> None:
    broken = figures()
    broken["burst"]["ack"] = {"n": 0}  # not one command was acked
    broken["next"] = {"n": 0, "upstream_calls": 0, "calls_per_10_clicks": 0.0}
    results: dict[str, Any] = {"targets": {"gunicorn": broken}}
    results["targets_met"] = verdicts(results)
    missed = {v["goal"]: v["measured"] for v in results["targets_met"] if not v["met"]}
    assert missed == {"cache hit p50 <= 10 ms (Next click)": "no samples", "at most 1 upstream call per 10 Next clicks": "no samples",
                      "burst ack p99 < 500 ms": "no samples"}
    assert "MISSED burst ack p99 < 500 ms: no samples" in table(results)
