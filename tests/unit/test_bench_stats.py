"""The bench's pure parts: medians, ratios, CPU-seconds, wrk parsing, the bounded
capacity search and failure causes."""

from __future__ import annotations

import pytest

from locust_fleet.bench import stats
from locust_fleet.bench.stats import SearchPolicy, next_users

WRK_OUTPUT = """Running 10s test @ http://10.213.77.20/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.90ms    0.31ms  12.04ms   93.10%
    Req/Sec    56.26k     3.01k   60.39k    79.00%
  559805 requests in 10.00s, 420.21MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 5
Requests/sec:  55948.27
Transfer/sec:     42.00MB
"""


def test_median_ignores_missing_values_and_is_none_without_any() -> None:
    assert stats.median([3, None, 1, 2]) == 2
    assert stats.median([4, 1, 2, 3]) == 2.5
    assert stats.median([None, None]) is None


def test_ratio_guards_missing_and_zero() -> None:
    assert stats.ratio(3, 2) == 1.5
    assert stats.ratio(None, 2) is None
    assert stats.ratio(1, 0) is None


def test_cpu_seconds_and_requests_per_cpu_second() -> None:
    # 3 samples of 1 s at 100%, 50%, 50% of a core = 2 CPU-seconds
    assert stats.cpu_seconds([100, 50, 50]) == pytest.approx(2.0)
    assert stats.per_cpu_second(3000, 2.0) == pytest.approx(1500.0)
    assert stats.per_cpu_second(3000, 0.0) is None


def test_linear_efficiency_is_against_the_smallest_row() -> None:
    eff = stats.linear_efficiency({1: 1000.0, 2: 1800.0, 4: 2000.0})
    assert eff == {1: pytest.approx(1.0), 2: pytest.approx(0.9), 4: pytest.approx(0.5)}
    assert stats.linear_efficiency({1: None, 2: 5.0})[2] is None


def test_parse_wrk_reads_totals_rate_and_errors() -> None:
    result = stats.parse_wrk(WRK_OUTPUT)
    assert result.requests == 559805
    assert result.seconds == pytest.approx(10.0)
    assert result.requests_per_s == pytest.approx(55948.27)
    assert result.errors == 10


def test_parse_wrk_refuses_output_without_a_summary() -> None:
    with pytest.raises(ValueError, match="no wrk summary"):
        stats.parse_wrk("unable to connect to 10.213.77.20:80 Connection refused")


def _search(policy: SearchPolicy, holds_up_to: int) -> list[int]:
    """Run the search against a fleet that holds any count up to ``holds_up_to``."""
    history: list[tuple[int, bool]] = []
    while (users := next_users(history, policy)) is not None:
        history.append((users, users <= holds_up_to))
        assert len(history) <= policy.max_steps
    return [u for u, _ in history]


def test_search_grows_then_bisects_between_pass_and_failure() -> None:
    policy = SearchPolicy(start=1000, cap=64000, factor=2, max_steps=8, resolution=1000)
    assert _search(policy, holds_up_to=5000) == [1000, 2000, 4000, 8000, 6000, 5000]
    history = [(u, u <= 5000) for u in [1000, 2000, 4000, 8000, 6000, 5000]]
    assert stats.best_pass(history) == 5000
    assert stats.first_fail(history) == 6000


def test_search_stops_at_the_cap_when_everything_holds() -> None:
    policy = SearchPolicy(start=8000, cap=32000, factor=2, max_steps=5, resolution=4000)
    assert _search(policy, holds_up_to=10**9) == [8000, 16000, 32000]


def test_search_never_exceeds_max_steps() -> None:
    policy = SearchPolicy(start=8000, cap=32000, factor=2, max_steps=3, resolution=1000)
    assert _search(policy, holds_up_to=20000) == [8000, 16000, 32000]


def test_search_shrinks_to_the_floor_when_the_first_step_fails() -> None:
    policy = SearchPolicy(start=1000, cap=8000, factor=2, max_steps=6, resolution=100, floor=200)
    tried = _search(policy, holds_up_to=0)
    assert tried == [1000, 500, 250, 200]


def test_search_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        SearchPolicy(start=100, cap=50)
    with pytest.raises(ValueError):
        SearchPolicy(start=100, cap=500, factor=1)


def test_failure_causes_are_named_from_messages() -> None:
    messages = [
        "OSError(24, 'Too many open files')",
        "ConnectionRefusedError(111, 'Connection refused')",
        "[Errno 99] Cannot assign requested address",
        "ConnectTimeoutError: timed out",
    ]
    assert stats.failure_causes(messages) == [
        "open-file limit",
        "port exhaustion",
        "timeouts",
        "connections refused/reset by the target",
    ]
    assert stats.failure_causes(["all good"]) == []


def test_describe_step_says_held_or_why_not() -> None:
    kwargs = {"saturation_summary": "SATURATED: w1", "causes": ["timeouts"]}
    assert stats.describe_step(failures=0, requests=10, saturated=False, **kwargs) == "held"
    text = stats.describe_step(failures=3, requests=10, saturated=True, **kwargs)
    assert "3 of 10 requests failed (timeouts)" in text and "SATURATED: w1" in text
    assert stats.describe_step(
        failures=0, requests=0, saturated=False, error="workers missing", **kwargs
    ).startswith("orchestration error")


def test_locusts_own_start_and_stop_are_read_from_the_master_log(tmp_path) -> None:
    from locust_fleet.bench.harness import _locust_own_seconds

    log = tmp_path / "master.log"
    log.write_text(
        "[2026-12-03 15:26:25,126] m/INFO/locust.main: Starting Locust 2.47.0\n"
        "[2026-12-03 15:26:25,142] m/INFO/locust.runners: w1 (index 0) reported as ready.\n"
        "[2026-12-03 15:26:26,131] m/INFO/locust.main: Run time limit set to 10 seconds\n"
        "[2026-12-03 15:26:36,132] m/INFO/locust.main: --run-time limit reached, shutting down\n"
        "[2026-12-03 15:26:37,183] m/INFO/locust.main: Shutting down (exit code 0)\n"
    )
    assert abs(_locust_own_seconds(log) - (1.005 + 1.051)) < 1e-6
    log.write_text("[2026-12-03 15:26:25,126] m/INFO/locust.main: Starting Locust 2.47.0\n")
    assert _locust_own_seconds(log) is None
    assert _locust_own_seconds(tmp_path / "absent.log") is None
