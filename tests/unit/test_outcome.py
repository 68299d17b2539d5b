"""The exit-code policy: 0 pass, 1 failed requests, 2 error, 3 check failed, 4 saturated."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from locust_fleet.checks import evaluate_checks
from locust_fleet.outcome import ExitCode, decide, exit_code
from locust_fleet.results import RunResults, load_run
from locust_fleet.saturation import verdict_for

DATA = Path(__file__).resolve().parents[1] / "data" / "runs"


@pytest.fixture(scope="module")
def distributed() -> RunResults:
    """Real run: 363 of 3168 requests failed (404), light CPU, no exceptions."""
    return load_run(DATA / "distributed")


@pytest.fixture(scope="module")
def clean(distributed: RunResults) -> RunResults:
    """The same run with no failed requests."""
    agg = dataclasses.replace(distributed.aggregated, failure_count=0, failures_per_s=0.0)
    return dataclasses.replace(distributed, aggregated=agg, failures=())


@pytest.fixture(scope="module")
def saturated() -> RunResults:
    return load_run(DATA / "saturated")


def test_clean_run_passes(clean: RunResults) -> None:
    checks = evaluate_checks(clean, ["p95<500"])
    outcome = decide(clean, checks, verdict_for(clean))
    assert outcome.code == ExitCode.OK == 0
    assert outcome.passed and outcome.explain() == "exit 0: passed"


def test_failed_requests_without_checks_exit_1_as_locust(distributed: RunResults) -> None:
    outcome = decide(distributed, [], verdict_for(distributed))
    assert outcome.code == 1
    assert outcome.explain() == "exit 1: 363 of 3168 requests failed"


def test_a_passing_fail_ratio_check_is_the_users_tolerance(distributed: RunResults) -> None:
    checks = evaluate_checks(distributed, ["fail_ratio<0.2"])
    assert exit_code(distributed, checks, verdict_for(distributed)) == 0


def test_an_endpoint_failure_check_does_not_cover_all_failures(distributed: RunResults) -> None:
    checks = evaluate_checks(distributed, ["GET /:fail_ratio<0.01"])
    assert checks[0].passed
    assert exit_code(distributed, checks, verdict_for(distributed)) == 1


def test_failed_check_exits_3_and_outranks_failed_requests(distributed: RunResults) -> None:
    checks = evaluate_checks(distributed, ["p95<0.001"])
    outcome = decide(distributed, checks, verdict_for(distributed))
    assert outcome.code == 3
    assert [code for code, _ in outcome.reasons] == [3, 1]


def test_exceptions_in_the_plan_exit_1_even_with_a_failure_check(saturated: RunResults) -> None:
    checks = evaluate_checks(saturated, ["fail_ratio<0.01"])
    outcome = decide(saturated, checks, None)
    assert outcome.code == 1
    assert "158 exception(s) in the test plan" in outcome.explain()


def test_saturation_exits_4_and_outranks_a_failed_check(saturated: RunResults) -> None:
    checks = evaluate_checks(saturated, ["p95<1"])
    outcome = decide(saturated, checks, verdict_for(saturated))
    assert outcome.code == ExitCode.SATURATED == 4
    assert [code for code, _ in outcome.reasons] == [4, 3, 1]
    assert outcome.reasons[0][1].startswith("SATURATED: worker")


def test_allow_saturated(saturated: RunResults) -> None:
    checks = evaluate_checks(saturated, ["p95<1"])
    outcome = decide(saturated, checks, verdict_for(saturated), allow_saturated=True)
    assert outcome.code == 3
    assert "allowed by --allow-saturated" in outcome.explain()


def test_errors_outrank_everything(saturated: RunResults) -> None:
    checks = evaluate_checks(saturated, ["p95<1"])
    outcome = decide(saturated, checks, verdict_for(saturated), errors=["host w2 unreachable"])
    assert outcome.code == ExitCode.ERROR == 2
    assert outcome.reasons[0] == (2, "host w2 unreachable")
    assert exit_code(None) == 2
    assert decide(None).explain() == "exit 2: the run produced no results"


def test_abnormal_master_exit_is_an_error(clean: RunResults) -> None:
    meta = dataclasses.replace(clean.metadata, master_exit_code=2)
    crashed = dataclasses.replace(clean, metadata=meta)
    outcome = decide(crashed, [], None)
    assert outcome.code == 2
    assert "the Locust master exited with code 2" in outcome.explain()


def test_an_error_recorded_in_run_json_is_exit_2(clean: RunResults) -> None:
    meta = dataclasses.replace(clean.metadata, error="host w2 never connected")
    outcome = decide(dataclasses.replace(clean, metadata=meta), [], None)
    assert outcome.code == 2
    assert outcome.explain() == "exit 2: host w2 never connected"


def test_run_jsons_error_passed_by_the_caller_too_is_said_once(clean: RunResults) -> None:
    meta = dataclasses.replace(clean.metadata, error="the master host m1 rebooted")
    outcome = decide(dataclasses.replace(clean, metadata=meta), [], None, errors=[meta.error])
    assert outcome.explain() == "exit 2: the master host m1 rebooted"


def test_a_worker_systemd_gave_up_on_is_exit_2_naming_host_unit_and_journal(
    clean: RunResults,
) -> None:
    from locust_fleet.results.model import RunEvent

    gave_up = RunEvent(
        None, "w2", "worker_gave_up", "locust-worker@1.service could not start (...)"
    )
    meta = dataclasses.replace(clean.metadata, events=(gave_up,))
    outcome = decide(dataclasses.replace(clean, metadata=meta), [], None)
    assert outcome.code == 2
    assert "w2: locust-worker@1.service could not start" in outcome.explain()
    assert "journals/w2.log" in outcome.explain()
