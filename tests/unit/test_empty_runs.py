"""A run that made no request at all (issue 16, item 3): the implicit check ``requests>0``.

The empty run is the recorded ``distributed`` run with Locust's files as Locust 2.47
writes them when no request was made: ``locust_stats.csv`` with only the Aggregated
row (zeros, percentiles ``N/A``; see ``StatsCSV._requests_data_rows``), no failure
or exception rows, ``stats.json`` an empty list, the history rows that counted no
request, and master exit code 0.
"""

from __future__ import annotations

import csv
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console

from locust_fleet import fleet
from locust_fleet.checks import evaluate_checks
from locust_fleet.cli import main
from locust_fleet.outcome import ExitCode, RequestsCheck, decide, requests_check
from locust_fleet.report import analyse, print_summary, render_junit, render_summary_md
from locust_fleet.results import RunResults, load_run
from locust_fleet.runner import PlaybookOutcome
from locust_fleet.saturation import verdict_for

DATA = Path(__file__).resolve().parents[1] / "data" / "runs"
RUN_ID = "20261128T123751Z-empty"
NO_REQUESTS = (
    "no requests were made: the implicit check requests>0 failed (a plan that sends none: "
    "pass --allow-no-requests, or a check on requests such as 'requests>=0')"
)
ALLOWED = "no requests were made (allowed by --allow-no-requests)"


def make_empty_run(target: Path, **run_json) -> Path:
    shutil.copytree(DATA / "distributed", target)
    with (target / "locust_stats.csv").open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    percentiles = len(header) - 11
    aggregated = ["", "Aggregated", "0", "0", "0", "0.0", "0", "0", "0", "0.0", "0.0"]
    (target / "locust_stats.csv").write_text(
        ",".join(header) + "\n" + ",".join(aggregated + ["N/A"] * percentiles) + "\n",
        encoding="utf-8",
    )
    failures = (target / "locust_failures.csv").read_text(encoding="utf-8").splitlines()[0]
    (target / "locust_failures.csv").write_text(failures + "\n", encoding="utf-8")
    (target / "stats.json").write_text("[]\n", encoding="utf-8")
    history = (target / "locust_stats_history.csv").read_text(encoding="utf-8").splitlines()
    total = history[0].split(",").index("Total Request Count")
    kept = [history[0]] + [line for line in history[1:] if line.split(",")[total] == "0"]
    (target / "locust_stats_history.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    data = json.loads((target / "run.json").read_text(encoding="utf-8"))
    data.update(run_id=RUN_ID, master_exit_code=0, **run_json)
    (target / "run.json").write_text(json.dumps(data), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def empty_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_empty_run(tmp_path_factory.mktemp("runs") / RUN_ID)


@pytest.fixture(scope="module")
def empty(empty_dir: Path) -> RunResults:
    results = load_run(empty_dir)
    assert results.aggregated.request_count == 0 and not results.endpoints
    return results


def outcome_of(results: RunResults, checks: list[str], **kwargs):
    check_results = evaluate_checks(results, checks)
    return decide(results, check_results, verdict_for(results), **kwargs)


def junit_cases(text: str) -> dict[str, ET.Element]:
    root = ET.fromstring(text.encode())
    return {f"{c.get('classname')}/{c.get('name')}": c for c in root.iter("testcase")}


# --- the exit code ---------------------------------------------------------------------------


def test_an_empty_run_fails_the_implicit_check_with_exit_3(empty: RunResults) -> None:
    outcome = outcome_of(empty, [])
    assert outcome.code == ExitCode.CHECK_FAILED == 3
    assert outcome.explain() == f"exit 3: {NO_REQUESTS}"


def test_allow_no_requests_passes_an_empty_run_and_says_so(empty: RunResults) -> None:
    outcome = outcome_of(empty, [], allow_no_requests=True)
    assert outcome.code == 0 and outcome.passed
    assert outcome.explain() == f"exit 0: {ALLOWED}"


def test_a_check_on_requests_replaces_the_implicit_one(empty: RunResults) -> None:
    accepted = outcome_of(empty, ["requests>=0"])
    assert accepted.code == 0 and accepted.explain() == "exit 0: passed"
    refused = outcome_of(empty, ["requests>=10"])
    assert refused.code == 3
    assert refused.explain() == (
        "exit 3: check failed: requests on Aggregated was 0; required >= 10: FAILED"
    )


def test_a_check_on_one_endpoint_does_not_replace_the_implicit_one(empty: RunResults) -> None:
    outcome = outcome_of(empty, ["GET /:requests>=0"])
    assert outcome.code == 3
    assert outcome.reasons[0] == (ExitCode.CHECK_FAILED, NO_REQUESTS)
    assert "endpoint 'GET /' is not in the results" in outcome.reasons[1][1]


def test_other_checks_still_fail_on_an_empty_run_when_allowed(empty: RunResults) -> None:
    outcome = outcome_of(empty, ["p95<500"], allow_no_requests=True)
    assert outcome.code == 3
    assert outcome.explain() == (
        f"exit 3: check failed: no value: Aggregated had no requests; {ALLOWED}"
    )


def test_a_run_with_requests_passes_the_implicit_check() -> None:
    distributed = load_run(DATA / "distributed")
    assert requests_check(distributed) is RequestsCheck.PASSED
    assert NO_REQUESTS not in outcome_of(distributed, []).explain()


def test_an_orchestration_error_outranks_the_empty_run(empty: RunResults) -> None:
    outcome = decide(empty, [], None, errors=["host w2 never connected"])
    assert outcome.code == 2
    assert outcome.explain() == f"exit 2: host w2 never connected; {NO_REQUESTS}"


# --- what a user reads: summary.md, junit.xml, the console --------------------------------


def test_summary_md_says_no_requests_were_made(empty: RunResults) -> None:
    check_results = evaluate_checks(empty, [])
    verdict = verdict_for(empty)
    text = render_summary_md(empty, check_results, verdict, decide(empty, check_results, verdict))
    assert "**FAILED** (exit code 3)\n\n" + f"- {NO_REQUESTS}\n" in text
    assert "| **Aggregated** | **0** | **0** |" in text
    assert (
        "**No requests were made**: the implicit check `requests>0` failed. For a plan that "
        "sends none, pass `--allow-no-requests` or a check on `requests`, such as "
        "`requests>=0`." in text
    )


def test_summary_md_of_an_allowed_empty_run(empty: RunResults) -> None:
    verdict = verdict_for(empty)
    outcome = decide(empty, [], verdict, allow_no_requests=True)
    text = render_summary_md(empty, [], verdict, outcome, allow_no_requests=True)
    assert f"**PASSED** (exit code 0)\n\n- {ALLOWED}\n" in text
    assert "**No requests were made** (allowed by --allow-no-requests)." in text


def test_summary_md_of_an_empty_run_judged_by_a_check_on_requests(empty: RunResults) -> None:
    check_results = evaluate_checks(empty, ["requests>=0"])
    text = render_summary_md(empty, check_results, None, decide(empty, check_results))
    assert "**PASSED** (exit code 0)" in text
    assert "**No requests were made** (judged by the check on `requests` below)." in text
    assert "| `requests>=0` | PASS | 0 |" in text


def test_junit_fails_the_implicit_check(empty: RunResults) -> None:
    text = render_junit(empty, [], verdict_for(empty))
    case = junit_cases(text)["locust-fleet.requests/at least one request"]
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("type") == "NoRequests" and failure.get("message") == NO_REQUESTS
    suite = ET.fromstring(text.encode()).find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    assert junit_cases(text)["locust-fleet.requests/no failed requests"].find("*") is None


def test_junit_skips_the_implicit_check_when_allowed_or_omits_it_when_replaced(
    empty: RunResults,
) -> None:
    allowed = junit_cases(render_junit(empty, [], None, allow_no_requests=True))
    skipped = allowed["locust-fleet.requests/at least one request"].find("skipped")
    assert skipped is not None and skipped.get("message") == ALLOWED
    replaced = junit_cases(render_junit(empty, evaluate_checks(empty, ["requests>=0"])))
    assert "locust-fleet.requests/at least one request" not in replaced
    assert replaced["locust-fleet.checks/requests>=0"].find("failure") is None


def test_console_says_no_requests_were_made(empty: RunResults) -> None:
    console = Console(record=True, width=160, soft_wrap=True, color_system=None)  # as in CI logs
    verdict = verdict_for(empty)
    print_summary(console, empty, [], verdict, decide(empty, [], verdict))
    text = console.export_text()
    assert "No requests were made." in text
    assert f"exit 3: {NO_REQUESTS}" in text


def test_analyse_writes_the_reports_of_an_empty_run(tmp_path: Path) -> None:
    run = make_empty_run(tmp_path / RUN_ID)
    failed = analyse(run, [], junit_path=tmp_path / "ci.xml")
    assert failed.outcome.code == 3
    assert f"- {NO_REQUESTS}" in failed.paths.summary_md.read_text()
    assert 'type="NoRequests"' in (tmp_path / "ci.xml").read_text()
    passed = analyse(run, [], allow_no_requests=True)
    assert passed.outcome.code == 0
    assert 'skipped message="no requests were made' in passed.paths.junit_xml.read_text()


# --- the flag: run, attach (and kept with the run), report ---------------------------------


def _home(run_dir: Path, record: dict) -> PlaybookOutcome:
    """What a playbook that brought ``run_dir`` home returns."""
    return PlaybookOutcome(
        rc=0,
        status="successful",
        stats={},
        failures=[],
        facts={},
        results={"locust_run_record": [{"record": record}]},
    )


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    path = tmp_path / "hosts.yml"
    path.write_text("all: {}\n")
    return path


@pytest.mark.parametrize("allow", [False, True])
def test_run_hands_allow_no_requests_to_the_playbook_and_the_verdict(
    tmp_path: Path, inventory: Path, monkeypatch: pytest.MonkeyPatch, allow: bool
) -> None:
    seen: dict = {}

    def playbook(name, _inventory, variables, *_args, **_kwargs):
        seen.update(variables, name=name)
        run_dir = Path(variables["locust_results_dir"]) / variables["locust_run_id"]
        shutil.rmtree(run_dir)
        make_empty_run(run_dir, allow_no_requests=variables["locust_run_allow_no_requests"])
        return _home(run_dir, {"run_id": variables["locust_run_id"]})

    monkeypatch.setattr(fleet, "playbook", playbook)
    result = fleet.run(
        inventory, "plan", 1, 1, "10s", results_dir=tmp_path / "results", allow_no_requests=allow
    )
    assert seen["name"] == "run_test" and seen["locust_run_allow_no_requests"] is allow
    assert result.exit_code == (0 if allow else 3)
    assert result.messages == [ALLOWED if allow else NO_REQUESTS]


@pytest.mark.parametrize(
    ("kept", "given", "code"), [(False, False, 3), (True, False, 0), (False, True, 0)]
)
def test_attach_applies_allow_no_requests_kept_with_the_run(
    tmp_path: Path,
    inventory: Path,
    monkeypatch: pytest.MonkeyPatch,
    kept: bool,
    given: bool,
    code: int,
) -> None:
    results = tmp_path / "results"
    make_empty_run(results / RUN_ID, allow_no_requests=kept)
    monkeypatch.setattr(
        fleet, "playbook", lambda *a, **k: _home(results / RUN_ID, {"run_id": RUN_ID})
    )
    result = fleet.attach(inventory, RUN_ID, results_dir=results, allow_no_requests=given)
    assert result.exit_code == code


def test_the_cli_flags_reach_the_library_and_the_exit_code(
    tmp_path: Path, inventory: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    run = make_empty_run(tmp_path / RUN_ID)
    given: list[tuple[str, bool]] = []

    def judged(verb: str):
        def call(*_args, allow_no_requests: bool = False, **_kwargs) -> fleet.RunResult:
            given.append((verb, allow_no_requests))
            analysis = analyse(run, [], allow_no_requests=allow_no_requests)
            return fleet.RunResult(int(analysis.outcome.code), RUN_ID, run, [], analysis)

        return call

    monkeypatch.setattr(fleet, "run", judged("run"))
    monkeypatch.setattr(fleet, "attach", judged("attach"))
    start = ["run", "-i", str(inventory), "--plan", "p", "-u", "1", "-r", "1", "-t", "5s"]
    assert main(start) == 3
    out = capsys.readouterr().out
    assert "No requests were made." in out and f"exit 3: {NO_REQUESTS}" in out
    assert main([*start, "--allow-no-requests"]) == 0
    assert f"exit 0: {ALLOWED}" in capsys.readouterr().out
    assert main(["attach", "-i", str(inventory), RUN_ID, "--allow-no-requests"]) == 0
    assert main(["attach", "-i", str(inventory), RUN_ID]) == 3
    assert given == [("run", False), ("run", True), ("attach", True), ("attach", False)]
    assert main(["report", str(run)]) == 3
    assert main(["report", str(run), "--allow-no-requests"]) == 0
