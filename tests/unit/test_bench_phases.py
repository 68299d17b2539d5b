"""The bench cuts a held-users run into ramp, hold and teardown (issue 12): each phase's
CPU-seconds and the workers' memory per 1,000 users."""

from datetime import UTC, datetime, timedelta

from locust_fleet.bench.phases import marks, phases
from locust_fleet.results.model import CpuSample, LimitSample

T0 = datetime(2026, 12, 4, 1, 44, 9, tzinfo=UTC)
LOG = """[2026-12-04 01:44:09,000] m/INFO/locust.main: Run time limit set to 30 seconds
[2026-12-04 01:44:09,000] m/INFO/locust.runners: Sending spawn jobs of 2000 users at 200.00
[2026-12-04 01:44:19,000] m/INFO/locust.runners: All users spawned: {"U": 2000} (2000 total users)
[2026-12-04 01:44:39,000] m/INFO/locust.main: --run-time limit reached, shutting down
"""


def _cpu(second: int, percent: float, role: str = "worker") -> CpuSample:
    return CpuSample(
        T0 + timedelta(seconds=second), "w1", role, "locust-worker@1.service", 7, percent, 0.0
    )


def _rss(second: int, kb: int) -> LimitSample:
    return LimitSample(
        T0 + timedelta(seconds=second),
        "w1",
        "process_memory",
        "locust-worker@1.service[7]",
        kb,
        10**7,
    )


def test_marks_are_read_from_the_master_log():
    found = marks(LOG)
    assert found["ramp"] == T0
    assert found["hold"] == T0 + timedelta(seconds=10)
    assert found["teardown"] == T0 + timedelta(seconds=30)


def test_each_phase_has_its_own_cpu_and_memory():
    cpu = [_cpu(s, 50.0) for s in range(1, 11)]  # ramp: 10 s at half a core
    cpu += [_cpu(s, 10.0) for s in range(11, 31)]  # hold: 20 s at a tenth
    cpu += [_cpu(s, 100.0) for s in range(31, 36)]  # teardown: 5 s at a whole core
    cpu += [_cpu(s, 5.0, role="master") for s in range(1, 31)]
    rss = [_rss(10, 100 * 1024), _rss(30, 120 * 1024), _rss(35, 60 * 1024)]
    ramp, hold, teardown = phases(2000, marks(LOG), cpu, rss)
    assert (ramp.seconds, ramp.cpu_s) == (10.0, 5.5)  # workers 5.0 + master 0.5
    assert ramp.cpu_s_per_1000_users == 2.75
    assert ramp.worker_rss_mb == 100 and ramp.rss_mb_per_1000_users == 50.0
    assert (hold.seconds, hold.cpu_s) == (20.0, 3.0)
    assert hold.core_percent_per_1000_users == 7.5  # 3 CPU-s / 20 s / 2 (thousand users)
    assert hold.largest_process_rss_mb == 120
    assert (teardown.seconds, teardown.cpu_s) == (5.0, 5.0)
    assert teardown.worker_rss_mb == 60


def test_a_run_without_all_marks_has_no_phases():
    assert phases(2000, marks(LOG.splitlines()[0]), [_cpu(1, 1.0)], []) == []
