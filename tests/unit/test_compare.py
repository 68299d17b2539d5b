"""compare_runs on recorded runs and on copies with a regression planted in the stats CSV."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from rich.console import Console

from locust_fleet.compare import compare_runs, comparison_markdown, comparison_table

DATA = Path(__file__).resolve().parents[1] / "data" / "runs"


def copy_run(tmp_path: Path, name: str, as_name: str) -> Path:
    target = tmp_path / as_name
    shutil.copytree(DATA / name, target)
    return target


def edit_stats(run: Path, name: str, **changes: float) -> None:
    """Change columns of the row ``name`` in locust_stats.csv (``Requests_s`` -> Requests/s)."""
    path = run / "locust_stats.csv"
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    for row in rows[1:]:
        if row[1] == name:
            for key, value in changes.items():
                column = {"Requests_s": "Requests/s", "p95": "95%", "p50": "50%", "p99": "99%"}.get(
                    key, key.replace("_", " ")
                )
                row[header.index(column)] = str(value)
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)


def test_a_run_compared_with_itself_has_no_regression() -> None:
    comparison = compare_runs(DATA / "distributed", DATA / "distributed")
    assert not comparison.has_regression
    assert comparison.notes == ()
    about = comparison.endpoint("GET /about").metric("p95")
    assert (about.a, about.b, about.delta, about.relative) == (10, 10, 0, 0)


def test_planted_latency_regression_is_flagged(tmp_path: Path) -> None:
    base = copy_run(tmp_path, "distributed", "a")
    slower = copy_run(tmp_path, "distributed", "b")
    edit_stats(slower, "/about", p95=40)  # 10 ms -> 40 ms
    comparison = compare_runs(base, slower)
    assert comparison.has_regression
    ((label, delta),) = comparison.regressions
    assert (label, delta.metric, delta.a, delta.b) == ("GET /about", "p95", 10, 40)
    assert delta.relative == pytest.approx(3.0)
    assert delta.describe() == "p95 10 ms -> 40 ms (+300%)"


def test_throughput_drop_beyond_the_threshold_only(tmp_path: Path) -> None:
    base = copy_run(tmp_path, "distributed", "a")
    b = copy_run(tmp_path, "distributed", "b")
    edit_stats(b, "Aggregated", Requests_s=211.26124150788976 * 0.85)  # -15 %
    assert [(lbl, d.metric) for lbl, d in compare_runs(base, b).regressions] == [
        ("Aggregated", "rps")
    ]
    assert not compare_runs(base, b, threshold=0.20).has_regression
    edit_stats(b, "Aggregated", Requests_s=211.26124150788976 * 1.5)  # faster is fine
    assert not compare_runs(base, b).has_regression


def test_small_latency_changes_are_noise(tmp_path: Path) -> None:
    base = copy_run(tmp_path, "distributed", "a")
    b = copy_run(tmp_path, "distributed", "b")
    edit_stats(b, "/", p50=6)  # 3 ms -> 6 ms: +100 % but 3 ms, under the 5 ms floor
    assert not compare_runs(base, b).has_regression
    assert compare_runs(base, b, latency_floor_ms=1).has_regression


def test_new_failures_are_a_regression(tmp_path: Path) -> None:
    base = copy_run(tmp_path, "distributed", "a")
    b = copy_run(tmp_path, "distributed", "b")
    edit_stats(b, "/about", Failure_Count=52)  # 0 -> 5 % of 1033
    comparison = compare_runs(base, b)
    ((label, delta),) = comparison.regressions
    assert (label, delta.metric, delta.a) == ("GET /about", "fail_ratio", 0)
    assert delta.b == pytest.approx(52 / 1033)
    assert delta.relative is None  # from zero


def test_recorded_runs_differ_in_p99_and_failure_ratio() -> None:
    comparison = compare_runs(DATA / "standalone", DATA / "distributed")
    assert {(label, d.metric) for label, d in comparison.regressions} == {
        ("GET /about", "p99"),
        ("GET /missing", "p99"),
        ("Aggregated", "p99"),
        ("Aggregated", "fail_ratio"),
    }
    agg = comparison.endpoint("Aggregated")
    assert agg.metric("rps").relative == pytest.approx(211.26124150788976 / 145.85494133360126 - 1)
    assert not agg.metric("p95").regression  # 7 -> 9 ms: +29 % but only 2 ms
    assert "users differs: 20 -> 30" in comparison.notes


def test_endpoints_in_one_run_only_are_listed_not_flagged() -> None:
    comparison = compare_runs(DATA / "distributed", DATA / "saturated")
    missing = comparison.endpoint("GET /missing")
    assert (missing.in_a, missing.in_b) == (True, False)
    assert missing.regressions == ()
    assert missing.metric("p95").b is None
    assert any(note.startswith("plan differs") for note in comparison.notes)


def test_table_marks_regressions() -> None:
    comparison = compare_runs(DATA / "standalone", DATA / "distributed")
    console = Console(record=True, width=140, color_system=None)
    console.print(comparison_table(comparison))
    text = console.export_text()
    assert "9 -> 22 (+144%) *" in text
    assert "145.9 -> 211.3 (+45%)" in text
    assert "* regression: worse by more than 10%" in text
    assert "Note: users differs: 20 -> 30" in text


def test_negative_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        compare_runs(DATA / "standalone", DATA / "standalone", threshold=-0.1)


def test_markdown_table() -> None:
    text = comparison_markdown(compare_runs(DATA / "standalone", DATA / "distributed"))
    assert text.startswith("# 20261128T123716Z-standalone (A) -> 20261128T123751Z-distributed (B)")
    assert "| Aggregated | 145.9 -> 211.3 (+45%) | 3 -> 4 (+33%) | 7 -> 9 (+29%) |" in text
    assert "| **9 -> 22 (+144%)** \\* | **10.03 -> 11.46 (+14%)** \\* |" in text
    assert "**4 regression(s)**" in text
    no_change = comparison_markdown(compare_runs(DATA / "standalone", DATA / "standalone"))
    assert "No regression" in no_change and "**" not in no_change.split("\n", 3)[3]


def test_each_runs_generator_limits_are_shown_when_sampled(tmp_path: Path) -> None:
    base = copy_run(tmp_path, "distributed", "a")
    other = copy_run(tmp_path, "distributed", "b")
    (other / "limits_samples.csv").write_text(
        "timestamp,host,limit,subject,used,maximum\n"
        "2026-12-01T10:00:01.000+00:00,w1,local_ports,10.0.0.9:80,2823,28232\n"
        "2026-12-01T10:00:01.000+00:00,w1,memory,MemAvailable,400,1000\n"
    )
    comparison = compare_runs(base, other)
    assert (
        "generator limits, highest share: A not sampled; B local ports 10% (w1), memory 40% (w1)"
        in (comparison.notes)
    )
    assert "local ports 10% (w1)" in comparison_markdown(comparison)
