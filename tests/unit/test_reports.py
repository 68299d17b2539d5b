"""summary.md, junit.xml, charts.png and the terminal summary, from recorded runs."""

from __future__ import annotations

import json
import shutil
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from matplotlib.image import imread
from rich.console import Console

from locust_fleet.checks import evaluate_checks
from locust_fleet.outcome import decide
from locust_fleet.report import (
    ReportPaths,
    analyse,
    print_summary,
    render_junit,
    render_summary_md,
    write_reports,
)
from locust_fleet.results import load_run
from locust_fleet.saturation import verdict_for

DATA = Path(__file__).resolve().parents[1] / "data" / "runs"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def copy_run(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(DATA / name, target)
    return target


def report(run: Path, checks: list[str], **kwargs) -> ReportPaths:
    """All three files, as the CLI writes them."""
    results = load_run(run)
    check_results = evaluate_checks(results, checks)
    verdict = verdict_for(results)
    outcome = decide(results, check_results, verdict, **kwargs)
    return write_reports(run, results, check_results, verdict, outcome=outcome, **kwargs)


def summary(run: Path, checks: list[str], **kwargs) -> str:
    """summary.md's text without drawing charts (faster)."""
    results = load_run(run)
    check_results = evaluate_checks(results, checks)
    verdict = verdict_for(results)
    outcome = decide(results, check_results, verdict, **kwargs)
    return render_summary_md(results, check_results, verdict, outcome, **kwargs)


def junit(run: Path, checks: list[str], **kwargs) -> ET.Element:
    results = load_run(run)
    text = render_junit(results, evaluate_checks(results, checks), verdict_for(results), **kwargs)
    return ET.fromstring(text.encode())


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def junit_cases(root: ET.Element) -> dict[str, ET.Element]:
    return {f"{c.get('classname')}/{c.get('name')}": c for c in root.iter("testcase")}


# --- summary.md ----------------------------------------------------------------------------


def test_summary_has_endpoints_checks_verdict_and_workers() -> None:
    text = summary(DATA / "distributed", ["fail_ratio<0.2", "p95<0.001"])
    assert text.startswith("# Load test 20261128T123751Z-distributed\n")
    assert "**FAILED** (exit code 3)" in text
    assert "| GET /missing | 363 | 363 | 100.00 | 24.2 | 11 | 4 | 9 | 27 | 1233 |" in text
    assert "| **Aggregated** | **3168** | **363** | **11.46** | **211.3** |" in text
    assert "| `fail_ratio<0.2` | PASS | 11.46% |" in text
    assert "| `p95<0.001` | **FAIL** | 9 ms |" in text
    assert "**Verdict:** not saturated" in text
    assert "| controller/locust-worker@2.service[15208] | worker | 15 | 23% | 20% |" in text
    assert "workers 2 of 2 connected" in text
    assert (
        "| GET /missing | HTTPError('404 Client Error: File not found for url: /missing') |" in text
    )
    assert "![requests/s, response times, users, CPU](charts.png)" in text


def test_summary_shows_saturation_events_and_fewer_workers(tmp_path: Path) -> None:
    run = copy_run(tmp_path, "saturated")
    data = json.loads((run / "run.json").read_text())
    data["workers_expected"] = 2
    data["events"] = [
        {
            "time": "2026-11-28T12:38:25Z",
            "host": "w2",
            "kind": "worker_missing",
            "message": "heartbeat lost | restarting",
        }
    ]
    (run / "run.json").write_text(json.dumps(data))
    text = summary(run, [])
    assert "**FAILED** (exit code 4)" in text
    assert "**Verdict:** SATURATED: worker controller/locust-worker@1.service[20754]" in text
    assert "| 101% | 89% | n/a | 9 s (60%) | YES |" in text
    assert "workers 1 of 2 connected (**fewer than expected**)" in text
    assert (
        "| 2026-11-28 12:38:25 UTC | w2 | worker_missing | heartbeat lost \\| restarting |" in text
    )
    assert "| 158 | plan bug: no token in response |" in text
    assert "No checks were given." in text


def test_allowed_saturation_is_said_so() -> None:
    text = summary(DATA / "saturated", [], allow_saturated=True)
    assert "(allowed by --allow-saturated)" in text
    assert "**FAILED** (exit code 1)" in text  # the plan's exceptions remain


# --- junit.xml -----------------------------------------------------------------------------


def test_junit_has_a_case_per_check_and_for_saturation() -> None:
    root = junit(DATA / "distributed", ["fail_ratio<0.2", "p95<0.001", "GET /about:p99<1000"])
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "locust-fleet.20261128T123751Z-distributed"
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("5", "1", "0")
    cases = junit_cases(root)
    assert list(cases) == [
        "locust-fleet.checks/fail_ratio<0.2",
        "locust-fleet.checks/p95<0.001",
        "locust-fleet.checks/GET /about:p99<1000",
        "locust-fleet.saturation/load generators not saturated",
        "locust-fleet.requests/at least one request",  # the implicit requests>0: passed
    ]
    assert cases["locust-fleet.requests/at least one request"].find("*") is None
    failure = cases["locust-fleet.checks/p95<0.001"].find("failure")
    assert failure is not None
    assert failure.get("message") == "p95 on Aggregated was 9 ms; required < 0.001 ms: FAILED"
    assert cases["locust-fleet.checks/fail_ratio<0.2"].find("failure") is None
    assert cases["locust-fleet.saturation/load generators not saturated"].find("*") is None
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["requests"] == "3168" and props["workers_connected"] == "2"


def test_junit_saturation_failure_and_failed_requests() -> None:
    cases = junit_cases(junit(DATA / "saturated", ["p95<500"]))
    saturation = cases["locust-fleet.saturation/load generators not saturated"].find("failure")
    assert saturation is not None and saturation.get("type") == "GeneratorSaturated"
    assert "peak 101%" in (saturation.text or "")
    requests = cases["locust-fleet.requests/no failed requests"].find("failure")
    assert requests is not None
    assert requests.get("message") == "158 exception(s) in the test plan"
    assert cases["locust-fleet.checks/p95<500"].find("failure") is None


def test_junit_skips_saturation_when_allowed_or_not_measured() -> None:
    allowed = junit_cases(junit(DATA / "saturated", [], allow_saturated=True))
    skipped = allowed["locust-fleet.saturation/load generators not saturated"].find("skipped")
    assert skipped is not None and skipped.get("message", "").startswith("allowed: SATURATED")
    standalone = junit_cases(junit(DATA / "standalone", ["fail_ratio<0.5"]))
    case = standalone["locust-fleet.saturation/load generators not saturated"]
    skipped = case.find("skipped")
    assert skipped is not None and skipped.get("message", "").startswith("not measured")
    # a fail_ratio check covers failed requests: no separate requests test case
    assert "locust-fleet.requests/no failed requests" not in standalone


def test_extra_junit_copy(tmp_path: Path) -> None:
    run = copy_run(tmp_path, "distributed")
    results = load_run(run)
    target = tmp_path / "ci" / "junit.xml"
    paths = write_reports(run, results, evaluate_checks(results, ["p95<500"]), junit_path=target)
    assert paths.extra_junit == target
    assert target.read_bytes() == paths.junit_xml.read_bytes()


def test_write_reports_writes_the_three_files(tmp_path: Path) -> None:
    run = copy_run(tmp_path, "distributed")
    paths = report(run, ["p95<500"])
    assert paths.summary_md == run / "summary.md" and paths.summary_md.read_text().startswith("#")
    assert ET.parse(paths.junit_xml).getroot().tag == "testsuites"
    assert paths.charts_png.read_bytes()[:8] == PNG_SIGNATURE


# --- charts.png ----------------------------------------------------------------------------


def test_charts_are_a_real_png_with_a_cpu_panel(tmp_path: Path) -> None:
    run = copy_run(tmp_path, "saturated")
    paths = report(run, [])
    assert paths.charts_png.stat().st_size > 20_000
    assert png_size(paths.charts_png) == (1300, 1200)  # five panels
    pixels = imread(paths.charts_png)
    assert pixels.std() > 0.05  # not a blank image


def test_charts_gain_a_limits_panel_when_the_run_sampled_them(tmp_path: Path) -> None:
    run = copy_run(tmp_path, "saturated")
    (run / "limits_samples.csv").write_text(
        "timestamp,host,limit,subject,used,maximum\n"
        + "".join(
            f"2026-12-01T10:00:{s:02d}.000+00:00,w1,local_ports,10.0.0.9:80,{s * 100},28232\n"
            for s in range(10)
        )
    )
    paths = report(run, [])
    assert png_size(paths.charts_png) == (1300, 1440)  # six panels


def test_charts_without_cpu_samples_or_history(tmp_path: Path) -> None:
    run = copy_run(tmp_path, "distributed")
    (run / "cpu_samples.csv").unlink()
    paths = report(run, [])
    assert png_size(paths.charts_png) == (1300, 960)  # four panels
    (run / "locust_stats_history.csv").unlink()
    (run / "stats.json").unlink()
    paths = report(run, [])
    assert png_size(paths.charts_png) == (1300, 960)


# --- the terminal summary ------------------------------------------------------------------


@pytest.mark.parametrize("width", [80, 160])
def test_console_summary(width: int) -> None:
    results = load_run(DATA / "saturated")
    check_results = evaluate_checks(results, ["p95<500", "p99<10"])
    verdict = verdict_for(results)
    console = Console(record=True, width=width, color_system=None)
    print_summary(console, results, check_results, verdict, decide(results, check_results, verdict))
    text = console.export_text()
    for expected in ("Aggregated", "3381", "p95<500", "PASS", "FAIL", "SATURATED", "exit 4"):
        assert expected in text
    assert "Workers: 1 of 1 connected" in text


def test_console_summary_prints_endpoint_names_and_events_as_they_are(tmp_path: Path) -> None:
    """Locust plans name endpoints like "/item/[id]"; rich would take [id] for markup."""
    run = copy_run(tmp_path, "distributed")
    stats = run / "locust_stats.csv"
    first = stats.read_text().splitlines()[1].split(",")[1]
    stats.write_text(stats.read_text().replace(f",{first},", ",/item/[id]/[bold],", 1))
    results = load_run(run)
    verdict = verdict_for(results)
    console = Console(record=True, width=160, color_system=None)
    print_summary(console, results, [], verdict, decide(results, [], verdict))
    assert "/item/[id]/[bold]" in console.export_text()


# --- analyse: the whole offline half in one call -------------------------------------------


def test_analyse_passes_and_fails_like_the_done_when_of_issue_8(tmp_path: Path) -> None:
    run = copy_run(tmp_path, "distributed")
    passed = analyse(run, ["fail_ratio<0.2", "p95<2000"])
    assert passed.outcome.code == 0
    assert [r.passed for r in passed.check_results] == [True, True]
    for path in (passed.paths.summary_md, passed.paths.junit_xml, passed.paths.charts_png):
        assert path.parent == run and path.stat().st_size > 0
    failed = analyse(run, ["fail_ratio<0.2", "p95<0.001"], junit_path=tmp_path / "junit.xml")
    assert failed.outcome.code == 3
    assert (tmp_path / "junit.xml").read_text().count("<failure ") == 1
    assert "**FAILED** (exit code 3)" in failed.paths.summary_md.read_text()


def test_analyse_raises_value_errors_for_exit_2(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid check 'p95=1'"):
        analyse(DATA / "distributed", ["p95=1"])
    with pytest.raises(ValueError, match=r"run\.json: missing"):
        analyse(tmp_path, [])


def test_reports_of_a_run_with_an_orchestration_error_and_no_start_time(tmp_path: Path) -> None:
    run = copy_run(tmp_path, "distributed")
    data = json.loads((run / "run.json").read_text())
    data.update(
        started_at=None,
        error="host w2 | never connected",
        worker_processes={"controller": 2},
        master_unit_result="exit-code",
    )
    (run / "run.json").write_text(json.dumps(data))
    (run / "locust_stats_history.csv").unlink()
    paths = report(run, ["p95<500"])
    text = paths.summary_md.read_text()
    assert "**FAILED** (exit code 2)" in text
    assert "- **Orchestration error:** host w2 \\| never connected" in text
    assert "- Worker processes per host: `controller` 2" in text
    assert "- Locust master exit code: 1 (exit-code)" in text
    assert "Started n/a" in text
    suite = ET.parse(paths.junit_xml).getroot().find("testsuite")
    assert suite is not None and suite.get("timestamp") is None
    assert png_size(paths.charts_png)[0] == 1300


def test_charts_mark_events(tmp_path: Path) -> None:
    run = copy_run(tmp_path, "distributed")
    plain = report(run, []).charts_png.read_bytes()
    data = json.loads((run / "run.json").read_text())
    data["events"] = [
        {"time": "2026-11-28T12:38:01", "host": "w1", "kind": "worker_missing", "message": "m"},
        {"time": None, "host": "w1", "kind": "cpu_warning", "message": "no time: not drawn"},
    ]
    (run / "run.json").write_text(json.dumps(data))
    marked = report(run, []).charts_png
    assert png_size(marked) == (1300, 1200)
    assert marked.read_bytes() != plain


def test_a_shaped_run_is_summarised_by_what_the_shape_ran():
    from locust_fleet.report.summary_md import load_line
    from locust_fleet.results.model import RunHosts, RunMetadata, RunParameters, RunShape

    def meta(shape):
        return RunMetadata(
            run_id="r1",
            started_at=None,
            ended_at=None,
            parameters=RunParameters(plan="p", users=1, spawn_rate=1.0, run_time="30s"),
            locust_version=None,
            plan_manifest_sha256=None,
            hosts=RunHosts(master="m1", workers=("w1",)),
            workers_expected=1,
            workers_connected=1,
            master_exit_code=0,
            shape=shape,
        )

    assert load_line(meta(None)) == "1 users at 1/s for 30s"
    cut = load_line(meta(RunShape("Stages", False, 30, True, 100, 30)))
    assert "`Stages` drove the run: up to 100 users over 30 s" in cut
    assert "cut at the run time 30s" in cut and "-u and -r were not used" in cut
    assert "1 users" not in cut
    whole = load_line(meta(RunShape("Stages", True, 30, False, 6, 12)))
    assert "ended by the shape itself" in whole and "-u 1 and -r 1 were given" in whole
